// The log store (R6.2): RFC 5425 frames over TLS (and plain TCP) from senders on loopback
// addresses standing for VPS addresses; off by default, unknown senders refused and counted,
// malformed frames counted, byte-identical download, survival across a new receiver and service
// (a restart), sealing and the hash chain, a segment there after 364 days and gone after 12
// months and a day (moved clock), quota, range and tenancy errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { zstdCompressSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { DAY } from '../../src/domain/clock.ts';
import { octetFrame, OctetCountingReader } from '../../src/domain/syslog.ts';
import { createLogStoreService } from '../../src/control/services/log-store.ts';
import { startSyslogReceiver, type SyslogReceiver } from '../../src/control/syslog-receiver.ts';
import { login, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { clientWithVps, legalWorld, type LegalWorld } from '../helpers/legal-fixtures.ts';
import { requests } from '../helpers/requests.ts';

const run = promisify(execFile);
let t: TestApp;
let w: LegalWorld;
let rx: SyslogReceiver;
let tls: { cert: Buffer; key: Buffer };
let certDir: string;
const { get, put } = requests(() => t);

async function makeCert() {
  certDir = await mkdtemp(path.join(tmpdir(), 'syslog-cert-'));
  const cert = path.join(certDir, 'c.pem');
  const key = path.join(certDir, 'k.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=test-syslog',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert: await readFile(cert), key: await readFile(key) };
}

async function startRx(store = t.services.logStore) {
  return startSyslogReceiver(store, pino({ level: 'silent' }), {
    host: '127.0.0.1',
    tls: { port: 0, ...tls },
    tcpPort: 0,
    flushMs: 50,
  });
}

/** Sends frames over TLS from `from` (a loopback address standing for the VPS's), then closes. */
function sendTls(from: string, payload: string): Promise<'closed'> {
  return new Promise((resolve, reject) => {
    // The TCP socket first, bound to the sender's address; TLS over it, the certificate pinned.
    const socket = tcpConnect({ host: '127.0.0.1', port: rx.ports.tls!, localAddress: from });
    socket.on('error', () => {});
    const s = tlsConnect({ socket, ca: tls.cert, checkServerIdentity: () => undefined }, () =>
      s.end(payload),
    );
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve('closed') : reject(e)));
    s.on('close', () => resolve('closed'));
    s.resume();
  });
}

function sendTcp(from: string, payload: string): Promise<void> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port: rx.ports.tcp!, localAddress: from }, () =>
      s.end(payload),
    );
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.resume();
  });
}

/** A client with a VPS whose address is `address` (a loopback one: the test's sender). */
async function vpsAt(address: string) {
  const c = await clientWithVps(t, w);
  await t.database.db
    .updateTable('vps')
    .set({ ipv4: `${address}/32` })
    .where('id', '=', c.vpsId)
    .execute();
  return { ...c, session: await login(t, c.email) };
}

const line = (n: number, text = 'sshd[42]: Accepted publickey for camille from 203.0.113.5 port 51234') =>
  `<38>1 2026-03-01T09:00:0${n % 10}.000Z web1 sshd 42 - - ${text} #${n}`;

before(async () => {
  t = await testApp({ INFOGERE_SYSLOG_TLS_PORT: '6514' });
  w = await legalWorld(t);
  tls = await makeCert();
  rx = await startRx();
});
after(async () => {
  await rx?.stop();
  await t?.close();
  await rm(certDir, { recursive: true, force: true });
});

describe('syslog framing (R6.2)', () => {
  it('R6.2 octet counting: frames split anywhere are reassembled; a bad count breaks the stream; non-syslog counted', () => {
    const r = new OctetCountingReader();
    const bytes = new TextEncoder().encode(
      octetFrame(line(1)) + octetFrame('not syslog') + octetFrame(line(2)),
    );
    const got: string[] = [];
    for (let i = 0; i < bytes.length; i += 7)
      for (const m of r.push(bytes.subarray(i, i + 7))) got.push(new TextDecoder().decode(m));
    assert.deepEqual(got, [line(1), line(2)]);
    assert.equal(r.errors.bad_message, 1);
    r.push(new TextEncoder().encode('12x4 <1>1 abc'));
    assert.equal(r.broken, 'bad_length');
  });
});

