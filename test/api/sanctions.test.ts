// The ladder of sanctions through the API (R3.14, R5.1, R6.4, R6.5, R12.3, R12.5) against host
// doubles: each rung applies through the module that owns its mechanics (network blocks, pause,
// account suspension, termination), the client is emailed (nature, duration; a reinstall for
// an isolation) unless withheld, lifting undoes what the sanction applied and only that, a
// sanction not in force is a conflict, R5.1 refusal needs an admin's override, tenancy.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Terminator } from '../../src/control/services/sanctions.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { FakeDriver, fakeAgents } from '../helpers/fake-driver.ts';
import { fakeNetwork, hostFor, placedVps, type FakeNetwork } from '../helpers/traffic.ts';

let t: TestApp;
let net: FakeNetwork;
// VPSs are placed in the database only: the driver takes them as running.
const driver = new FakeDriver({ unknownVm: 'running' });
const vms = driver.vms;
let admin: Session;
let support: Session;
let alice: Session;
let bob: Session;
let aliceAccount: string;
let aliceEmail: string;
let bobAccount: string;
let place: { dcId: string; hostId: string };
let slot = 0;
let relogin: () => Promise<void>;
const terminated: { contractId: string; cause: string }[] = [];

before(async () => {
  net = fakeNetwork();
  t = await testApp({}, { agents: fakeAgents({ driver, network: net }) });
  const a = await makeStaff(t, 'admin');
  const sp = await makeStaff(t, 'support');
  const c1 = await makeClient(t);
  const c2 = await makeClient(t);
  aliceAccount = c1.account.id;
  aliceEmail = c1.email;
  bobAccount = c2.account.id;
  // Sessions expire when a test moves the clock by days.
  relogin = async () => {
    admin = await login(t, a.email, { totpSecret: a.totpSecret });
    support = await login(t, sp.email, { totpSecret: sp.totpSecret });
    alice = await login(t, c1.email);
    bob = await login(t, c2.email);
  };
  await relogin();
  const { dc, host } = await hostFor(t, 'MSR1');
  place = { dcId: dc.id, hostId: host.id };
  const double: Terminator = {
    async terminate(_db, p) {
      terminated.push({ contractId: p.contractId, cause: p.cause });
      return {};
    },
  };
  t.services.sanctions.useTerminator(double);
});
after(async () => t?.close());

const get = (url: string, s = admin) => t.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
const post = (url: string, payload: object, s = admin) =>
  t.app.inject({ method: 'POST', url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });

async function newVps(accountId = aliceAccount) {
  slot++;
  return placedVps(t, {
    accountId,
    datacenterId: place.dcId,
    hostId: place.hostId,
    slot,
    ipv4: `203.0.113.${10 + slot}`,
  });
}

const mails = async (template: string) =>
  t.database.db
    .selectFrom('mail_outbox')
    .selectAll()
    .where('template', '=', template)
    .where('account_id', '=', aliceAccount)
    .orderBy('created_at')
    .execute();
// The clock is fixed, so created_at ties: pick the mail that names the VPS, never "the last one".
const mailAbout = async (template: string, hostname: string) => {
  const found = (await mails(template)).filter((m) => new RegExp(`\\b${hostname}\\b`).test(m.body_text));
  assert.equal(found.length, 1, `one ${template} mail about ${hostname}`);
  return found[0]!;
};
const notices = async () => t.database.db.selectFrom('mail_notices').selectAll().orderBy('id').execute();
const liveNet = async (vpsId: string) =>
  t.database.db
    .selectFrom('network_blocks')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .where('lifted_at', 'is', null)
    .execute();
const lastPolicy = (vpsId: string) => net.applied.filter((p) => p.vpsId === vpsId).at(-1)!;
const soon = () => new Date(t.clock.now().getTime() + 7 * 86_400_000).toISOString();

