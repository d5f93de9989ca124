// The first-run setup's own routes (docs/first-run.md) on a real database: this machine's
// figures, its enrolment as the one local host (lab: the lab namespace stored on the host row,
// nothing opened yet), a second enrolment refused, and the test client's VPS ordered, paid and
// validated in one call (R3.1: provisioning queued as for any order), twice for the same client.
import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { login, makeStaff, testApp, type TestApp } from '../helpers/app.ts';
import { requests } from '../helpers/requests.ts';

let current: TestApp;
const { get, post } = requests(() => current);

describe('first-run setup routes', () => {
  it('R2.1 R2.2 R3.1: enrols this machine once (lab namespace kept on the host), then orders, pays and validates a test VPS', async () => {
    const t = await testApp({
      INFOGERE_LAB_NETNS: 'lab-under-test',
      INFOGERE_AUTO_VALIDATE_ON_PAYMENT: 'false',
    });
    current = t;
    try {
      const a = await makeStaff(t, 'admin');
      const admin = await login(t, a.email, { totpSecret: a.totpSecret });
      const m = await get('/v1/admin/first-run/machine', admin);
      assert.equal(m.statusCode, 200, m.body);
      const machine = m.json();
      assert.equal(machine.cpuCores, os.availableParallelism());
      assert.equal(machine.memoryMiB, Math.floor(os.totalmem() / 1024 / 1024));
      assert.ok(machine.diskGiB >= 1);
      assert.equal(machine.labNetns, 'lab-under-test');
      assert.equal(machine.localHost, null);

      const dc = await post('/v1/admin/datacenters', admin, {
        code: 'PAR1',
        name: 'Paris 1',
        city: 'Paris',
        country: 'FR',
        region: 'FR-IDF',
      });
      assert.equal(dc.statusCode, 201, dc.body);
      const datacenterId = dc.json().id as string;
      assert.equal(
        (await post('/v1/admin/pools', admin, { datacenterId, cidr: '192.0.2.0/24', gateway: '192.0.2.1' }))
          .statusCode,
        201,
      );
      const h = await post('/v1/admin/first-run/host', admin, { datacenterId, name: 'local', lab: true });
      assert.equal(h.statusCode, 201, h.body);
      assert.equal(h.json().netns, 'lab-under-test');
      const row = await t.database.db.selectFrom('hosts').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual(
        [row.cpu_cores, row.memory_mib, row.disk_gib, row.agent, row.netns],
        [machine.cpuCores, machine.memoryMiB, machine.diskGiB, 'local', 'lab-under-test'],
      );
      const again = await post('/v1/admin/first-run/host', admin, {
        datacenterId,
        name: 'other',
        lab: false,
      });
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().code, 'host.local_exists');

      const plan = await post('/v1/admin/plans', admin, {
        code: 'XS1',
        name: 'VPS XS',
        vcpus: 1,
        memoryMiB: 256,
        diskGiB: 1,
        monthlyPriceCents: 499,
        vatRateBp: 2000,
        datacenterIds: [datacenterId],
      });
      assert.equal(plan.statusCode, 201, plan.body);
      const o = await post('/v1/admin/first-run/test-order', admin, {
        planId: plan.json().id,
        datacenterId,
        hostname: 'essai1',
      });
      assert.equal(o.statusCode, 201, o.body);
      const { orderId, vpsId, accountId, invoiceNumber } = o.json();
      const db = t.database.db;
      const order = await db
        .selectFrom('orders')
        .selectAll()
        .where('id', '=', orderId)
        .executeTakeFirstOrThrow();
      assert.equal(order.state, 'validated', 'validated even with automatic validation off');
      const inv = await db
        .selectFrom('invoices')
        .selectAll()
        .where('number', '=', invoiceNumber)
        .executeTakeFirstOrThrow();
      assert.equal(inv.status, 'paid');
      const pay = await db
        .selectFrom('payments')
        .selectAll()
        .where('invoice_id', '=', inv.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual([pay.method, pay.reference, pay.amount_cents], ['cash', 'first-run test', 599]);
      const vps = await db.selectFrom('vps').selectAll().where('id', '=', vpsId).executeTakeFirstOrThrow();
      assert.deepEqual([vps.state, vps.hostname, vps.account_id], ['pending', 'essai1', accountId]);
      assert.ok(
        t.queue.sent.some((j) => j.name === 'vps.provision'),
        'provisioning queued',
      );

      // A second test VPS goes to the same test client.
      const o2 = await post('/v1/admin/first-run/test-order', admin, {
        planId: plan.json().id,
        datacenterId,
        hostname: 'essai2',
      });
      assert.equal(o2.statusCode, 201, o2.body);
      assert.equal(o2.json().accountId, accountId);
    } finally {
      await t.close();
    }
  });
});
