// Termination on real parts (issue 6 item 5, R12.3/R12.4): the platform with its real pg-boss,
// the local host agent in a namespace the test owns, one real QEMU guest provisioned by the
// platform. A breach terminates the contract now (VM paused, VPS isolated); the scheduler's tick
// queues the deletion job, which leaves no QEMU process, no disk, config drive or state
// directory, no tap in the namespace, no credentials in the row; the IPv4 is in quarantine, the
// deletion record is complete and the final email reached the SMTP server and the notice chain.
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/agent/exec/run.ts';
import { tapName } from '../../src/agent/net/index.ts';
import type { Platform } from '../../src/control/platform.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { CURRENT_TERMS } from '../../src/domain/terms.ts';
import { labInfra, startLabPlatform, type LabPlatform } from '../helpers/lab-platform.ts';
import { until } from '../helpers/until.ts';
import type { VpsLab } from '../helpers/vps-lab.ts';

let labPlatform: LabPlatform | undefined;
let lab: VpsLab;
let platform: Platform;

before(async () => {
  labPlatform = await startLabPlatform();
  ({ lab, platform } = labPlatform);
});
after(() => labPlatform?.stop());

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('termination of a real VM (real QEMU, real pg-boss, real SMTP)', () => {
  it('breach → cut at once → the deletion job leaves nothing on the host; IPv4 quarantined; final email in the notice chain (R12.3, R12.4)', async () => {
    const s = platform.services;
    const db = platform.db;
    const { dc, host } = await labInfra(s, { code: 'TRM1', name: 'Term' });
    const c = await s.identity.createClientAccount(
      {
        accountName: 'Term',
        email: 'term@example.test',
        name: 'Term Client',
        password: 'a long enough password',
        language: 'en',
      },
      SYSTEM_ACTOR,
    );
    const v = await db.transaction().execute((tx) =>
      s.infra.requestVps(tx, {
        accountId: c.account.id,
        datacenterId: dc.id,
        hostname: 'trm1',
        vcpus: 1,
        memoryMiB: 256,
        diskGiB: 1,
        billingAnchor: new Date(),
        clientUsername: 'camille',
      }),
    );
    const row = () => db.selectFrom('vps').selectAll().where('id', '=', v.id).executeTakeFirstOrThrow();
    await until('the VPS to run', async () => {
      const r = await row();
      if (r.state === 'failed') throw new Error(`provisioning failed: ${r.state_reason}`);
      return r.state === 'running';
    });
    // Its contract (the commerce path is tested elsewhere: the rows are written directly).
    const now = new Date();
    const plan = await db
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
      .executeTakeFirstOrThrow();
    const order = await db
      .insertInto('orders')
      .values({
        account_id: c.account.id,
        user_id: null,
        plan_id: plan.id,
        datacenter_id: dc.id,
        kind: 'fixed',
        term_months: 1,
        hostname: 'trm1',
        client_username: 'camille',
        plan_code: 'TRM-S',
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
    const contract = await db
      .insertInto('contracts')
      .values({
        account_id: c.account.id,
        order_id: order.id,
        vps_id: v.id,
        plan_id: plan.id,
        datacenter_id: dc.id,
        terms_version: CURRENT_TERMS.version,
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
      .returning('id')
      .executeTakeFirstOrThrow();

    const driver = (await s.ctx.agents.forHost(host)).driver;
    const before = await driver.status(v.id);
    assert.ok(before.pid && alive(before.pid));
    assert.ok(await exists(before.diskPath));
    const tap = tapName(v.id);
    assert.match((await run(['ip', '-n', lab.ns, 'link', 'show'])).stdout, new RegExp(tap));
    const address = (await row()).ipv4!.split('/')[0]!;

    // R12.3: cut at once and terminated now.
    const r = await s.terminations.breach({ ...SYSTEM_ACTOR, label: 'test' }, contract.id, {
      reason: 'Spam relay (art. 6)',
    });
    assert.equal(r.cut.paused, true);
    assert.equal((await driver.status(v.id)).state, 'paused');
    assert.equal((await row()).state, 'paused');

    // The effective date is now: the scheduler's tick queues the deletion job (real pg-boss).
    await platform.scheduler.tick();
    const term = await until(
      'the deletion to finish',
      async () => {
        const t = await db
          .selectFrom('terminations')
          .selectAll()
          .where('id', '=', r.termination.id)
          .executeTakeFirstOrThrow();
        return t.state === 'done' ? t : undefined;
      },
      180_000,
    );
    assert.equal(term.last_error, null);

    // Nothing left on the host.
    assert.equal(alive(before.pid), false, 'no QEMU process');
    assert.equal(await exists(before.diskPath), false, 'no disk file');
    const rec = (await s.terminations.deletionRecords({ contractId: contract.id }))[0]!;
    const wiped = (rec.deleted.find((d) => d.what === 'vm')?.details?.wiped ?? []) as string[];
    assert.ok(wiped.length > 0);
    for (const p of wiped) assert.equal(await exists(p), false, `${p} remains`);
    await assert.rejects(driver.status(v.id), { code: 'vm.not_found' });
    assert.doesNotMatch((await run(['ip', '-n', lab.ns, 'link', 'show'])).stdout, new RegExp(tap), 'no tap');
    const orphans = await driver.orphans();
    assert.deepEqual([...orphans.processes, ...orphans.disks, ...orphans.stateDirs, ...orphans.taps], []);

    // The rows: no credentials, destroyed, contract terminated, IPv4 in quarantine, record complete.
    const vps = await row();
    assert.equal(vps.state, 'destroyed');
    assert.equal(vps.root_password_enc, null);
    assert.equal(vps.initial_password_enc, null);
    assert.equal(
      (await db.selectFrom('access_links').select('id').where('vps_id', '=', v.id).execute()).length,
      0,
    );
    const ip = await db
      .selectFrom('ip_addresses')
      .selectAll()
      .where('vps_id', '=', v.id)
      .executeTakeFirstOrThrow();
    assert.equal(ip.state, 'quarantined');
    assert.ok(ip.quarantine_until && ip.quarantine_until.getTime() > Date.now());
    assert.ok(rec.completedAt);
    assert.deepEqual(
      rec.deleted.map((d) => d.what),
      // hook:backups: the backups module's deletion of this VPS's repository (R12.4).
      ['vm', 'network', 'hook:backups', 'credentials', 'ipv4', 'vps', 'contract', 'retained'],
    );
    assert.equal(rec.deleted.find((d) => d.what === 'ipv4')?.details?.address, address);
    const ct = await db
      .selectFrom('contracts')
      .select('state')
      .where('id', '=', contract.id)
      .executeTakeFirstOrThrow();
    assert.equal(ct.state, 'terminated');

    // Both emails reached the SMTP server and are in the notice chain.
    for (const [template, subject] of [
      ['contract.termination_scheduled', 'Termination of your contract for the VPS trm1'],
      ['contract.terminated', 'Your contract has ended: the VPS trm1 was deleted'],
    ] as const) {
      const n = await db
        .selectFrom('mail_notices')
        .selectAll()
        .where('template', '=', template)
        .where('account_id', '=', c.account.id)
        .execute();
      assert.equal(n.length, 1, template);
      const got = await until(
        `the ${template} mail`,
        async () => lab.smtp.received.find((m) => m.subject === subject),
        60_000,
      );
      assert.deepEqual(got.to, ['term@example.test']);
      assert.equal(got.messageId.replace(/[<>]/g, ''), n[0]!.message_id.replace(/[<>]/g, ''));
    }
  });
});
