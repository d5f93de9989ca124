// The console home's figures (GET /v1/admin/dashboard) against fixtures each test builds on a
// real database: VPSs by state, hosts' capacity within their overcommit ratios (R2.1, R2.2),
// open alerts (R4.1), orders waiting for payment or validation (R11), revenue of the month in
// Paris time from paid invoices only — month boundaries checked by moving the injected clock
// across a Paris midnight that is not a UTC one —, and revenue hidden from support.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { requests } from '../helpers/requests.ts';

interface Figures {
  at: string;
  vps: { state: string; count: number }[];
  hosts: {
    name: string;
    state: string;
    vpsCount: number;
    vcpus: { used: number; allowed: number };
    memoryMiB: { used: number; allowed: number };
    diskGiB: { used: number; allowed: number };
  }[];
  openAlerts: number;
  orders: { awaitingPayment: number; awaitingValidation: number };
  revenue: null | {
    timeZone: string;
    from: string;
    to: string;
    currencies: {
      currency: string;
      invoices: number;
      netCents: number;
      vatCents: number;
      totalCents: number;
    }[];
  };
  setup: { datacenters: number; pools: number; hosts: number; plans: number; clients: number; vps: number };
}

let current: TestApp;
const { get } = requests(() => current);

async function setUp() {
  const t = await testApp({ INFOGERE_AUTO_VALIDATE_ON_PAYMENT: 'false' });
  current = t;
  const a = await makeStaff(t, 'admin');
  const sp = await makeStaff(t, 'support');
  const admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const support = await login(t, sp.email, { totpSecret: sp.totpSecret });
  /** A new admin session (after the clock moved past the last one's life; login moves it 30 s). */
  const adminAgain = () => login(t, a.email, { totpSecret: a.totpSecret });
  return { t, admin, support, adminAgain };
}

async function figures(s: Session): Promise<Figures> {
  const r = await get('/v1/admin/dashboard', s);
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
}

