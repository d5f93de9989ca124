// Plan changes through the API (R3.12) with a fake host driver: the prorated invoice, the 48 h
// deadline from the payment, the job applying the change through driver.resize (live, or with a
// reboot announced by mail beforehand and run by the vps.power job), the VPS row and the
// contract's price updated, late changes flagged in the console when the driver refuses;
// suspended VPS, disk shrink, pending change, plan not sold there: 409 and nothing changed;
// another account's VPS: 404. Every client mail is in the notice chain (mail_notices).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOUR, MINUTE } from '../../src/domain/clock.ts';
import { allJobs } from '../../src/control/jobs/registry.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { FakeDriver, fakeAgents } from '../helpers/fake-driver.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let host: FakeDriver;
let admin: Session;
let alice: Session;
let bob: Session;
let aliceAccount: string;
let hostId: string;
let creds: { admin: { email: string; totpSecret: string }; alice: string; bob: string };
/** Sessions expire while the clock moves: log in again. */
async function relogin() {
  admin = await login(t, creds.admin.email, { totpSecret: creds.admin.totpSecret });
  alice = await login(t, creds.alice);
  bob = await login(t, creds.bob);
}
function advance(ms: number) {
  t.clock.advance(ms);
  return relogin();
}
let dcId: string;
const plans: Record<string, string> = {};

const { get, post } = requests(() => t);
const noProvisioning = { name: 'vps.provision', handler: async () => {} } as unknown as ReturnType<
  typeof allJobs
>[number];
const runJobs = () => t.queue.runAll([noProvisioning, ...allJobs(t.services)]);
const notices = (template: string) =>
  t.database.db
    .selectFrom('mail_notices')
    .selectAll()
    .where('template', '=', template)
    .where('account_id', '=', aliceAccount)
    .orderBy('at')
    .execute();