describe('log store (R6.2)', () => {
  let a: Awaited<ReturnType<typeof vpsAt>>;
  before(async () => {
    a = await vpsAt('127.0.2.10');
  });

  it('R6.2 off by default: the VPS is refused until its client enables the store; the client gets the syslog line', async () => {
    const st = await get(`/v1/vps/${a.vpsId}/log-store`, a.session);
    assert.equal(st.statusCode, 200, st.body);
    assert.equal(st.json().enabled, false);
    assert.match(st.json().syslog.line, /6514/);
    const before = rx.stats.refusedUnknown;
    await sendTls('127.0.2.10', octetFrame(line(0)));
    assert.equal(rx.stats.refusedUnknown, before + 1);
    const on = await put(`/v1/vps/${a.vpsId}/log-store`, a.session, { enabled: true });
    assert.equal(on.statusCode, 200, on.body);
    assert.equal(on.json().enabled, true);
    await rx.refresh();
  });

  it('R6.2 frames over TLS land in the store and download byte-identical; an unknown sender is refused and counted', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => line(i));
    await sendTls('127.0.2.10', lines.map(octetFrame).join(''));
    const unknownBefore = rx.stats.refusedUnknown;
    await sendTls('127.0.2.99', octetFrame(line(9, 'spoofed')));
    assert.equal(rx.stats.refusedUnknown, unknownBefore + 1);
    await rx.flush();
    const day = t.clock.now().toISOString().slice(0, 10);
    const st = (await get(`/v1/vps/${a.vpsId}/log-store`, a.session)).json();
    assert.equal(st.days.length, 1);
    assert.equal(st.days[0].lines, 500);
    assert.ok(st.days[0].storedBytes < st.days[0].rawBytes);
    const dl = await get(`/v1/vps/${a.vpsId}/log-store/download?from=${day}&to=${day}`, a.session);
    assert.equal(dl.statusCode, 200, dl.body);
    assert.equal(dl.body, lines.join('\n') + '\n');
    assert.ok(!dl.body.includes('spoofed'));
  });

  it('R6.2 malformed frames are counted, well-formed ones around them kept; a broken count closes the connection', async () => {
    const m0 = rx.stats.malformed;
    await sendTcp(
      '127.0.2.10',
      octetFrame(line(501)) + octetFrame('hello, no PRI') + octetFrame(line(502)) + 'zz garbage',
    );
    await rx.flush();
    assert.equal(rx.stats.malformed, m0 + 2);
    const day = t.clock.now().toISOString().slice(0, 10);
    const dl = await get(`/v1/vps/${a.vpsId}/log-store/download?from=${day}&to=${day}`, a.session);
    assert.ok(dl.body.endsWith(`${line(501)}\n${line(502)}\n`));
  });

  it('R6.2 the store survives a restart: a new service and receiver append to the same day, all of it downloads', async () => {
    await rx.stop();
    const store = createLogStoreService(t.services.ctx, t.services.audit);
    rx = await startRx(store);
    await sendTls('127.0.2.10', octetFrame(line(600, 'after restart')));
    await rx.flush();
    const day = t.clock.now().toISOString().slice(0, 10);
    const dl = await get(`/v1/vps/${a.vpsId}/log-store/download?from=${day}&to=${day}`, a.session);
    const got = dl.body.split('\n').filter(Boolean);
    assert.equal(got.length, 503);
    assert.equal(got.at(-1), line(600, 'after restart'));
  });

  it('R6.2 range and tenancy: outside the 12 months is 400, another client’s VPS 404, staff may not download', async () => {
    const b = await vpsAt('127.0.2.11');
    const day = t.clock.now().toISOString().slice(0, 10);
    assert.equal(
      (await get(`/v1/vps/${a.vpsId}/log-store/download?from=${day}&to=${day}`, b.session)).statusCode,
      404,
    );
    const old = await get(`/v1/vps/${a.vpsId}/log-store/download?from=2024-01-01&to=${day}`, a.session);
    assert.equal(old.statusCode, 400);
    assert.equal(old.json().code, 'log_store.range');
    assert.equal(
      (await get(`/v1/vps/${a.vpsId}/log-store/download?from=${day}&to=2099-01-01`, a.session)).statusCode,
      400,
    );
    const s = await makeStaff(t, 'admin');
    const admin: Session = await login(t, s.email, { totpSecret: s.totpSecret });
    assert.equal(
      (await get(`/v1/vps/${a.vpsId}/log-store/download?from=${day}&to=${day}`, admin)).statusCode,
      403,
    );
    assert.equal((await get(`/v1/vps/${a.vpsId}/log-store`, admin)).statusCode, 200);
  });

  it('R6.2 quota: at 80 % the client is warned, at 100 % new lines are dropped and counted (both audited)', async () => {
    const q = await vpsAt('127.0.2.12');
    const on = await put(`/v1/vps/${q.vpsId}/log-store`, q.session, { enabled: true });
    assert.equal(on.statusCode, 200, on.body);
    // One line's frame is S bytes stored: a quota of S / 0.9 is 90 % used after it.
    const size = zstdCompressSync(Buffer.from(`${line(1)}\n`)).length;
    await t.database.db
      .updateTable('log_stores')
      .set({ quota_bytes: Math.ceil(size / 0.9) })
      .where('vps_id', '=', q.vpsId)
      .execute();
    await rx.refresh(); // this receiver listens to the restarted service, not the app's
    await sendTls('127.0.2.12', octetFrame(line(1)));
    await rx.flush();
    let st = (await get(`/v1/vps/${q.vpsId}/log-store`, q.session)).json();
    assert.deepEqual([st.warned, st.full], [true, false]);
    await sendTls('127.0.2.12', octetFrame(line(2)));
    await rx.flush();
    const dropped0 = rx.stats.dropped;
    await sendTls('127.0.2.12', octetFrame(line(3)) + octetFrame(line(4)));
    await rx.flush();
    assert.equal(rx.stats.dropped, dropped0 + 2);
    st = (await get(`/v1/vps/${q.vpsId}/log-store`, q.session)).json();
    assert.equal(st.full, true);
    assert.equal(st.days[0].dropped, 2);
    assert.equal(st.days[0].lines, 2);
    const actions = (
      await t.database.db.selectFrom('audit_log').select('action').where('target_id', '=', q.vpsId).execute()
    ).map((r) => r.action);
    assert.ok(actions.includes('log_store.warned') && actions.includes('log_store.full'), actions.join());
  });

  it('R6.2 a day is sealed into its VPS’s chain; a segment is there after 364 days and gone after 12 months and a day; a tampered segment is named', async () => {
    const day = t.clock.now().toISOString().slice(0, 10);
    const start = t.clock.now().getTime();
    t.clock.set(new Date(start + DAY));
    await sendTls('127.0.2.10', octetFrame(line(700, 'day two')));
    await rx.flush();
    const counts = await t.services.retention.purgeDue();
    assert.ok(counts['logStore.sealed']! >= 1);
    const v = await t.services.logStore.verify();
    assert.equal(v.ok, true, JSON.stringify(v.problems));

    const file = t.services.logStore.files.pathOf(a.vpsId, day);
    t.clock.set(new Date(start + 364 * DAY));
    await t.services.retention.purgeDue();
    a.session = await login(t, a.email);
    const kept = await get(`/v1/vps/${a.vpsId}/log-store/download?from=${day}&to=${day}`, a.session);
    assert.equal(kept.statusCode, 200, kept.body);
    assert.equal(kept.body.split('\n').filter(Boolean).length, 503);

    // Tampering with the kept day's file is found and named.
    const bytes = await readFile(file);
    await writeFile(file, Buffer.concat([bytes, Buffer.from([0x28, 0xb5, 0x2f, 0xfd])]));
    const bad = await t.services.logStore.verify();
    assert.equal(bad.ok, false);
    assert.deepEqual(bad.problems[0], {
      vpsId: a.vpsId,
      day,
      reason: 'segment file changed (sha256 differs)',
    });
    await writeFile(file, bytes);

    const twelveMonthsAndADay = new Date(start);
    twelveMonthsAndADay.setUTCFullYear(twelveMonthsAndADay.getUTCFullYear() + 1);
    t.clock.set(new Date(twelveMonthsAndADay.getTime() + DAY));
    const purged = await t.services.retention.purgeDue();
    assert.ok(purged['logStore.segments']! >= 1);
    await assert.rejects(readFile(file), { code: 'ENOENT' });
    a.session = await login(t, a.email);
    const gone = await get(`/v1/vps/${a.vpsId}/log-store/download?from=${day}&to=${day}`, a.session);
    assert.equal(gone.statusCode, 400);
    const st = (await get(`/v1/vps/${a.vpsId}/log-store`, a.session)).json();
    assert.ok(!st.days.some((d: { day: string }) => d.day === day));
    // The deleted segment's row keeps its hashes: the chain still verifies.
    assert.equal((await t.services.logStore.verify()).ok, true);
  });
});
