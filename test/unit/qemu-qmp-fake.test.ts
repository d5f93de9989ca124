// QMP and guest-agent clients against fake sockets: id mismatch, timeouts, late answers,
// garbage before the sync delimiter, a channel that closes on guest-shutdown, and the caps on
// what a guest (or QEMU) may send without end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import type { QmpError } from '../../src/agent/qemu/qmp.ts';
import { QmpClient } from '../../src/agent/qemu/qmp.ts';
import type { GuestAgentError } from '../../src/agent/qemu/guest-agent.ts';
import { GuestAgentClient } from '../../src/agent/qemu/guest-agent.ts';
import { until } from '../helpers/until.ts';
import { fakeSocketServer, qmpGreeting } from '../helpers/fake-qmp.ts';

test('qmp: handshake, answers matched by id, events emitted', async () => {
  const srv = await fakeSocketServer(qmpGreeting, (msg, sock) => {
    if (msg.execute === 'query-status') {
      sock.write(
        JSON.stringify({ event: 'RESUME', data: {}, timestamp: { seconds: 1, microseconds: 2 } }) + '\n',
      );
      sock.write(JSON.stringify({ return: { status: 'running', running: true }, id: msg.id }) + '\n');
    } else if (msg.execute === 'bad') {
      sock.write(
        JSON.stringify({
          error: { class: 'CommandNotFound', desc: 'The command bad has not been found' },
          id: msg.id,
        }) + '\n',
      );
    } else sock.write(JSON.stringify({ return: {}, id: msg.id }) + '\n');
  });
  const c = await QmpClient.connect(srv.path);
  try {
    const events: string[] = [];
    c.on('event', (e: { event: string }) => events.push(e.event));
    const st = await c.execute<{ status: string }>('query-status');
    assert.equal(st.status, 'running');
    assert.deepEqual(events, ['RESUME']);
    await assert.rejects(
      c.execute('bad'),
      (e: QmpError) => e.errorClass === 'CommandNotFound' && !e.timedOut,
    );
  } finally {
    c.close();
    await srv.close();
  }
});

test('qmp: an answer with the wrong id is a protocol error, not a silent success', async () => {
  const srv = await fakeSocketServer(qmpGreeting, (msg, sock) => {
    if (msg.execute === 'qmp_capabilities') sock.write(JSON.stringify({ return: {}, id: msg.id }) + '\n');
    else sock.write(JSON.stringify({ return: { status: 'running' }, id: 'someone-else-42' }) + '\n');
  });
  const c = await QmpClient.connect(srv.path);
  try {
    c.on('protocol_error', () => undefined);
    await assert.rejects(
      c.execute('query-status'),
      (e: QmpError) => e.errorClass === 'ProtocolError' && /someone-else-42/.test(e.message),
    );
    assert.equal(c.closed, true);
  } finally {
    c.close();
    await srv.close();
  }
});

test('qmp: per-command timeout with a short default; a late answer is dropped', async () => {
  let slowId: unknown;
  const srv = await fakeSocketServer(qmpGreeting, (msg, sock) => {
    if (msg.execute === 'slow') {
      slowId = msg.id;
      return; // answered late, below
    }
    if (msg.execute === 'query-status' && slowId !== undefined) {
      sock.write(JSON.stringify({ return: 'late', id: slowId }) + '\n');
      slowId = undefined;
    }
    sock.write(JSON.stringify({ return: 'ok', id: msg.id }) + '\n');
  });
  const c = await QmpClient.connect(srv.path, { timeouts: { default: 150 } });
  try {
    assert.equal(c.timeoutFor('block_resize'), 30_000);
    assert.equal(c.timeoutFor('whatever'), 150);
    const t0 = Date.now();
    await assert.rejects(c.execute('slow'), (e: QmpError) => e.timedOut && e.command === 'slow');
    assert.ok(Date.now() - t0 < 1_000);
    assert.equal(await c.execute('query-status'), 'ok');
    assert.equal(c.closed, false);
  } finally {
    c.close();
    await srv.close();
  }
});

