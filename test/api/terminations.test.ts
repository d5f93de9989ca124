// Contract termination through the service and the API (issue 6 item 5: R12.1–R12.4) with a
// fake host: each cause, the conflicts (second termination, date in the past), cancel, the
// deadline at the effective date, and the deletion job's steps and idempotence. The real QEMU
// run is test/agent/termination.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DAY } from '../../src/domain/clock.ts';
import { allJobs } from '../../src/control/jobs/registry.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { CURRENT_TERMS } from '../../src/domain/terms.ts';
import {
  registerTerminationHook,
  unregisterTerminationHook,
} from '../../src/control/services/terminations.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { FakeDriver, fakeAgents } from '../helpers/fake-driver.ts';
import { requests } from '../helpers/requests.ts';
import { fakeNetwork } from '../helpers/traffic.ts';

/** A host whose VMs are entries in a map (an unknown VM is not_found) with a recording network. */
function fakeHost() {
  const driver = new FakeDriver();
  const network = fakeNetwork();
  return { driver, network, agents: fakeAgents({ driver, network }) };
}

let t: TestApp;
let host: ReturnType<typeof fakeHost>;
let admin: Session;
let adminCreds: { email: string; totpSecret: string };
let supCreds: { email: string; totpSecret: string };
let aliceEmail: string;
let support: Session;
let alice: Session;
let bob: Session;
let aliceAccount: string;
let hostId: string;
let dcId: string;
let planId: string;

const { get, post } = requests(() => t);
const noProvisioning = { name: 'vps.provision', handler: async () => {} } as unknown as ReturnType<
  typeof allJobs
>[number];
const runJobs = () => t.queue.runAll([noProvisioning, ...allJobs(t.services)]);