describe('applying the ladder (R12.5)', () => {
  it('suggests the rung: same breach twice moves one rung up', async () => {
    const v = await newVps();
    let r = await get(`/v1/admin/sanctions/suggest?vpsId=${v.id}&breachKind=proxy&severity=minor`);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().rung, 'warning');
    r = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      breachKind: 'proxy',
      severity: 'minor',
      reason: 'Open proxy reported by abuse desk',
      evidence: 'Report #123',
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().rung, 'warning');
    assert.equal(r.json().inForce, false);
    r = await get(`/v1/admin/sanctions/suggest?vpsId=${v.id}&breachKind=proxy&severity=minor`);
    assert.equal(r.json().rung, 'restriction');
    assert.equal(r.json().recurrences, 1);
    const warned = await mails('sanction.applied');
    assert.equal(warned.length, 1);
    assert.equal(warned[0]!.to_address, aliceEmail);
    assert.match(warned[0]!.body_text, /avertissement/);
  });

  it('R3.14 restriction blocks the chosen port through network blocks, the client is told and sees it; lifting removes exactly that block', async () => {
    const v = await newVps();
    // Someone else's block on the same VPS stays untouched by the lift.
    const other = await post(`/v1/admin/vps/${v.id}/network-blocks`, {
      kind: 'block',
      protocol: 'udp',
      port: 53,
      direction: 'out',
      reason: 'unrelated block',
    });
    assert.equal(other.statusCode, 201, other.body);
    const r = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      breachKind: 'spam',
      severity: 'minor',
      reason: 'Spam sent from the VPS',
      evidence: 'Spamhaus listing',
      plannedEnd: soon(),
    });
    assert.equal(r.statusCode, 201, r.body);
    const m = r.json();
    assert.equal(m.rung, 'restriction');
    assert.deepEqual([m.protocol, m.port, m.direction], ['tcp', 25, 'out']);
    const blocks = lastPolicy(v.id).blocks;
    assert.ok(blocks.some((b) => b.protocol === 'tcp' && b.port === 25 && b.direction === 'out'));
    const mail = await mailAbout('sanction.applied', v.hostname);
    assert.match(mail.body_text, /TCP port 25 sortant/);
    assert.match(mail.body_text, /Durée prévue : jusqu'au/);
    // The client sees it on its VPS, with reason and end.
    const seen = await get(`/v1/vps/${v.id}/sanctions`, alice);
    assert.equal(seen.statusCode, 200);
    assert.equal(seen.json().length, 1);
    assert.equal(seen.json()[0].reason, 'Spam sent from the VPS');
    assert.equal(seen.json()[0].plannedEnd, m.plannedEnd);

    const lift = await post(`/v1/admin/sanctions/${m.id}/lift`, { reason: 'Client fixed the mail server' });
    assert.equal(lift.statusCode, 200, lift.body);
    const live = await liveNet(v.id);
    assert.deepEqual(
      live.map((x) => [x.protocol, x.port]),
      [['udp', 53]],
    );
    assert.equal((await mails('sanction.lifted')).length, 1);
    // Lifting again: conflict, nothing changed.
    const before = (await notices()).length;
    const again = await post(`/v1/admin/sanctions/${m.id}/lift`, { reason: 'again' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'sanction.not_in_force');
    assert.equal((await notices()).length, before);
    assert.equal((await liveNet(v.id)).length, 1);
  });

  it('another rung than the ladder needs a reason', async () => {
    const v = await newVps();
    const r = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      breachKind: 'other',
      severity: 'minor',
      rung: 'limitation',
      reason: 'Heavy traffic',
      evidence: 'graphs',
      plannedEnd: soon(),
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'validation.overrideReason');
    assert.equal((await liveNet(v.id)).length, 0);
  });

  it('R3.14 limitation caps the bandwidth (a throttle network block; R6.3 peer-to-peer limited); the planned end lifts it', async () => {
    const v = await newVps();
    const end = new Date(t.clock.now().getTime() + 2 * 86_400_000);
    const r = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      breachKind: 'p2p_irc',
      severity: 'serious',
      reason: 'Peer-to-peer saturating the uplink',
      evidence: 'netflow',
      plannedEnd: end.toISOString(),
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().rung, 'limitation');
    assert.equal(lastPolicy(v.id).throttled, true);
    t.clock.advance(2 * 86_400_000 + 1000);
    await t.scheduler.tick();
    await relogin();
    assert.equal(lastPolicy(v.id).throttled, false);
    const m = await get(`/v1/admin/sanctions/${r.json().id}`);
    assert.equal(m.json().liftedBy, 'system');
    assert.equal((await liveNet(v.id)).length, 0);
  });

  it('suspension pauses the VM and isolates it; lifting resumes and reconnects', async () => {
    const v = await newVps();
    const r = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      breachKind: 'intrusion',
      severity: 'serious',
      reason: 'Port scans from the VPS',
      evidence: 'IDS log',
      liftCondition: 'the client has found and removed the scanner',
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().rung, 'suspension');
    assert.equal(vms.get(v.id), 'paused');
    assert.equal(lastPolicy(v.id).isolated, true);
    const row = await t.database.db
      .selectFrom('vps')
      .select('state')
      .where('id', '=', v.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.state, 'paused');
    // The client cannot start it back itself.
    const lift = await post(`/v1/admin/sanctions/${r.json().id}/lift`, { reason: 'Scanner removed' });
    assert.equal(lift.statusCode, 200, lift.body);
    assert.equal(vms.get(v.id), 'running');
    assert.equal(lastPolicy(v.id).isolated, false);
  });

  it('two suspensions on one VPS: lifting the first keeps it paused, lifting the second resumes it', async () => {
    const v = await newVps();
    const suspend = (reason: string) =>
      post('/v1/admin/sanctions', {
        vpsId: v.id,
        breachKind: 'unpaid',
        severity: 'minor',
        reason,
        evidence: 'e',
        liftCondition: 'paid',
      });
    const a = await suspend('First unpaid licence');
    const b = await suspend('Second unpaid licence');
    assert.equal(a.statusCode, 201, a.body);
    assert.equal(b.statusCode, 201, b.body);
    assert.equal(vms.get(v.id), 'paused');
    assert.equal(
      (await post(`/v1/admin/sanctions/${a.json().id}/lift`, { reason: 'First paid' })).statusCode,
      200,
    );
    assert.equal(vms.get(v.id), 'paused');
    assert.equal(lastPolicy(v.id).isolated, true);
    assert.equal(
      (await post(`/v1/admin/sanctions/${b.json().id}/lift`, { reason: 'Second paid' })).statusCode,
      200,
    );
    assert.equal(vms.get(v.id), 'running');
    assert.equal(lastPolicy(v.id).isolated, false);
  });

  it('an account suspension and a VPS suspension: the VM runs again only when both are lifted', async () => {
    const fay = await makeClient(t);
    const v = await newVps(fay.account.id);
    const body = (extra: object) => ({
      breachKind: 'unpaid',
      severity: 'minor',
      reason: 'Unpaid licence',
      evidence: 'e',
      liftCondition: 'paid',
      ...extra,
    });
    const acc = await post('/v1/admin/sanctions', body({ accountId: fay.account.id }));
    assert.equal(acc.statusCode, 201, acc.body);
    const one = await post('/v1/admin/sanctions', body({ vpsId: v.id }));
    assert.equal(one.statusCode, 201, one.body);
    assert.equal(
      (await post(`/v1/admin/sanctions/${acc.json().id}/lift`, { reason: 'Account paid' })).statusCode,
      200,
    );
    assert.equal(vms.get(v.id), 'paused', 'the VPS sanction still holds it');
    // And the other order: the account suspended again, the VPS sanction lifted first.
    const acc2 = await post('/v1/admin/sanctions', body({ accountId: fay.account.id }));
    assert.equal(acc2.statusCode, 201, acc2.body);
    assert.equal(
      (await post(`/v1/admin/sanctions/${one.json().id}/lift`, { reason: 'VPS paid' })).statusCode,
      200,
    );
    assert.equal(vms.get(v.id), 'paused', 'the account suspension still holds it');
    assert.equal(
      (await post(`/v1/admin/sanctions/${acc2.json().id}/lift`, { reason: 'All paid' })).statusCode,
      200,
    );
    assert.equal(vms.get(v.id), 'running');
    assert.equal(lastPolicy(v.id).isolated, false);
  });

  it('an evidence file (type by content) is kept with the sanction', async () => {
    const v = await newVps();
    const r = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      breachKind: 'other',
      severity: 'minor',
      reason: 'Open relay',
      evidence: 'see the attached capture',
    });
    assert.equal(r.statusCode, 201, r.body);
    const id = r.json().id as string;
    const boundary = '----msr' + Math.random().toString(16).slice(2);
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="capture.png"\r\nContent-Type: image/png\r\n\r\n`,
      ),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const up = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/sanctions/${id}/evidence`,
      payload,
      headers: {
        cookie: admin.cookie,
        'x-csrf-token': admin.csrf,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
    });
    assert.equal(up.statusCode, 201, up.body);
    assert.deepEqual(up.json().evidenceFile, { name: 'capture.png', contentType: 'image/png', size: 11 });
    const dl = await get(`/v1/admin/sanctions/${id}/evidence`);
    assert.equal(dl.statusCode, 200);
    assert.equal(dl.headers['content-type'], 'image/png');
  });

  it('isolation cuts the VPS off until reinstall (R6.4): the email says a reinstall is needed', async () => {
    const v = await newVps();
    const r = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      breachKind: 'compromised',
      severity: 'critical',
      reason: 'Rootkit found',
      evidence: 'rkhunter output',
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().rung, 'isolation');
    assert.match(r.json().liftCondition, /reinstall/);
    assert.equal(lastPolicy(v.id).isolated, true);
    const mail = await mailAbout('sanction.applied', v.hostname);
    assert.match(mail.body_text, /réinstallation de votre VPS est nécessaire/);
  });

  it('R6.5 unpaid licences: the suspension of a whole account applies at once (every VPS paused), lifting restores it', async () => {
    const carol = await makeClient(t);
    const v1 = await newVps(carol.account.id);
    const v2 = await newVps(carol.account.id);
    const r = await post('/v1/admin/sanctions', {
      accountId: carol.account.id,
      breachKind: 'unpaid',
      severity: 'minor',
      reason: 'Licence fees unpaid',
      evidence: 'invoice 2026-0001',
      liftCondition: 'the licence fees are paid',
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().vpsId, null);
    assert.equal(vms.get(v1.id), 'paused');
    assert.equal(vms.get(v2.id), 'paused');
    assert.equal(await t.services.clients.isSuspended(t.database.db, carol.account.id), true);
    assert.equal(lastPolicy(v1.id).isolated, true);
    const lift = await post(`/v1/admin/sanctions/${r.json().id}/lift`, { reason: 'Paid' });
    assert.equal(lift.statusCode, 200, lift.body);
    assert.equal(await t.services.clients.isSuspended(t.database.db, carol.account.id), false);
    assert.equal(vms.get(v1.id), 'running');
    assert.equal(lastPolicy(v2.id).isolated, false);
  });

  it('termination goes through the terminations module (R12.3, provider_breach)', async () => {
    const v = await newVps();
    await contractFor(v.id);
    const r = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      breachKind: 'card_sharing',
      severity: 'critical',
      reason: 'Card sharing server',
      evidence: 'complaint',
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().rung, 'termination');
    const c = await t.database.db.selectFrom('contracts').select('id').where('vps_id', '=', v.id).execute();
    assert.equal(c.length, 1);
    assert.deepEqual(
      terminated.map((x) => x.contractId),
      c.map((x) => x.id),
    );
    assert.ok(terminated.every((x) => x.cause === 'provider_breach'));
    const lift = await post(`/v1/admin/sanctions/${r.json().id}/lift`, { reason: 'not in force' });
    assert.equal(lift.statusCode, 409);
    assert.equal(lift.json().code, 'sanction.not_in_force');
  });
});