test('qmp: no greeting → timeout; close rejects pending commands', async () => {
  const silent = await fakeSocketServer(
    () => undefined,
    () => undefined,
  );
  try {
    await assert.rejects(QmpClient.connect(silent.path, { timeoutMs: 200 }), (e: QmpError) => e.timedOut);
  } finally {
    await silent.close();
  }
  const srv = await fakeSocketServer(qmpGreeting, (msg, sock) => {
    if (msg.execute === 'qmp_capabilities') sock.write(JSON.stringify({ return: {}, id: msg.id }) + '\n');
  });
  const c = await QmpClient.connect(srv.path);
  const p = c.execute('never');
  const closed = new Promise((r) => c.once('close', r));
  c.close();
  await assert.rejects(p, (e: QmpError) => e.errorClass === 'Closed');
  await closed;
  await srv.close();
});

test('guest agent: garbage and stale answers before the 0xFF delimiter are skipped', async () => {
  const srv = await fakeSocketServer(
    () => undefined,
    (msg, sock) => {
      if (msg.execute === 'guest-sync-delimited') {
        const id = (msg.arguments as { id: number }).id;
        sock.write('{"return": 12345}\n garbage \x00\x01');
        sock.write(
          Buffer.concat([Buffer.from([0xff]), Buffer.from(JSON.stringify({ return: id - 1 }) + '\n')]),
        );
        sock.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(JSON.stringify({ return: id }) + '\n')]));
      } else if (msg.execute === 'guest-ping') sock.write(JSON.stringify({ return: {}, id: msg.id }) + '\n');
      else if (msg.execute === 'guest-exec')
        sock.write(JSON.stringify({ return: { pid: 7 }, id: msg.id }) + '\n');
      else if (msg.execute === 'guest-exec-status')
        sock.write(
          JSON.stringify({
            return: {
              exited: true,
              exitcode: 3,
              'out-data': Buffer.from('hello\n').toString('base64'),
              'err-data': Buffer.from('oops').toString('base64'),
            },
            id: msg.id,
          }) + '\n',
        );
      else if (msg.execute === 'guest-shutdown') sock.destroy();
    },
  );
  const ga = new GuestAgentClient(srv.path);
  try {
    assert.equal(await ga.ping(), true);
    const r = await ga.exec(['sh', '-c', 'echo hello; exit 3']);
    assert.deepEqual([r.exitCode, r.stdout, r.stderr, r.timedOut], [3, 'hello\n', 'oops', false]);
    // guest-shutdown closes the channel: that is success.
    await ga.execute('guest-shutdown', { mode: 'powerdown' });
  } finally {
    ga.close();
    await srv.close();
  }
});

test('guest agent: absent agent → sync timeout, never a hang', async () => {
  const srv = await fakeSocketServer(
    () => undefined,
    () => undefined,
  );
  const ga = new GuestAgentClient(srv.path, { timeouts: { 'guest-sync-delimited': 200 } });
  try {
    const t0 = Date.now();
    await assert.rejects(ga.execute('guest-info'), (e: GuestAgentError) => e.timedOut);
    assert.ok(Date.now() - t0 < 1_500);
    assert.equal(await ga.ping(200), false);
  } finally {
    ga.close();
    await srv.close();
  }
});

// ---- Unbounded input from the guest side: the caps (guest agent, QMP).

const FLOOD_LIMIT = 64 * 1024 * 1024; // the fake stops there, so old code times out instead of eating memory