let n = 0;
/** A running VPS on the fake host with its contract, IPv4, credentials and an access link. */
async function makeContract(expiresInDays = 30): Promise<{ contractId: string; vpsId: string }> {
  const db = t.database.db;
  n++;
  const v = await db.transaction().execute((tx) =>
    t.services.infra.requestVps(tx, {
      accountId: aliceAccount,
      datacenterId: dcId,
      hostname: `web${n}`,
      vcpus: 1,
      memoryMiB: 256,
      diskGiB: 1,
      billingAnchor: t.clock.now(),
      clientUsername: 'camille',
    }),
  );
  const addr = await db.transaction().execute((tx) => t.services.infra.allocateAddress(tx, v));
  await db
    .updateTable('vps')
    .set({
      state: 'running',
      host_id: hostId,
      net_slot: n,
      ipv4: `${addr.address}/${addr.prefixLength}`,
      root_password_enc: t.services.ctx.secrets.seal('root-secret'),
      initial_password_enc: t.services.ctx.secrets.seal('initial-secret'),
      provision_step: 'access_codes',
      provision_percent: 100,
    })
    .where('id', '=', v.id)
    .execute();
  await t.services.accessCodes.createLink(db, v.id);
  host.driver.vms.set(v.id, 'running');
  const now = t.clock.now();
  const order = await db
    .insertInto('orders')
    .values({
      account_id: aliceAccount,
      user_id: null,
      plan_id: planId,
      datacenter_id: dcId,
      kind: 'fixed',
      term_months: 1,
      hostname: `web${n}`,
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
  const c = await db
    .insertInto('contracts')
    .values({
      account_id: aliceAccount,
      order_id: order.id,
      vps_id: v.id,
      plan_id: planId,
      datacenter_id: dcId,
      terms_version: CURRENT_TERMS.version,
      kind: 'fixed',
      term_months: 1,
      started_at: now,
      billing_anchor: now,
      renewal_anchor: null,
      periods: 0,
      expires_at: new Date(now.getTime() + expiresInDays * DAY),
      renewal_stopped_at: null,
      monthly_price_cents: 500,
      vat_rate_bp: 2000,
      state: 'active',
      state_changed_at: now,
      ended_at: null,
      created_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { contractId: c.id, vpsId: v.id };
}

const vpsRow = (id: string) =>
  t.database.db.selectFrom('vps').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const notices = (template: string) =>
  t.database.db
    .selectFrom('mail_notices')
    .selectAll()
    .where('template', '=', template)
    .where('account_id', '=', aliceAccount)
    .execute();
const terminationOf = (contractId: string) =>
  t.database.db
    .selectFrom('terminations')
    .selectAll()
    .where('contract_id', '=', contractId)
    .where('state', '!=', 'cancelled')
    .executeTakeFirstOrThrow();

before(async () => {
  host = fakeHost();
  t = await testApp({}, { agents: host.agents });
  const a = await makeStaff(t, 'admin');
  adminCreds = a;
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const sup = await makeStaff(t, 'support');
  supCreds = sup;
  support = await login(t, sup.email, { totpSecret: sup.totpSecret });
  const ca = await makeClient(t);
  aliceAccount = ca.account.id;
  aliceEmail = ca.email;
  alice = await login(t, ca.email);
  const cb = await makeClient(t);
  bob = await login(t, cb.email);
  const dc = await t.services.infra.createDatacenter(
    { code: 'TRM1', name: 'Term', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  dcId = dc.id;
  hostId = (
    await t.services.infra.registerHost(
      { name: 'hv1', datacenterId: dc.id, cpuCores: 2, memoryMiB: 4096, diskGiB: 20 },
      SYSTEM_ACTOR,
    )
  ).id;
  await t.services.infra.createPool(
    { datacenterId: dc.id, cidr: '198.51.100.0/24', gateway: '198.51.100.1' },
    SYSTEM_ACTOR,
  );
  const now = t.clock.now();
  planId = (
    await t.database.db
      .insertInto('plans')
      .values({
        code: 'TRM-S',
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
      .executeTakeFirstOrThrow()
  ).id;
});
after(async () => t?.close());

describe('terminate (the interface other modules call)', () => {
  it('R12.1 force majeure (the provider’s side): records, schedules the deadline, audits and emails the client; usable in the caller’s transaction', async () => {
    const { contractId } = await makeContract();
    const at = new Date(t.clock.now().getTime() + 10 * DAY);
    const v = await t.database.db.transaction().execute((tx) =>
      t.services.terminations.terminate(tx, {
        contractId,
        cause: 'force_majeure_provider',
        effectiveAt: at,
        recordedBy: SYSTEM_ACTOR,
        reason: 'Datacenter flooded',
      }),
    );
    assert.equal(v.state, 'scheduled');
    assert.equal(v.effectiveAt, at.toISOString());
    const dl = await t.database.db
      .selectFrom('deadlines')
      .selectAll()
      .where('subject_id', '=', v.id)
      .executeTakeFirstOrThrow();
    assert.equal(dl.kind, 'contract.termination_due');
    assert.equal(dl.due_at.toISOString(), at.toISOString());
    const audit = await t.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'contract.termination_recorded')
      .where('target_id', '=', contractId)
      .execute();
    assert.equal(audit.length, 1);
    const mails = (await notices('contract.termination_scheduled')).filter((m) =>
      m.reason.includes(contractId),
    );
    assert.equal(mails.length, 1);
  });

  it('a second termination for the same contract → 409 termination.exists; a past date → 409 termination.date_past; nothing changed', async () => {
    const { contractId } = await makeContract();
    const at = new Date(t.clock.now().getTime() + 5 * DAY);
    await t.services.terminations.terminate(t.database.db, {
      contractId,
      cause: 'force_majeure_client',
      effectiveAt: at,
      recordedBy: 'system',
      reason: 'x',
    });
    const before = await t.database.db.selectFrom('terminations').select('id').execute();
    const mailsBefore = (await notices('contract.termination_scheduled')).length;
    await assert.rejects(
      t.services.terminations.terminate(t.database.db, {
        contractId,
        cause: 'force_majeure_provider',
        effectiveAt: at,
        recordedBy: 'system',
        reason: 'y',
      }),
      (e: { code?: string }) => e.code === 'termination.exists',
    );
    const other = await makeContract();
    const r = await post(`/v1/contracts/${other.contractId}/terminations/force-majeure`, admin, {
      side: 'client',
      effectiveAt: new Date(t.clock.now().getTime() - DAY).toISOString(),
      reason: 'late',
    });
    assert.equal(r.statusCode, 409, r.body);
    assert.equal(r.json().code, 'termination.date_past');
    assert.equal(
      (await t.database.db.selectFrom('terminations').select('id').execute()).length,
      before.length,
    );
    assert.equal((await notices('contract.termination_scheduled')).length, mailsBefore);
    const again = await post(`/v1/contracts/${contractId}/terminations/force-majeure`, admin, {
      side: 'provider',
      effectiveAt: at.toISOString(),
      reason: 'again',
    });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'termination.exists');
  });
});

describe('staff routes and the client’s view', () => {
  it('R12.2 registered letter: the product proposes the date; an admin records it (support may not); the client sees it, the provider as a role; another client gets 404', async () => {
    const { contractId, vpsId } = await makeContract(20);
    const rx = new Date(t.clock.now().getTime() - DAY).toISOString();
    const p = await get(
      `/v1/contracts/${contractId}/terminations/letter-proposal?letterReceivedAt=${encodeURIComponent(rx)}`,
      support,
    );
    assert.equal(p.statusCode, 200, p.body);
    assert.equal(p.json().rule, 'paid_period_end');
    const req = new Date(t.clock.now().getTime() + 7 * DAY).toISOString();
    const refused = await post(`/v1/contracts/${contractId}/terminations/letter`, support, {
      letterReceivedAt: rx,
      requestedEffectiveAt: req,
    });
    assert.equal(refused.statusCode, 403, refused.body);
    const r = await post(`/v1/contracts/${contractId}/terminations/letter`, admin, {
      letterReceivedAt: rx,
      requestedEffectiveAt: req,
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().recordedBy, adminCreds.email, 'staff read who recorded it');
    assert.equal(r.json().effectiveAt, req);
    assert.equal(r.json().proposedEffectiveAt, req);
    assert.equal(r.json().cause, 'client_letter');
    const mine = await get(`/v1/vps/${vpsId}/termination`, alice);
    assert.equal(mine.statusCode, 200, mine.body);
    assert.equal(mine.json().termination.effectiveAt, req);
    // R12.2 as the client reads it: the provider, never a staff member's email.
    assert.equal(mine.json().termination.recordedBy, 'provider');
    assert.ok(!mine.body.includes(adminCreds.email), mine.body);
    assert.equal((await get(`/v1/vps/${vpsId}/termination`, bob)).statusCode, 404);
    assert.equal((await get(`/v1/contracts/${contractId}/termination`, bob)).statusCode, 404);
    assert.equal(
      (await get(`/v1/contracts/${contractId}/termination`, alice)).json().termination.cause,
      'client_letter',
    );
    assert.equal(
      (await post(`/v1/contracts/${contractId}/terminations/letter`, alice, { letterReceivedAt: rx }))
        .statusCode,
      403,
    );
    const list = await get('/v1/terminations?state=scheduled', support);
    assert.ok(list.json().some((x: { contractId: string }) => x.contractId === contractId));
  });

  it('cancel before the date: audited, the deadline cancelled; after cancelling a new one may be recorded; a cancelled one cannot be cancelled again', async () => {
    const { contractId } = await makeContract();
    const at = new Date(t.clock.now().getTime() + 3 * DAY).toISOString();
    const r = await post(`/v1/contracts/${contractId}/terminations/force-majeure`, admin, {
      side: 'provider',
      effectiveAt: at,
      reason: 'storm',
    });
    assert.equal(r.statusCode, 201, r.body);
    const id = r.json().id as string;
    const c = await post(`/v1/terminations/${id}/cancel`, admin, { reason: 'storm passed' });
    assert.equal(c.statusCode, 200, c.body);
    assert.equal(c.json().state, 'cancelled');
    const dl = await t.database.db
      .selectFrom('deadlines')
      .select('status')
      .where('subject_id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(dl.status, 'cancelled');
    assert.equal(
      (await post(`/v1/terminations/${id}/cancel`, admin, { reason: 'again' })).json().code,
      'termination.not_scheduled',
    );
    assert.equal(
      (await notices('contract.termination_cancelled')).filter((m) => m.reason.includes(contractId)).length,
      1,
    );
    const audit = await t.database.db
      .selectFrom('audit_log')
      .select('actor')
      .where('action', '=', 'contract.termination_cancelled')
      .where('target_id', '=', contractId)
      .execute();
    assert.equal(audit.length, 1);
    assert.equal(
      (
        await post(`/v1/contracts/${contractId}/terminations/force-majeure`, admin, {
          side: 'client',
          effectiveAt: at,
          reason: 'client asks',
        })
      ).statusCode,
      201,
    );
  });
});

describe('the deletion at the effective date (R12.4)', () => {
  it('clock moved past the date → job: VM destroyed, network removed, hooks, credentials, links, IPv4 quarantined, VPS destroyed, contract terminated, record kept, final email; run twice → same result', async () => {
    const { contractId, vpsId } = await makeContract();
    const hooked: string[] = [];
    registerTerminationHook('test-backups', async (c) => {
      hooked.push(c.vpsId);
      return { backups: 2 };
    });
    try {
      const at = new Date(t.clock.now().getTime() + 2 * DAY);
      const r = await post(`/v1/contracts/${contractId}/terminations/force-majeure`, admin, {
        side: 'client',
        effectiveAt: at.toISOString(),
        reason: 'client moved away',
      });
      assert.equal(r.statusCode, 201, r.body);
      await t.scheduler.tick();
      assert.equal((await terminationOf(contractId)).state, 'scheduled');
      t.clock.advance(2 * DAY + 1000);
      await t.scheduler.tick();
      assert.equal((await terminationOf(contractId)).state, 'executing');
      await runJobs();
      support = await login(t, supCreds.email, { totpSecret: supCreds.totpSecret });
      alice = await login(t, aliceEmail);
      const term = await terminationOf(contractId);
      assert.equal(term.state, 'done', String(term.last_error));
      assert.ok(!host.driver.vms.has(vpsId));
      assert.ok(host.driver.calls.includes(`destroy ${vpsId}`));
      assert.ok(host.network.removed.includes(vpsId));
      assert.deepEqual(hooked, [vpsId]);
      const v = await vpsRow(vpsId);
      assert.equal(v.state, 'destroyed');
      assert.equal(v.root_password_enc, null);
      assert.equal(v.initial_password_enc, null);
      assert.equal(
        (await t.database.db.selectFrom('access_links').select('id').where('vps_id', '=', vpsId).execute())
          .length,
        0,
      );
      const ip = await t.database.db
        .selectFrom('ip_addresses')
        .selectAll()
        .where('vps_id', '=', vpsId)
        .executeTakeFirstOrThrow();
      assert.equal(ip.state, 'quarantined');
      const contract = await t.database.db
        .selectFrom('contracts')
        .selectAll()
        .where('id', '=', contractId)
        .executeTakeFirstOrThrow();
      assert.equal(contract.state, 'terminated');
      const rec = await get(`/v1/deletion-records?contractId=${contractId}`, support);
      assert.equal(rec.statusCode, 200, rec.body);
      const what = (rec.json()[0].deleted as { what: string }[]).map((d) => d.what);
      // hook:backups: the backups module's (R12.4; this VPS has no repository: services/backups.ts).
      assert.deepEqual(what, [
        'vm',
        'network',
        'hook:backups',
        'hook:test-backups',
        'credentials',
        'ipv4',
        'vps',
        'contract',
        'retained',
      ]);
      assert.ok(rec.json()[0].completedAt);
      assert.equal((await get(`/v1/deletion-records`, alice)).statusCode, 403);
      const finals = (await notices('contract.terminated')).filter((m) => m.reason.includes(contractId));
      assert.equal(finals.length, 1);

      // Idempotence: the job again, and the deadline tick again, change nothing.
      const calls = host.driver.calls.length + host.network.removed.length;
      await allJobs(t.services)
        .find((j) => j.name === 'contract.terminate')!
        .handler({ terminationId: term.id } as never, { id: 'x', retryCount: 1 });
      await t.scheduler.tick();
      await runJobs();
      assert.equal(host.driver.calls.length + host.network.removed.length, calls);
      assert.equal(
        (await notices('contract.terminated')).filter((m) => m.reason.includes(contractId)).length,
        1,
      );
      const rec2 = await get(`/v1/deletion-records?contractId=${contractId}`, support);
      assert.deepEqual(rec2.json(), rec.json());
    } finally {
      unregisterTerminationHook('test-backups');
    }
  });

  it('resumes after a failed step without repeating the done ones', async () => {
    const { contractId, vpsId } = await makeContract();
    let failOnce = true;
    registerTerminationHook('flaky', async () => {
      if (failOnce) {
        failOnce = false;
        throw new Error('backup store unreachable');
      }
      return {};
    });
    try {
      await t.services.terminations.terminate(t.database.db, {
        contractId,
        cause: 'term_end',
        effectiveAt: t.clock.now(),
        recordedBy: 'system',
        reason: 'term reached',
      });
      await t.scheduler.tick();
      const job = allJobs(t.services).find((j) => j.name === 'contract.terminate')!;
      const term = await terminationOf(contractId);
      await assert.rejects(
        job.handler({ terminationId: term.id } as never, { id: 'a', retryCount: 0 }),
        /backup store unreachable/,
      );
      const mid = await terminationOf(contractId);
      assert.equal(mid.deletion_step, 'network');
      assert.equal(mid.deletion_errors, 1);
      const destroys = host.driver.calls.filter((c) => c === `destroy ${vpsId}`).length;
      await job.handler({ terminationId: term.id } as never, { id: 'a', retryCount: 1 });
      assert.equal(host.driver.calls.filter((c) => c === `destroy ${vpsId}`).length, destroys);
      assert.equal((await terminationOf(contractId)).state, 'done');
      const contract = await t.database.db
        .selectFrom('contracts')
        .select('state')
        .where('id', '=', contractId)
        .executeTakeFirstOrThrow();
      assert.equal(contract.state, 'ended');
    } finally {
      unregisterTerminationHook('flaky');
    }
  });

  it('R12.3 breach: terminated now, the VM paused and the VPS isolated at once, deleted at the next tick', async () => {
    const { contractId, vpsId } = await makeContract();
    admin = await login(t, adminCreds.email, { totpSecret: adminCreds.totpSecret });
    const r = await post(`/v1/contracts/${contractId}/terminations/breach`, admin, {
      reason: 'Spam relay (art. 6)',
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().termination.cause, 'provider_breach');
    assert.equal(r.json().termination.effectiveAt, t.clock.now().toISOString());
    assert.equal(r.json().cut.paused, true);
    assert.equal((await vpsRow(vpsId)).state, 'paused');
    const m = await t.database.db
      .selectFrom('network_blocks')
      .select('kind')
      .where('vps_id', '=', vpsId)
      .where('lifted_at', 'is', null)
      .execute();
    assert.deepEqual(
      m.map((x) => x.kind),
      ['isolate'],
    );
    await t.scheduler.tick();
    await runJobs();
    assert.equal((await vpsRow(vpsId)).state, 'destroyed');
    assert.equal((await terminationOf(contractId)).state, 'done');
  });
  it('R12.3 breach of a stopped VPS: it stays stopped and held, so its client cannot start it before the deletion', async () => {
    const { contractId, vpsId } = await makeContract();
    host.driver.vms.set(vpsId, 'stopped');
    await t.database.db.updateTable('vps').set({ state: 'stopped' }).where('id', '=', vpsId).execute();
    admin = await login(t, adminCreds.email, { totpSecret: adminCreds.totpSecret });
    alice = await login(t, aliceEmail);
    const r = await post(`/v1/contracts/${contractId}/terminations/breach`, admin, { reason: 'Spam relay' });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().cut.paused, false, 'nothing to pause');
    const seen = await get(`/v1/vps/${vpsId}`, alice);
    assert.equal(seen.json().suspended, true);
    const start = await post(`/v1/vps/${vpsId}/actions/start`, alice, {});
    assert.equal(start.statusCode, 409, start.body);
    assert.equal(start.json().code, 'vps.suspended');
    assert.equal(host.driver.vms.get(vpsId), 'stopped');
  });
});