/** A contract for a VPS (what order validation leaves), without the commerce flow. */
async function contractFor(vpsId: string) {
  const db = t.database.db;
  const now = t.clock.now();
  const plan = await db
    .insertInto('plans')
    .values({
      code: 'MSR-S',
      name: 'Small',
      vcpus: 1,
      memory_mib: 256,
      disk_gib: 1,
      monthly_price_cents: 500,
      vat_rate_bp: 2000,
      active: true,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const order = await db
    .insertInto('orders')
    .values({
      account_id: aliceAccount,
      user_id: null,
      plan_id: plan.id,
      datacenter_id: place.dcId,
      kind: 'fixed',
      term_months: 1,
      hostname: 'term1',
      client_username: 'camille',
      plan_code: 'S',
      plan_name: 'Small',
      vcpus: 1,
      memory_mib: 256,
      disk_gib: 1,
      monthly_price_cents: 500,
      vat_rate_bp: 2000,
      state: 'validated',
      state_changed_at: now,
      created_at: now,
      paid_at: now,
      validated_at: now,
      validated_by: null,
      cancelled_at: null,
      cancelled_by: null,
      cancel_reason: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('contracts')
    .values({
      account_id: aliceAccount,
      order_id: order.id,
      vps_id: vpsId,
      plan_id: plan.id,
      datacenter_id: place.dcId,
      terms_version: 'test',
      kind: 'fixed',
      term_months: 1,
      started_at: now,
      billing_anchor: now,
      renewal_anchor: null,
      periods: 0,
      expires_at: new Date(now.getTime() + 30 * 86_400_000),
      renewal_stopped_at: null,
      monthly_price_cents: 500,
      vat_rate_bp: 2000,
      state: 'active',
      state_changed_at: now,
      ended_at: null,
      created_at: now,
    })
    .execute();
}

describe('refusal to restore after repeated serious cases (R5.1)', () => {
  it('the third serious case: the lift is refused unless an admin overrides', async () => {
    const dave = await makeClient(t);
    const v = await newVps(dave.account.id);
    const apply = (kind: string) =>
      post('/v1/admin/sanctions', {
        vpsId: v.id,
        breachKind: kind,
        severity: 'serious',
        rung: 'restriction',
        overrideReason: 'keep it small for the test',
        protocol: 'tcp',
        port: 6667,
        direction: 'out',
        reason: `Case ${kind}`,
        evidence: 'log',
        plannedEnd: soon(),
      });
    for (const k of ['spam', 'spoofing']) {
      const r = await apply(k);
      assert.equal(r.statusCode, 201, r.body);
      assert.equal(r.json().restoreRefusable, false);
    }
    const third = await apply('intrusion');
    assert.equal(third.json().restoreRefusable, true);
    const id = third.json().id as string;
    let r = await post(`/v1/admin/sanctions/${id}/lift`, { reason: 'please' }, support);
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().code, 'sanction.restore_refused');
    r = await post(`/v1/admin/sanctions/${id}/lift`, { reason: 'override please', override: true }, support);
    assert.equal(r.statusCode, 403);
    r = await post(`/v1/admin/sanctions/${id}/lift`, {
      reason: 'Client proved the fix; admin decision',
      override: true,
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().liftOverride, true);
    // Its planned end does not restore it by itself: staff get an alert.
    const fourth = await apply('spam');
    assert.equal(fourth.json().restoreRefusable, true);
    t.clock.advance(8 * 86_400_000);
    await t.scheduler.tick();
    await relogin();
    const still = await get(`/v1/admin/sanctions/${fourth.json().id}`);
    assert.equal(still.json().inForce, true);
    const alert = await t.database.db
      .selectFrom('staff_alerts')
      .select('kind')
      .where('subject_id', '=', fourth.json().id)
      .executeTakeFirst();
    assert.equal(alert?.kind, 'sanction.planned_end');
    const audits = await t.database.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', '=', 'sanction.lift')
      .execute();
    const audit = audits.find((a) => (a.details as { sanctionId: string }).sanctionId === id)!;
    assert.equal((audit.details as { override: boolean }).override, true);
  });
});

describe('withheld notice and tenancy', () => {
  it('a withheld sanction sends no email and adds nothing to the notices chain', async () => {
    const erin = await makeClient(t);
    const v = await newVps(erin.account.id);
    const before = (await notices()).length;
    const r = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      breachKind: 'authority_order',
      severity: 'serious',
      reason: 'Order',
      evidence: 'sealed',
      withheld: true,
      liftCondition: 'the authority lifts its order',
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal((await notices()).length, before);
    const l = await post(`/v1/admin/sanctions/${r.json().id}/lift`, { reason: 'Order lifted' });
    assert.equal(l.statusCode, 200);
    assert.equal((await notices()).length, before);
  });

  it('clients see their own VPS only; staff routes are staff only', async () => {
    const v = await newVps();
    assert.equal((await get(`/v1/vps/${v.id}/sanctions`, bob)).statusCode, 404);
    assert.equal((await get(`/v1/vps/${v.id}/sanctions`, alice)).statusCode, 200);
    assert.equal((await get('/v1/admin/sanctions', alice)).statusCode, 403);
    const r = await post(
      '/v1/admin/sanctions',
      {
        vpsId: v.id,
        breachKind: 'spam',
        severity: 'minor',
        reason: 'x'.repeat(5),
        evidence: 'e',
        plannedEnd: soon(),
      },
      alice,
    );
    assert.equal(r.statusCode, 403);
    assert.equal((await liveNet(v.id)).length, 0);
    // A VPS named with another account: refused.
    const x = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      accountId: bobAccount,
      breachKind: 'spam',
      severity: 'minor',
      reason: 'wrong',
      evidence: 'e',
      plannedEnd: soon(),
    });
    assert.equal(x.statusCode, 400);
  });

  it('every client-facing email of the ladder is in the notices chain', async () => {
    const ns = await notices();
    const outbox = await t.database.db
      .selectFrom('mail_outbox')
      .select(['id', 'template'])
      .where('template', 'like', 'sanction.%')
      .execute();
    assert.ok(outbox.length >= 4);
    const chained = new Set(ns.map((n) => n.outbox_id));
    for (const o of outbox) assert.ok(chained.has(o.id), `${o.template} ${o.id} not in the chain`);
  });
});

describe('network rules owned by a sanction (R5.1, R12.6): lifted only through it, whoever asks', () => {
  const netIdsOf = async (sanctionId: string) =>
    (
      (
        await t.database.db
          .selectFrom('sanctions')
          .select('applied')
          .where('id', '=', sanctionId)
          .executeTakeFirstOrThrow()
      ).applied as { networkBlockIds: string[] }
    ).networkBlockIds;

  it('R5.1 the third serious case: neither support nor an admin lifts its block through the network-block route (409 naming the sanction); the host keeps the rule; the sanction’s lift removes it', async () => {
    const gus = await makeClient(t);
    const v = await newVps(gus.account.id);
    const apply = (kind: string) =>
      post('/v1/admin/sanctions', {
        vpsId: v.id,
        breachKind: kind,
        severity: 'serious',
        rung: 'restriction',
        overrideReason: 'a block, for the test',
        protocol: 'tcp',
        port: 6667,
        direction: 'out',
        reason: `Case ${kind}`,
        evidence: 'log',
        plannedEnd: soon(),
      });
    for (const k of ['spam', 'spoofing']) assert.equal((await apply(k)).statusCode, 201);
    const third = await apply('intrusion');
    assert.equal(third.statusCode, 201, third.body);
    const sanction = third.json() as { id: string; restoreRefusable: boolean };
    assert.equal(sanction.restoreRefusable, true);
    const [nmId] = await netIdsOf(sanction.id);
    assert.ok(nmId);
    // A staff block of its own on the same VPS: support lifts that one as before.
    const mine = await post(
      `/v1/admin/vps/${v.id}/network-blocks`,
      { kind: 'block', protocol: 'udp', port: 53, direction: 'out', reason: 'support’s own block' },
      support,
    );
    assert.equal(mine.statusCode, 201, mine.body);
    for (const who of [support, admin]) {
      const r = await post(`/v1/admin/vps/${v.id}/network-blocks/${nmId}/lift`, {}, who);
      assert.equal(r.statusCode, 409, r.body);
      assert.equal(r.json().code, 'network_block.owned');
      assert.match(r.json().message, new RegExp(sanction.id));
    }
    const row = await t.database.db
      .selectFrom('network_blocks')
      .select('lifted_at')
      .where('id', '=', nmId!)
      .executeTakeFirstOrThrow();
    assert.equal(row.lifted_at, null, 'the rule is still in force');
    assert.ok(
      lastPolicy(v.id).blocks.some((b) => b.protocol === 'tcp' && b.port === 6667),
      'the host still has the rule',
    );
    assert.equal((await get(`/v1/admin/sanctions/${sanction.id}`)).json().inForce, true);
    // The staff view names the owner (the panel shows it instead of a lift button).
    const listed = (await get(`/v1/vps/${v.id}/network-blocks`, support)).json() as {
      id: string;
      owner: { type: string; id: string } | null;
    }[];
    assert.deepEqual(listed.find((m) => m.id === nmId)?.owner, { type: 'sanction', id: sanction.id });
    assert.equal(listed.find((m) => m.id === mine.json().id)?.owner, null);
    const own = await post(`/v1/admin/vps/${v.id}/network-blocks/${mine.json().id}/lift`, {}, support);
    assert.equal(own.statusCode, 200, own.body);
    // Through its owner: the admin's override lifts the sanction and its rule together.
    const lift = await post(`/v1/admin/sanctions/${sanction.id}/lift`, {
      reason: 'Client proved the fix; admin decision',
      override: true,
    });
    assert.equal(lift.statusCode, 200, lift.body);
    const after = await t.database.db
      .selectFrom('network_blocks')
      .select('lifted_at')
      .where('id', '=', nmId!)
      .executeTakeFirstOrThrow();
    assert.ok(after.lifted_at, 'lifted with its sanction');
  });

  it('R12.6 a block ordered by an authority notice: the 409 names the notice; only the sanction’s lift removes it', async () => {
    const ida = await makeClient(t);
    const v = await newVps(ida.account.id);
    const r = await post('/v1/admin/authority-notices', {
      vpsId: v.id,
      authority: 'Tribunal judiciaire de Paris',
      type: 'judicial',
      reference: 'RG 26/00042',
      receivedOn: '2026-02-27',
      sanctionOrdered: 'restriction',
      withheld: false,
      protocol: 'tcp',
      port: 80,
      direction: 'in',
      liftCondition: 'the court lifts its order',
    });
    assert.equal(r.statusCode, 201, r.body);
    const { notice, sanction } = r.json() as { notice: { id: string }; sanction: { id: string } };
    const [nmId] = await netIdsOf(sanction.id);
    for (const who of [support, admin]) {
      const l = await post(`/v1/admin/vps/${v.id}/network-blocks/${nmId}/lift`, {}, who);
      assert.equal(l.statusCode, 409, l.body);
      assert.equal(l.json().code, 'network_block.owned');
      assert.match(l.json().message, new RegExp(sanction.id));
      assert.match(l.json().message, new RegExp(`${notice.id}.*RG 26/00042`));
    }
    assert.equal((await liveNet(v.id)).length, 1);
    const lift = await post(`/v1/admin/sanctions/${sanction.id}/lift`, { reason: 'The court lifted it' });
    assert.equal(lift.statusCode, 200, lift.body);
    assert.equal((await liveNet(v.id)).length, 0);
  });
});

describe('a VPS-level suspension holds apart from the power state (R5.1, R12.5)', () => {
  const vpsOf = async (id: string, s: Session) =>
    (await get(`/v1/vps/${id}`, s)).json() as { state: string; suspended: boolean; actions: string[] };
  const setStopped = async (id: string) => {
    vms.set(id, 'stopped');
    await t.database.db.updateTable('vps').set({ state: 'stopped' }).where('id', '=', id).execute();
  };
  const suspend = (vpsId: string) =>
    post('/v1/admin/sanctions', {
      vpsId,
      breachKind: 'unpaid',
      severity: 'minor',
      reason: 'Unpaid licence',
      evidence: 'e',
      liftCondition: 'paid',
    });

  it('suspended while stopped: its client cannot start it (409 vps.suspended), nor can staff; lifting lets the client start it', async () => {
    const c = await makeClient(t);
    const alice = await login(t, c.email);
    const v = await newVps(c.account.id);
    await setStopped(v.id);
    const r = await suspend(v.id);
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().rung, 'suspension');
    const seen = await vpsOf(v.id, alice);
    assert.equal(seen.state, 'stopped');
    assert.equal(seen.suspended, true);
    assert.deepEqual(seen.actions, [], 'the panel offers the client nothing');
    assert.ok(!(await vpsOf(v.id, admin)).actions.includes('start'), 'nor staff a start');
    for (const [who, action] of [
      [alice, 'start'],
      [alice, 'reboot'],
      [support, 'start'],
      [admin, 'start'],
    ] as const) {
      const a = await post(`/v1/vps/${v.id}/actions/${action}`, {}, who);
      assert.equal(a.statusCode, 409, `${action}: ${a.body}`);
      if (action === 'start') assert.equal(a.json().code, 'vps.suspended');
    }
    assert.equal(
      (await t.database.db.selectFrom('vps_actions').select('id').where('vps_id', '=', v.id).execute())
        .length,
      0,
      'no power action queued',
    );
    assert.equal(vms.get(v.id), 'stopped');
    const lift = await post(`/v1/admin/sanctions/${r.json().id}/lift`, { reason: 'Paid' });
    assert.equal(lift.statusCode, 200, lift.body);
    const after = await vpsOf(v.id, alice);
    assert.equal(after.suspended, false);
    assert.deepEqual(after.actions, ['start']);
    const start = await post(`/v1/vps/${v.id}/actions/start`, {}, alice);
    assert.equal(start.statusCode, 202, start.body);
  });

  it('a start in flight when the suspension comes ends paused; the lift resumes it', async () => {
    const c = await makeClient(t);
    const alice = await login(t, c.email);
    const v = await newVps(c.account.id);
    await setStopped(v.id);
    const start = await post(`/v1/vps/${v.id}/actions/start`, {}, alice);
    assert.equal(start.statusCode, 202, start.body);
    const r = await suspend(v.id);
    assert.equal(r.statusCode, 201, r.body);
    await t.services.vps.runPower(start.json().action.id);
    assert.equal(vms.get(v.id), 'paused', 'the VM ran, then was paused again');
    assert.equal((await vpsOf(v.id, admin)).state, 'paused');
    const lift = await post(`/v1/admin/sanctions/${r.json().id}/lift`, { reason: 'Paid' });
    assert.equal(lift.statusCode, 200, lift.body);
    assert.equal(vms.get(v.id), 'running');
    assert.equal((await vpsOf(v.id, alice)).state, 'running');
  });
});

describe('what support may not decide in a sanction (docs/security.md, Roles)', () => {
  it('terminating for breach (R12.3) and withholding the client’s notice are an admin’s: support gets 403, nothing applied', async () => {
    const v = await newVps();
    const base = {
      vpsId: v.id,
      breachKind: 'other',
      severity: 'minor',
      reason: 'A reason',
      evidence: 'e',
      overrideReason: 'chosen rung',
    };
    const before = terminated.length;
    const term = await post('/v1/admin/sanctions', { ...base, rung: 'termination' }, support);
    assert.equal(term.statusCode, 403, term.body);
    assert.equal(term.json().code, 'sanction.termination_admin_only');
    assert.equal(terminated.length, before);
    const hidden = await post(
      '/v1/admin/sanctions',
      {
        ...base,
        rung: 'restriction',
        protocol: 'tcp',
        port: 25,
        direction: 'out',
        plannedEnd: soon(),
        withheld: true,
      },
      support,
    );
    assert.equal(hidden.statusCode, 403, hidden.body);
    assert.equal(hidden.json().code, 'sanction.withheld_admin_only');
    assert.equal((await liveNet(v.id)).length, 0);
    assert.equal(
      (await t.database.db.selectFrom('sanctions').select('id').where('vps_id', '=', v.id).execute()).length,
      0,
    );
    // Support applies the same restriction told to the client.
    const told = await post(
      '/v1/admin/sanctions',
      { ...base, rung: 'restriction', protocol: 'tcp', port: 25, direction: 'out', plannedEnd: soon() },
      support,
    );
    assert.equal(told.statusCode, 201, told.body);
  });
});

describe('uploads per sanction are capped', () => {
  it('evidence: the 6th upload of one sanction is 413 upload.too_many (the 5 first kept); a refused file does not use a slot', async () => {
    const hal = await makeClient(t);
    const v = await newVps(hal.account.id);
    const r = await post('/v1/admin/sanctions', {
      vpsId: v.id,
      breachKind: 'other',
      severity: 'minor',
      reason: 'Open relay',
      evidence: 'captures attached',
    });
    assert.equal(r.statusCode, 201, r.body);
    const id = r.json().id as string;
    const send = (content: Buffer) => {
      const boundary = '----cap' + Math.random().toString(16).slice(2);
      return t.app.inject({
        method: 'POST',
        url: `/v1/admin/sanctions/${id}/evidence`,
        payload: Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="capture.png"\r\nContent-Type: image/png\r\n\r\n`,
          ),
          content,
          Buffer.from(`\r\n--${boundary}--\r\n`),
        ]),
        headers: {
          cookie: support.cookie,
          'x-csrf-token': support.csrf,
          'content-type': `multipart/form-data; boundary=${boundary}`,
        },
      });
    };
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const wrong = await send(Buffer.from('not an image'));
    assert.equal(wrong.statusCode, 400, wrong.body);
    for (let i = 0; i < 5; i++) assert.equal((await send(png)).statusCode, 201);
    const sixth = await send(png);
    assert.equal(sixth.statusCode, 413, sixth.body);
    assert.equal(sixth.json().code, 'upload.too_many');
    const files = await readdir(path.join(t.dataDir, 'uploads', 'sanctions', hal.account.id));
    assert.equal(files.filter((f) => !f.endsWith('.part')).length, 5);
  });
});