/** Writes `chunk` again and again (no newline) until the peer goes or FLOOD_LIMIT bytes are out. */
function flood(sock: net.Socket, sent: { bytes: number }): void {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const pump = () => {
    while (!sock.destroyed && sent.bytes < FLOOD_LIMIT) {
      sent.bytes += chunk.length;
      if (!sock.write(chunk)) {
        sock.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

const syncReply = (msg: Record<string, unknown>, sock: net.Socket) =>
  sock.write(
    Buffer.concat([
      Buffer.from([0xff]),
      Buffer.from(JSON.stringify({ return: (msg.arguments as { id: number }).id }) + '\n'),
    ]),
  );

test('guest agent: an answer without end is cut off at the cap with a clear error, then the channel resyncs', async () => {
  let endless = true;
  const sent = { bytes: 0 };
  const srv = await fakeSocketServer(
    () => undefined,
    (msg, sock) => {
      if (msg.execute === 'guest-sync-delimited') syncReply(msg, sock);
      else if (msg.execute === 'guest-info') {
        if (!endless) return sock.write(JSON.stringify({ return: { version: '7.2' }, id: msg.id }) + '\n');
        sock.write('{"return": "');
        flood(sock, sent);
      }
    },
  );
  const cap = 256 * 1024;
  const ga = new GuestAgentClient(srv.path, { maxMessageBytes: cap });
  try {
    await assert.rejects(
      ga.execute('guest-info'),
      (e: GuestAgentError) =>
        e.errorClass === 'TooLarge' &&
        e.command === 'guest-info' &&
        !e.timedOut &&
        e.message.includes(`more than ${cap} bytes`),
    );
    assert.ok(sent.bytes > cap, `the fake sent ${sent.bytes} bytes`);
    assert.ok(ga.buffered <= cap, `${ga.buffered} bytes held`);
    endless = false;
    assert.deepEqual(await ga.execute('guest-info'), { version: '7.2' }, 'the next command resyncs');
  } finally {
    ga.close();
    await srv.close();
  }
});

test('guest agent: bytes the guest pushes while no command waits are capped too (connection cut, next command resyncs)', async () => {
  const sent = { bytes: 0 };
  const cut = new Set<net.Socket>();
  let pushed = false;
  const srv = await fakeSocketServer(
    (sock) => sock.once('close', () => cut.add(sock)),
    (msg, sock) => {
      if (msg.execute === 'guest-sync-delimited') syncReply(msg, sock);
      else if (msg.execute === 'guest-ping') {
        sock.write(JSON.stringify({ return: {}, id: msg.id }) + '\n');
        if (!pushed) {
          pushed = true;
          setImmediate(() => flood(sock, sent)); // unasked, after the answer
        }
      }
    },
  );
  const cap = 128 * 1024;
  const ga = new GuestAgentClient(srv.path, { maxMessageBytes: cap });
  try {
    assert.equal(await ga.ping(), true);
    await until('the client to cut the flooding connection', async () => cut.size === 1, 10_000);
    assert.ok(ga.buffered <= cap, `${ga.buffered} bytes held`);
    assert.equal(await ga.ping(), true, 'a new connection, in step again');
  } finally {
    ga.close();
    await srv.close();
  }
});

test('qmp: a message without end fails the command in flight with a clear error and closes the connection', async () => {
  const sent = { bytes: 0 };
  const srv = await fakeSocketServer(qmpGreeting, (msg, sock) => {
    if (msg.execute === 'qmp_capabilities') sock.write(JSON.stringify({ return: {}, id: msg.id }) + '\n');
    else {
      sock.write('{"return": "');
      flood(sock, sent);
    }
  });
  const cap = 256 * 1024;
  const c = await QmpClient.connect(srv.path, { maxMessageBytes: cap });
  try {
    c.on('protocol_error', () => undefined);
    await assert.rejects(
      c.execute('query-status'),
      (e: QmpError) =>
        e.errorClass === 'TooLarge' &&
        e.command === 'query-status' &&
        !e.timedOut &&
        e.message.includes(`exceeds ${cap} bytes`),
    );
    assert.ok(sent.bytes > cap, `the fake sent ${sent.bytes} bytes`);
    assert.equal(c.closed, true, 'closed: the driver reconnects to get back in step');
  } finally {
    c.close();
    await srv.close();
  }
});
