// A plan change on real parts (R3.12): the platform with its real pg-boss, the local host agent
// in a namespace the test owns, ONE real QEMU guest. The client orders a plan with a bigger
// disk, the invoice of the difference is paid, the `vps.plan_change` job grows the disk live
// through the driver (block_resize, then resize2fs through the guest agent): the guest's `df`
// sees the new size, the VPS row and the contract say the new plan, the change is applied
// before its deadline.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Platform } from '../../src/control/platform.ts';
import type { Scope } from '../../src/control/repositories/scope.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { labInfra, startLabPlatform, type LabPlatform } from '../helpers/lab-platform.ts';
import { until } from '../helpers/until.ts';

const GiB = 2 ** 30;
let labPlatform: LabPlatform | undefined;
let platform: Platform;

before(async () => {
  labPlatform = await startLabPlatform();
  ({ platform } = labPlatform);
});
after(() => labPlatform?.stop());

describe('R3.12 plan change on a real VM: the disk grows and the guest sees it', () => {
  it('ordered, paid, applied by the job before its deadline; guest df shows the grown filesystem', async () => {
    const s = platform.services;
    const { dc, host } = await labInfra(s, { code: 'PCR1', name: 'Plan change' });
    const plan = (code: string, diskGiB: number, price: number) =>
      s.commerce.createPlan(
        {
          code,
          name: `VPS ${code}`,
          vcpus: 1,
          memoryMiB: 256,
          diskGiB,
          monthlyPriceCents: price,
          vatRateBp: 2000,
          datacenterIds: [dc.id],
        },
        SYSTEM_ACTOR,
      );
    const small = await plan('PC-S', 1, 500);
    const big = await plan('PC-G', 2, 800);
    const c = await s.identity.createClientAccount(
      {
        accountName: 'Plan change',
        email: 'plan@example.test',
        name: 'Plan Client',
        password: 'a long enough password',
        language: 'en',
      },
      SYSTEM_ACTOR,
    );
    const scope: Scope = { kind: 'client', userId: c.user.id, accountId: c.account.id };
    const actor = { userId: c.user.id, label: c.user.email, ip: null };
    const { order, invoice } = await s.commerce.placeOrder(
      scope,
      c.user.id,
      { planId: small.id, datacenterId: dc.id, kind: 'subscription', hostname: 'pc1' },
      actor,
    );
    const paid = await s.commerce.recordPayment(
      invoice.id,
      { method: 'transfer', reference: 'VIR-1', amountCents: invoice.total_cents },
      SYSTEM_ACTOR,
    );
    const contract = paid.contract ?? (await s.commerce.validateOrder(order.id, SYSTEM_ACTOR)).contract;
    const vpsId = contract.vps_id!;
    const row = () =>
      platform.db.selectFrom('vps').selectAll().where('id', '=', vpsId).executeTakeFirstOrThrow();
    await until('the VPS to run', async () => {
      const r = await row();
      if (r.state === 'failed') throw new Error(`provisioning failed: ${r.state_reason}`);
      return r.state === 'running';
    });
    const driver = (await s.ctx.agents.forHost(host)).driver;
    await until('the guest agent', async () => (await driver.status(vpsId)).guestAgentUp);
    const rootSize = async () => {
      // BusyBox df in the guest: POSIX format, 1024-byte blocks, the size is the 2nd column.
      const r = await driver.guestExec(vpsId, ['df', '-P', '-k', '/']);
      assert.equal(r.exitCode, 0, r.stderr);
      return Number(r.stdout.trim().split('\n').at(-1)!.trim().split(/\s+/)[1]) * 1024;
    };
    const before = await rootSize();
    assert.ok(before < 1.1 * GiB, `root before: ${before}`);

    const change = await s.planChanges.order(scope, vpsId, big.id, actor);
    assert.ok(change.invoiceId);
    const inv = await s.commerce.getInvoice(scope, change.invoiceId);
    await s.commerce.recordPayment(
      inv.id,
      { method: 'card', reference: 'CB-1', amountCents: inv.total_cents },
      SYSTEM_ACTOR,
    );
    const done = await until(
      'the change to be applied',
      async () => {
        const [x] = await s.planChanges.list(scope, vpsId);
        if (x?.lastError) throw new Error(`plan change failed: ${x.lastError}`);
        return x?.state === 'applied' ? x : undefined;
      },
      120_000,
    );
    assert.ok(new Date(done.appliedAt!) < new Date(done.dueAt!));
    const after = await rootSize();
    assert.ok(after > 1.5 * GiB, `the guest's df sees the grown filesystem: ${before} → ${after}`);
    const v = await row();
    assert.equal(v.disk_gib, 2);
    assert.equal(v.state, 'running', 'a disk grow needs no reboot');
    const k = await platform.db
      .selectFrom('contracts')
      .selectAll()
      .where('vps_id', '=', vpsId)
      .executeTakeFirstOrThrow();
    assert.equal(k.plan_id, big.id);
    assert.equal(k.monthly_price_cents, 800);
  });
});
