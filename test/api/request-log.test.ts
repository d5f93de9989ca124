// The request log as `make up` shows it at a terminal: one readable line per request (method,
// path without its query, status, ms), through the platform's own logger and app.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildApp, createLogger } from '../../src/control/app.ts';
import { prettyDestination } from '../../src/control/pretty-log.ts';
import { testApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => t.close());

describe('request logs', () => {
  it('pretty: one line per request, "METHOD path status N ms", the query string omitted', async () => {
    const lines: string[] = [];
    const app = await buildApp(t.services, {
      logger: createLogger(
        'info',
        prettyDestination({ color: false }, { write: (s: string) => lines.push(s) }),
      ),
      webDir: path.join(t.dataDir, 'no-panel'),
    });
    await app.ready();
    try {
      await app.inject({ method: 'GET', url: '/healthz' });
      await app.inject({ method: 'GET', url: '/v1/no-such-route?token=secret-value' });
      await app.inject({ method: 'GET', url: '/v1/vps' });
    } finally {
      await app.close();
    }
    const requests = lines.filter((l) => / \d{3} [\d.]+ ms\n$/.test(l));
    assert.equal(requests.length, 3, lines.join(''));
    assert.match(requests[0]!, /^\d\d:\d\d:\d\d\.\d{3} GET \/healthz 200 [\d.]+ ms\n$/);
    assert.match(
      requests[1]!,
      /^\d\d:\d\d:\d\d\.\d{3} GET \/v1\/no-such-route\?\[query omitted\] 404 [\d.]+ ms\n$/,
    );
    assert.match(requests[2]!, /^\d\d:\d\d:\d\d\.\d{3} GET \/v1\/vps 401 [\d.]+ ms\n$/);
    assert.ok(!lines.join('').includes('secret-value'));
  });

  it('json (not a terminal): one JSON object per request with its status and time', async () => {
    const lines: string[] = [];
    const app = await buildApp(t.services, {
      logger: createLogger('info', { write: (s: string) => void lines.push(s) }),
      webDir: path.join(t.dataDir, 'no-panel'),
    });
    await app.ready();
    try {
      await app.inject({ method: 'GET', url: '/healthz' });
    } finally {
      await app.close();
    }
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = entries.filter((e) => e.req);
    assert.equal(requests.length, 1, lines.join(''));
    assert.deepEqual((requests[0]!.req as { method: string; url: string }).url, '/healthz');
    assert.deepEqual(requests[0]!.res, { statusCode: 200 });
    assert.equal(typeof requests[0]!.responseTime, 'number');
  });
});
