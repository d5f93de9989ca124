// Console logs at a terminal: one readable line per request and per event (prettyLine), JSON
// kept as is elsewhere (wantsPretty).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prettyLine, wantsPretty } from '../../src/control/pretty-log.ts';

const at = Date.UTC(2030, 0, 2, 12, 3, 4, 120);

describe('pretty log lines', () => {
  it('a request is one line: time, method, path, status, ms', () => {
    const json = JSON.stringify({
      level: 30,
      time: at,
      pid: 1,
      hostname: 'h',
      reqId: 'req-1',
      req: { method: 'GET', url: '/v1/vps', host: 'x', remoteAddress: '127.0.0.1' },
      res: { statusCode: 200 },
      responseTime: 3.14,
      msg: 'request completed',
    });
    assert.equal(prettyLine(json, { color: false }), '12:03:04.120 GET /v1/vps 200 3.1 ms\n');
  });

  it('an event shows its level, message and fields; an error its stack, indented', () => {
    const line = prettyLine(
      JSON.stringify({
        level: 30,
        time: at,
        pid: 1,
        msg: 'infogere is up',
        url: 'http://127.0.0.1:8080',
        n: 3,
      }),
      { color: false },
    );
    assert.equal(line, '12:03:04.120 INFO  infogere is up url=http://127.0.0.1:8080 n=3\n');
    const err = prettyLine(
      JSON.stringify({
        level: 50,
        time: at,
        msg: 'VM event not recorded',
        event: { vmId: 'a b' },
        err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x.ts:1' },
      }),
      { color: false },
    );
    assert.equal(
      err,
      '12:03:04.120 ERROR VM event not recorded event={"vmId":"a b"}\n    Error: boom\n        at x.ts:1\n',
    );
  });

  it('colours only when asked; a line that is not JSON passes unchanged', () => {
    const json = JSON.stringify({
      level: 30,
      time: at,
      req: { method: 'POST', url: '/x' },
      res: { statusCode: 500 },
    });
    const ESC = String.fromCharCode(27);
    assert.ok(prettyLine(json, { color: true }).includes(`${ESC}[31m500${ESC}[0m`));
    assert.ok(!prettyLine(json, { color: false }).includes(ESC));
    assert.equal(prettyLine('plain text\n', { color: false }), 'plain text\n');
  });

  it('auto is pretty on a terminal only; pretty and json force it', () => {
    assert.equal(wantsPretty('auto', { isTTY: true }), true);
    assert.equal(wantsPretty('auto', { isTTY: false }), false);
    assert.equal(wantsPretty('auto', {}), false);
    assert.equal(wantsPretty('pretty', {}), true);
    assert.equal(wantsPretty('json', { isTTY: true }), false);
  });
});
