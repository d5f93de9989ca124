// The retention schedule (R12.4): connection records with address and source port, the daily
// purge on a moved clock (identity 5 years after the contract ends and not before, account data
// 1 year after, connection records and IPv4 history 1 year), its idempotence, and the staff views.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DAY } from '../../src/domain/clock.ts';
import { addMonthsUtc, RETENTION_SCHEDULE } from '../../src/domain/retention.ts';
import { allJobs } from '../../src/control/jobs/registry.ts';
import { RETENTION_PURGE_JOB } from '../../src/control/jobs/retention.ts';
import path from 'node:path';
import { buildApp } from '../../src/control/app.ts';
import { login, makeStaff, PASSWORD, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { clientWithVps, endContract, legalWorld, type LegalWorld } from '../helpers/legal-fixtures.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let w: LegalWorld;
const { get } = requests(() => t);

before(async () => {
  t = await testApp();
  w = await legalWorld(t);
});
after(async () => t?.close());

/** A fresh app over the same services (a closed Fastify cannot listen again). */
async function rebuild() {
  const app = await buildApp(t.services, { webDir: path.join(t.dataDir, 'no-panel') });
  await app.ready();
  return app;
}

async function supportNow(): Promise<Session> {
  const s = await makeStaff(t, 'support');
  return login(t, s.email, { totpSecret: s.totpSecret });
}

const identityOf = (accountId: string) =>
  t.database.db
    .selectFrom('client_identities')
    .selectAll()
    .where('account_id', '=', accountId)
    .executeTakeFirst();
const usersOf = (accountId: string) =>
  t.database.db.selectFrom('users').select(['email', 'name']).where('account_id', '=', accountId).execute();
const connectionsOf = (accountId: string) =>
  t.database.db.selectFrom('connection_records').selectAll().where('account_id', '=', accountId).execute();

describe('retention schedule (R12.4)', () => {
  it('R12.4 the schedule gives every kind a legal basis in French and English, a period and its start', () => {
    const kinds = RETENTION_SCHEDULE.map((r) => r.kind);
    for (const k of ['identity', 'account', 'connections', 'ip_assignments', 'invoices', 'audit_and_notices'])
      assert.ok(kinds.includes(k as never), k);
    assert.equal(RETENTION_SCHEDULE.find((r) => r.kind === 'identity')?.months, 60);
    assert.equal(RETENTION_SCHEDULE.find((r) => r.kind === 'account')?.months, 12);
    assert.equal(RETENTION_SCHEDULE.find((r) => r.kind === 'connections')?.start, 'connection');
    for (const r of RETENTION_SCHEDULE) assert.ok(r.basis.fr && r.basis.en && r.holds.fr && r.holds.en);
    assert.equal(
      addMonthsUtc(new Date('2024-02-29T10:00:00Z'), 12).toISOString(),
      '2025-02-28T10:00:00.000Z',
    );
  });

  it('R12.4 a login and each TCP connection a session is used on are recorded with address and source port', async () => {
    const c = await clientWithVps(t, w);
    // Over real TCP (inject has no source port): the platform's own listener on loopback.
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const r = await fetch(`${base}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: c.email, password: PASSWORD }),
      });
      assert.equal(r.status, 200);
      const cookie = r.headers.get('set-cookie')!.split(';')[0]!;
      assert.equal((await fetch(`${base}/v1/vps`, { headers: { cookie } })).status, 200);
      assert.equal((await fetch(`${base}/v1/vps`, { headers: { cookie } })).status, 200);
    } finally {
      await t.app.close();
      t.app = await rebuild();
    }
    const recs = await connectionsOf(c.accountId);
    const login = recs.find((x) => x.kind === 'login');
    assert.equal(login?.ip, '127.0.0.1');
    assert.ok(login?.port && login.port > 0);
    const uses = recs.filter((x) => x.kind === 'session');
    // fetch keeps its connection alive: both requests on one socket are one connection.
    assert.ok(uses.length >= 1 && uses.length <= 2, String(uses.length));
    assert.ok(uses.every((u) => u.ip === '127.0.0.1' && u.port && u.port > 0));
  });

  it('R12.4 identity of a terminated client is purged after 5 years and not before; account data after 1 year; connection records after 1 year', async () => {
    const start = t.clock.now();
    const c = await clientWithVps(t, w);
    const other = await clientWithVps(t, w); // still under contract: nothing of it goes
    await login(t, c.email, { ip: '203.0.113.20' });
    await login(t, other.email, { ip: '203.0.113.21' });
    t.clock.advance(10 * DAY);
    await endContract(t, c);
    const end = t.clock.now();
    const assignment = await t.database.db
      .selectFrom('ip_assignments')
      .selectAll()
      .where('vps_id', '=', c.vpsId)
      .executeTakeFirstOrThrow();
    assert.equal(assignment.address, c.address);
    assert.equal(assignment.until_at?.toISOString(), end.toISOString());

    // One day short of a year after the connection: everything still there.
    t.clock.set(new Date(addMonthsUtc(start, 12).getTime() - DAY));
    await t.services.retention.purgeDue();
    assert.equal((await connectionsOf(c.accountId)).length, 1);
    assert.ok(await identityOf(c.accountId));
    assert.ok(!(await usersOf(c.accountId))[0]!.email.startsWith('purged-'));

    // A year and a day after the connection, before the account's year: the connection record goes.
    t.clock.set(new Date(addMonthsUtc(start, 12).getTime() + DAY));
    await t.services.retention.purgeDue();
    assert.equal((await connectionsOf(c.accountId)).length, 0);
    assert.equal((await connectionsOf(other.accountId)).length, 0);
    assert.ok(!(await usersOf(c.accountId))[0]!.email.startsWith('purged-'));

    // A year and a day after the contract's end: account data and the address history go, identity stays.
    t.clock.set(new Date(addMonthsUtc(end, 12).getTime() + DAY));
    const counts = await t.services.retention.purgeDue();
    assert.ok(counts.accountUsers >= 1);
    const users = await usersOf(c.accountId);
    assert.match(users[0]!.email, /^purged-.*@purged\.invalid$/);
    assert.equal(users[0]!.name, '');
    assert.ok(await identityOf(c.accountId));
    assert.equal(
      (await t.database.db.selectFrom('ip_assignments').select('id').where('vps_id', '=', c.vpsId).execute())
        .length,
      0,
    );
    // The other client, still under contract, keeps everything but its old connection record.
    assert.ok(!(await usersOf(other.accountId))[0]!.email.startsWith('purged-'));
    assert.ok(await identityOf(other.accountId));

    // One day short of 5 years: identity still there.
    t.clock.set(new Date(addMonthsUtc(end, 60).getTime() - DAY));
    await t.services.retention.purgeDue();
    assert.ok(await identityOf(c.accountId));
    const held = await get(`/v1/admin/accounts/${c.accountId}/retention`, await supportNow());
    assert.equal(held.statusCode, 200, held.body);
    const body = held.json() as {
      contractEndedAt: string;
      held: { kind: string; count: number; until: string | null }[];
    };
    assert.equal(body.contractEndedAt, end.toISOString());
    const identity = body.held.find((h) => h.kind === 'identity');
    assert.equal(identity?.count, 1);
    assert.equal(identity?.until, addMonthsUtc(end, 60).toISOString());

    // 5 years and a day after the contract's end: identity purged; the purge is audited.
    t.clock.set(new Date(addMonthsUtc(end, 60).getTime() + DAY));
    const last = await t.services.retention.purgeDue();
    assert.equal(last.identityAccounts, 1);
    assert.equal(await identityOf(c.accountId), undefined);
    assert.ok(await identityOf(other.accountId));
    // Idempotent: a second run the same day deletes nothing.
    const again = await t.services.retention.purgeDue();
    assert.deepEqual(
      Object.values(again).filter((v) => v > 0),
      [],
    );
    const audited = await t.database.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'retention.purge')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal((audited.details as { identityAccounts: number }).identityAccounts, 1);
  });

  it('R12.4 the purge runs as the daily job', async () => {
    const job = allJobs(t.services).find((j) => j.name === RETENTION_PURGE_JOB);
    assert.ok(job);
    await (job.handler as (d: object) => Promise<void>)({});
  });

  it('R12.4 staff read the schedule; clients may not; an unknown account is 404', async () => {
    const support = await supportNow();
    const r = await get('/v1/admin/retention/schedule', support);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((r.json() as { items: unknown[] }).items.length, RETENTION_SCHEDULE.length);
    const c = await clientWithVps(t, w);
    const client = await login(t, c.email);
    assert.equal((await get('/v1/admin/retention/schedule', client)).statusCode, 403);
    assert.equal(
      (await get('/v1/admin/accounts/00000000-0000-4000-8000-000000000000/retention', support)).statusCode,
      404,
    );
  });
});