const count = async (table: 'plan_changes' | 'invoices') =>
  Number(
    (
      await t.database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

let nextIp = 10;
/** Alice orders plan S (subscription), staff are paid and validate; the VPS is set running on the host. */
async function aliceVps(
  hostname: string,
  state: 'running' | 'stopped' | 'paused' = 'running',
): Promise<string> {
  const o = await post('/v1/orders', alice, {
    planId: plans.S,
    datacenterId: dcId,
    kind: 'subscription',
    hostname,
  });
  assert.equal(o.statusCode, 201, o.body);
  const inv = o.json().invoice;
  const p = await post(`/v1/admin/invoices/${inv.id}/payments`, admin, {
    method: 'transfer',
    reference: `VIR-${hostname}`,
    amountCents: inv.totalCents,
  });
  assert.equal(p.statusCode, 201, p.body);
  const v = await post(`/v1/admin/orders/${o.json().order.id}/validate`, admin);
  const vpsId = (v.statusCode === 200 || v.statusCode === 201 ? v.json() : p.json()).contract.vpsId as string;
  await t.database.db
    .updateTable('vps')
    .set({
      state,
      host_id: hostId,
      ipv4: `192.0.2.${nextIp++}/24`,
      provision_step: 'access_codes',
      provision_percent: 100,
    })
    .where('id', '=', vpsId)
    .execute();
  if (state !== 'stopped') host.vms.set(vpsId, state);
  await runJobs();
  return vpsId;
}

async function payInvoice(invoiceId: string) {
  const inv = (await get(`/v1/invoices/${invoiceId}`, admin)).json();
  const r = await post(`/v1/admin/invoices/${invoiceId}/payments`, admin, {
    method: 'card',
    reference: `CB-${invoiceId.slice(0, 8)}`,
    amountCents: inv.totalCents,
  });
  assert.equal(r.statusCode, 201, r.body);
}

const vpsRow = (id: string) =>
  t.database.db.selectFrom('vps').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const contractOf = (id: string) =>
  t.database.db.selectFrom('contracts').selectAll().where('vps_id', '=', id).executeTakeFirstOrThrow();
const changeOf = async (vpsId: string, s: Session = alice) =>
  (await get(`/v1/vps/${vpsId}/plan-changes`, s)).json()[0];

before(async () => {
  host = new FakeDriver({ unknownVm: 'stopped' });
  t = await testApp({}, { agents: fakeAgents({ driver: host }) });
  const a = await makeStaff(t, 'admin');
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const ca = await makeClient(t);
  aliceAccount = ca.account.id;
  alice = await login(t, ca.email);
  const cb = await makeClient(t);
  bob = await login(t, cb.email);
  creds = { admin: { email: a.email, totpSecret: a.totpSecret }, alice: ca.email, bob: cb.email };
  const dc = await t.services.infra.createDatacenter(
    { code: 'PCH1', name: 'Plan changes', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  dcId = dc.id;
  const other = await t.services.infra.createDatacenter(
    { code: 'PCH2', name: 'Elsewhere', city: 'Lyon', country: 'FR', region: 'FR-ARA' },
    SYSTEM_ACTOR,
  );
  hostId = (
    await t.services.infra.registerHost(
      { name: 'hv-pc', datacenterId: dc.id, cpuCores: 8, memoryMiB: 32768, diskGiB: 500 },
      SYSTEM_ACTOR,
    )
  ).id;
  const mk = async (
    code: string,
    vcpus: number,
    memoryMiB: number,
    diskGiB: number,
    price: number,
    dcs = [dc.id],
  ) =>
    (plans[code] = (
      await t.services.commerce.createPlan(
        {
          code: `P-${code}`,
          name: `VPS ${code}`,
          vcpus,
          memoryMiB,
          diskGiB,
          monthlyPriceCents: price,
          vatRateBp: 2000,
          datacenterIds: dcs,
        },
        SYSTEM_ACTOR,
      )
    ).id);
  await mk('S', 1, 1024, 20, 500);
  await mk('M', 2, 2048, 40, 1000);
  await mk('XS', 1, 512, 10, 300);
  await mk('BIGDISK', 1, 1024, 60, 400);
  await mk('LYON', 4, 4096, 80, 2000, [other.id]);
});
after(async () => t?.close());

describe('R3.12 plan change paid at T is applied before T + 48 h', () => {
  it('live: invoice of the prorated difference, paid → deadline T + 48 h, the job resizes, VPS and contract updated, mails in the notice chain', async () => {
    const vpsId = await aliceVps('live1');
    await advance(10 * 24 * HOUR); // 11 Mar: 21 of the 31 days of the cycle 1 Mar → 1 Apr left
    const opts = (await get(`/v1/vps/${vpsId}/plan-change/options`, alice)).json();
    const m = opts.plans.find((p: { code: string }) => p.code === 'P-M');
    assert.equal(m.amountCents, 339); // 500 × 21 / 31 = 338.7 → 339
    assert.equal(
      opts.plans.find((p: { code: string }) => p.code === 'P-XS').refused,
      'plan_change.disk_shrink',
    );
    assert.ok(
      !opts.plans.some((p: { code: string }) => p.code === 'P-LYON'),
      'only plans sold in the VPS’s datacenter',
    );
    const r = await post(`/v1/vps/${vpsId}/plan-change`, alice, { planId: plans.M });
    assert.equal(r.statusCode, 201, r.body);
    const c = r.json();
    assert.equal(c.state, 'awaiting_payment');
    assert.equal(c.amountCents, 339);
    assert.deepEqual([c.remainingDays, c.cycleDays], [21, 31]);
    const inv = (await get(`/v1/invoices/${c.invoiceId}`, alice)).json();
    assert.equal(inv.netCents, 339);
    assert.equal(inv.totalCents, 407); // + 20 % VAT (67.8 → 68)
    assert.ok((await notices('invoice.issued')).some((n) => n.reason.includes('R3.12')));
    assert.equal(host.resizes.length, 0, 'nothing applied before the payment');

    await advance(2 * HOUR);
    const T = t.clock.now();
    await payInvoice(c.invoiceId);
    const paid = await changeOf(vpsId);
    assert.equal(paid.state, 'paid');
    assert.equal(paid.dueAt, new Date(T.getTime() + 48 * HOUR).toISOString());
    assert.equal(paid.deadline, 'on_time');
    const staffView = (await get('/v1/admin/plan-changes', admin)).json();
    assert.ok(
      staffView.some((x: { id: string; hostname: string }) => x.id === c.id && x.hostname === 'live1'),
    );

    await runJobs();
    const done = await changeOf(vpsId);
    assert.equal(done.state, 'applied');
    assert.equal(done.deadline, 'done');
    assert.ok(new Date(done.appliedAt) < new Date(done.dueAt));
    assert.deepEqual(host.resizes.at(-1), { vcpus: 2, memoryMiB: 2048, diskGiB: 40 });
    const v = await vpsRow(vpsId);
    assert.deepEqual([v.vcpus, v.memory_mib, v.disk_gib], [2, 2048, 40]);
    const k = await contractOf(vpsId);
    assert.equal(k.plan_id, plans.M);
    assert.equal(k.monthly_price_cents, 1000);
    assert.equal((await notices('vps.plan_changed')).length, 1);
    assert.equal((await notices('vps.plan_change_reboot')).length, 0, 'live: no reboot');
    // The deadline row is settled: nothing late later.
    await advance(49 * HOUR);
    await t.scheduler.tick();
    assert.equal((await changeOf(vpsId)).lateAt, null);
  });

  it('vCPUs at next start: the reboot is announced by mail beforehand, then run by the vps.power job', async () => {
    host.resizeMode = 'next_start';
    try {
      const vpsId = await aliceVps('reboot1');
      const r = await post(`/v1/vps/${vpsId}/plan-change`, alice, { planId: plans.M });
      assert.equal(r.statusCode, 201, r.body);
      const T = t.clock.now();
      await payInvoice(r.json().invoiceId);
      await runJobs();
      const waiting = await changeOf(vpsId);
      assert.equal(waiting.state, 'paid');
      assert.ok(waiting.rebootAt);
      const announced = (await notices('vps.plan_change_reboot')).filter((n) => n.at >= T);
      assert.equal(announced.length, 1, 'the client is told before the reboot');
      assert.ok(!host.calls.includes(`reboot ${vpsId}`), 'no reboot before the announced time');
      await advance(15 * MINUTE);
      await t.scheduler.tick();
      await runJobs();
      assert.ok(host.calls.includes(`reboot ${vpsId}`));
      const action = await t.database.db
        .selectFrom('vps_actions')
        .selectAll()
        .where('vps_id', '=', vpsId)
        .where('action', '=', 'reboot')
        .executeTakeFirstOrThrow();
      assert.equal(action.state, 'done');
      assert.ok(announced[0]!.at <= action.requested_at);
      const done = await changeOf(vpsId);
      assert.equal(done.state, 'applied');
      assert.ok(new Date(done.appliedAt).getTime() < T.getTime() + 48 * HOUR);
      assert.equal((await vpsRow(vpsId)).state, 'running');
    } finally {
      host.resizeMode = 'live';
    }
  });

  it('a cheaper plan with a bigger disk: nothing to pay, no invoice, the deadline runs from the order', async () => {
    const vpsId = await aliceVps('cheap1', 'stopped');
    const invoices = await count('invoices');
    const r = await post(`/v1/vps/${vpsId}/plan-change`, alice, { planId: plans.BIGDISK });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().amountCents, 0);
    assert.equal(r.json().invoiceId, null);
    assert.equal(r.json().state, 'paid');
    assert.equal(await count('invoices'), invoices);
    await runJobs();
    const done = await changeOf(vpsId);
    assert.equal(done.state, 'applied');
    assert.equal((await contractOf(vpsId)).monthly_price_cents, 400);
    assert.equal((await vpsRow(vpsId)).disk_gib, 60);
  });
});

describe('R3.12 a change that cannot be applied shows as late in the console', () => {
  it('driver refusing: error recorded, staff alerted; past T + 48 h: late, highlighted in the list', async () => {
    host.resizeMode = 'refuse';
    try {
      const vpsId = await aliceVps('late1');
      const r = await post(`/v1/vps/${vpsId}/plan-change`, alice, { planId: plans.M });
      await payInvoice(r.json().invoiceId);
      const T = t.clock.now();
      await runJobs();
      const failed = await changeOf(vpsId, admin);
      assert.equal(failed.state, 'paid');
      assert.match(failed.lastError, /not enough disk/);
      // The client reads a plain message, not the driver's error.
      const seen = await changeOf(vpsId);
      assert.equal(seen.state, 'paid');
      assert.ok(seen.lastError && !/disk|resize/i.test(seen.lastError), seen.lastError);
      assert.equal(failed.deadline, 'on_time');
      await advance(47 * HOUR);
      await t.scheduler.tick();
      await runJobs(); // retries fail again
      assert.equal((await changeOf(vpsId)).deadline, 'near');
      t.clock.set(new Date(T.getTime() + 48 * HOUR + MINUTE));
      await relogin();
      await t.scheduler.tick();
      await runJobs();
      const list = (await get('/v1/admin/plan-changes', admin)).json() as {
        id: string;
        deadline: string;
        lateAt: string | null;
      }[];
      const late = list.find((x) => x.id === r.json().id)!;
      assert.equal(late.deadline, 'late');
      assert.ok(late.lateAt);
      const alerts = await t.database.db
        .selectFrom('staff_alerts')
        .select('kind')
        .where('subject_id', '=', vpsId)
        .execute();
      assert.ok(alerts.some((a) => a.kind === 'plan_change_late'));
      assert.equal(
        alerts.filter((a) => a.kind === 'plan_change_failed').length,
        1,
        'one alert for the failure, not one per retry',
      );
      // The client sees it too.
      assert.equal((await changeOf(vpsId)).deadline, 'late');
      // Staff fix the host and retry: applied (late).
      host.resizeMode = 'live';
      const retry = await post(`/v1/admin/plan-changes/${r.json().id}/retry`, admin);
      assert.equal(retry.statusCode, 200, retry.body);
      await runJobs();
      assert.equal((await changeOf(vpsId)).deadline, 'done_late');
    } finally {
      host.resizeMode = 'live';
    }
  });
});

describe('bad input: clear conflicts, nothing changed', () => {
  it('suspended (paused) VPS → 409 plan_change.vps_suspended', async () => {
    const vpsId = await aliceVps('susp1', 'paused');
    const [changes, invoices, mails] = [
      await count('plan_changes'),
      await count('invoices'),
      (await notices('invoice.issued')).length,
    ];
    const r = await post(`/v1/vps/${vpsId}/plan-change`, alice, { planId: plans.M });
    assert.equal(r.statusCode, 409, r.body);
    assert.equal(r.json().code, 'plan_change.vps_suspended');
    assert.deepEqual(
      [await count('plan_changes'), await count('invoices'), (await notices('invoice.issued')).length],
      [changes, invoices, mails],
    );
  });

  it('disk shrink → 409 plan_change.disk_shrink; plan not sold there → 409; a second change pending → 409', async () => {
    const vpsId = await aliceVps('shrink1');
    const changes = await count('plan_changes');
    const s = await post(`/v1/vps/${vpsId}/plan-change`, alice, { planId: plans.XS });
    assert.equal(s.statusCode, 409);
    assert.equal(s.json().code, 'plan_change.disk_shrink');
    const l = await post(`/v1/vps/${vpsId}/plan-change`, alice, { planId: plans.LYON });
    assert.equal(l.statusCode, 409);
    assert.equal(l.json().code, 'plan_change.plan_not_sold_in_datacenter');
    assert.equal(await count('plan_changes'), changes);
    assert.equal((await vpsRow(vpsId)).disk_gib, 20);
    assert.equal((await post(`/v1/vps/${vpsId}/plan-change`, alice, { planId: plans.M })).statusCode, 201);
    const again = await post(`/v1/vps/${vpsId}/plan-change`, alice, { planId: plans.BIGDISK });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'plan_change.pending');
    // The unpaid change is dropped by its client: its invoice voided, another plan may be ordered.
    assert.equal((await post(`/v1/vps/${vpsId}/plan-change/cancel`, bob)).statusCode, 404);
    const cancelled = await post(`/v1/vps/${vpsId}/plan-change/cancel`, alice);
    assert.equal(cancelled.statusCode, 200, cancelled.body);
    assert.equal(cancelled.json().state, 'cancelled');
    const voided = (await get(`/v1/invoices/${cancelled.json().invoiceId}`, alice)).json();
    assert.equal(voided.status, 'void');
    assert.equal(
      (await post(`/v1/vps/${vpsId}/plan-change/cancel`, alice)).json().code,
      'plan_change.nothing_to_cancel',
    );
    assert.equal(
      (await post(`/v1/vps/${vpsId}/plan-change`, alice, { planId: plans.BIGDISK })).statusCode,
      201,
    );
  });

  it('tenancy: another account’s VPS → 404 (order, list, options); staff routes → 403 for clients', async () => {
    const vpsId = await aliceVps('ten1');
    const changes = await count('plan_changes');
    assert.equal((await post(`/v1/vps/${vpsId}/plan-change`, bob, { planId: plans.M })).statusCode, 404);
    assert.equal((await get(`/v1/vps/${vpsId}/plan-changes`, bob)).statusCode, 404);
    assert.equal((await get(`/v1/vps/${vpsId}/plan-change/options`, bob)).statusCode, 404);
    assert.equal((await get('/v1/admin/plan-changes', alice)).statusCode, 403);
    assert.equal(await count('plan_changes'), changes);
  });
});