/** A datacenter, a 2-core/4 GiB/100 GiB host (CPU ×4, RAM ×1.5) and a plan sold there. */
async function infra(t: TestApp) {
  const dc = await t.services.infra.createDatacenter(
    { code: 'PAR1', name: 'Paris 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  await t.services.infra.createPool(
    { datacenterId: dc.id, cidr: '192.0.2.0/24', gateway: '192.0.2.1' },
    SYSTEM_ACTOR,
  );
  const host = await t.services.infra.registerHost(
    {
      name: 'hv1',
      datacenterId: dc.id,
      cpuCores: 2,
      memoryMiB: 4096,
      diskGiB: 100,
      cpuOvercommit: 4,
      ramOvercommit: 1.5,
    },
    SYSTEM_ACTOR,
  );
  const plan = await t.services.commerce.createPlan(
    {
      code: 'S1',
      name: 'VPS S',
      vcpus: 2,
      memoryMiB: 1024,
      diskGiB: 20,
      monthlyPriceCents: 1000,
      vatRateBp: 2000,
      datacenterIds: [dc.id],
    },
    SYSTEM_ACTOR,
  );
  return { dc, host, plan };
}

async function order(t: TestApp, planId: string, datacenterId: string) {
  const c = await makeClient(t);
  return t.services.commerce.placeOrder(
    { kind: 'client', userId: c.user.id, accountId: c.account.id },
    c.user.id,
    { planId, datacenterId, kind: 'subscription', hostname: 'web1' },
    SYSTEM_ACTOR,
  );
}

const pay = (t: TestApp, invoice: { id: string; total_cents: number }) =>
  t.services.commerce.recordPayment(
    invoice.id,
    { method: 'transfer', reference: `VIR-${invoice.id.slice(0, 8)}`, amountCents: invoice.total_cents },
    SYSTEM_ACTOR,
  );

describe('console home figures (GET /v1/admin/dashboard)', () => {
  it('an empty platform: nothing set up, nothing to do, no revenue', async () => {
    const { t, admin } = await setUp();
    try {
      const f = await figures(admin);
      assert.deepEqual(f.vps, []);
      assert.deepEqual(f.hosts, []);
      assert.equal(f.openAlerts, 0);
      assert.deepEqual(f.orders, { awaitingPayment: 0, awaitingValidation: 0 });
      assert.deepEqual(f.revenue?.currencies, []);
      assert.deepEqual(f.setup, { datacenters: 0, pools: 0, hosts: 0, plans: 0, clients: 0, vps: 0 });
      assert.equal(f.at, t.clock.now().toISOString(), 'read at the injected clock');
    } finally {
      await t.close();
    }
  });

  it('R2.1 R2.2 R4.1 R11.2: VPSs by state, host capacity within its ratios, open alerts, orders waiting for payment and for validation', async () => {
    const { t, admin, support } = await setUp();
    try {
      const { dc, host, plan } = await infra(t);
      // Three orders: one unpaid, one paid (waits for staff), one paid and validated (a VPS).
      await order(t, plan.id, dc.id);
      const paidOnly = await order(t, plan.id, dc.id);
      await pay(t, paidOnly.invoice);
      const validated = await order(t, plan.id, dc.id);
      await pay(t, validated.invoice);
      const v = await t.services.commerce.validateOrder(validated.order.id, SYSTEM_ACTOR);
      // Two more VPSs placed on the host in other states, and one destroyed (holds nothing).
      const db = t.database.db;
      const base = await db
        .selectFrom('vps')
        .selectAll()
        .where('id', '=', v.contract.vps_id)
        .executeTakeFirstOrThrow();
      const { id: _id, ...copy } = base;
      await db.updateTable('vps').set({ host_id: host.id }).where('id', '=', base.id).execute();
      await db
        .insertInto('vps')
        .values([
          {
            ...copy,
            hostname: 'run1',
            host_id: host.id,
            state: 'running',
            vcpus: 3,
            memory_mib: 2048,
            disk_gib: 30,
          },
          {
            ...copy,
            hostname: 'stop1',
            host_id: host.id,
            state: 'stopped',
            vcpus: 1,
            memory_mib: 512,
            disk_gib: 10,
          },
          {
            ...copy,
            hostname: 'gone1',
            host_id: host.id,
            state: 'destroyed',
            vcpus: 8,
            memory_mib: 8192,
            disk_gib: 50,
          },
        ])
        .execute();
      await t.services.alerts.raise({
        kind: 'vm_crashed',
        subject_type: 'vps',
        subject_id: randomUUID(),
        message: 'a',
      });
      await t.services.alerts.raise({
        kind: 'power_failed',
        subject_type: 'vps',
        subject_id: randomUUID(),
        message: 'b',
      });
      const [seen] = await t.services.alerts.list();
      await t.services.alerts.acknowledge(seen!.id, SYSTEM_ACTOR);

      const f = await figures(admin);
      assert.deepEqual(f.vps, [
        { state: 'destroyed', count: 1 },
        { state: 'pending', count: 1 },
        { state: 'running', count: 1 },
        { state: 'stopped', count: 1 },
      ]);
      assert.deepEqual(f.hosts, [
        {
          id: host.id,
          name: 'hv1',
          state: 'active',
          vpsCount: 3,
          vcpus: { used: 2 + 3 + 1, allowed: 8 },
          memoryMiB: { used: 1024 + 2048 + 512, allowed: 6144 },
          diskGiB: { used: 20 + 30 + 10, allowed: 100 },
        },
      ]);
      assert.equal(f.openAlerts, 1, 'the acknowledged alert is not open');
      assert.deepEqual(f.orders, { awaitingPayment: 1, awaitingValidation: 1 });
      assert.deepEqual(f.setup, { datacenters: 1, pools: 1, hosts: 1, plans: 1, clients: 3, vps: 3 });
      // Support reads the same figures, without the money.
      const fs = await figures(support);
      assert.equal(fs.revenue, null, 'revenue is an admin figure (docs/security.md)');
      assert.deepEqual({ ...fs, revenue: f.revenue, at: f.at }, f);
    } finally {
      await t.close();
    }
  });

  it('R11.2: revenue this month is the paid invoices of the Paris-time month, net and VAT, per currency; unpaid and voided ones are not revenue', async () => {
    const { t, adminAgain } = await setUp();
    try {
      const { dc, plan } = await infra(t);
      // Paid at 2026-03-31 23:30 Paris (21:30 UTC, summer time since 29 March): March.
      t.clock.set('2026-03-31T21:30:00Z');
      const march = await order(t, plan.id, dc.id);
      await pay(t, march.invoice);
      await order(t, plan.id, dc.id); // unpaid
      const voided = await order(t, plan.id, dc.id);
      const c = await t.database.db
        .selectFrom('orders')
        .select(['account_id'])
        .where('id', '=', voided.order.id)
        .executeTakeFirstOrThrow();
      await t.services.commerce.cancelOrder(
        { kind: 'client', userId: voided.order.user_id!, accountId: c.account_id },
        voided.order.id,
        'changed my mind',
        SYSTEM_ACTOR,
      );

      // At 23:45 Paris on 31 March: March began at 1 March 00:00 Paris in winter time (UTC+1).
      t.clock.set('2026-03-31T21:45:00Z');
      let f = await figures(await adminAgain());
      assert.equal(f.revenue?.timeZone, 'Europe/Paris');
      assert.equal(f.revenue?.from, '2026-02-28T23:00:00.000Z');
      assert.equal(f.revenue?.to, '2026-03-31T22:00:00.000Z', '1 April 00:00 Paris (UTC+2)');
      assert.deepEqual(f.revenue?.currencies, [
        { currency: 'EUR', invoices: 1, netCents: 1000, vatCents: 200, totalCents: 1200 },
      ]);

      // Paid at 2026-04-01 00:30 Paris (22:30 UTC on 31 March): April, though still March in UTC.
      t.clock.set('2026-03-31T22:30:00Z');
      const april = await order(t, plan.id, dc.id);
      await pay(t, april.invoice);
      f = await figures(await adminAgain());
      assert.equal(f.revenue?.from, '2026-03-31T22:00:00.000Z');
      assert.equal(f.revenue?.to, '2026-04-30T22:00:00.000Z');
      assert.deepEqual(
        f.revenue?.currencies,
        [{ currency: 'EUR', invoices: 1, netCents: 1000, vatCents: 200, totalCents: 1200 }],
        "April's invoice only",
      );

      // A month later, both are past: this month has earned nothing yet.
      t.clock.set('2026-05-02T08:00:00Z');
      f = await figures(await adminAgain());
      assert.deepEqual(f.revenue?.currencies, []);
    } finally {
      await t.close();
    }
  });

  it('clients and anonymous callers are refused', async () => {
    const { t } = await setUp();
    try {
      const c = await makeClient(t);
      const cs = await login(t, c.email);
      assert.equal((await get('/v1/admin/dashboard', cs)).statusCode, 403);
      assert.equal((await get('/v1/admin/dashboard')).statusCode, 401);
    } finally {
      await t.close();
    }
  });
});
