// VPS power actions on real parts (issue 3 item 7): the platform with its real pg-boss, the local
// host agent in a namespace the test owns, one real QEMU guest shared by the subtests. Stop (the
// ladder, its rung reported), start, reboot, power off through the `vps.power` job, checking the
// QEMU process and the VPS state each time; then a QEMU killed with SIGKILL turns the VPS
// `failed` with the reason and a staff alert.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HostDriver } from '../../src/agent/driver.ts';
import type { Platform } from '../../src/control/platform.ts';
import { SYSTEM_SCOPE } from '../../src/control/repositories/scope.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import type { PowerAction } from '../../src/domain/vps-power.ts';
import { labInfra, startLabPlatform, type LabPlatform } from '../helpers/lab-platform.ts';
import { until } from '../helpers/until.ts';

let labPlatform: LabPlatform | undefined;
let platform: Platform;

before(async () => {
  labPlatform = await startLabPlatform();
  ({ platform } = labPlatform);
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

describe('power actions on a real VM (real QEMU, real pg-boss)', () => {
  let vpsId: string;
  let driver: HostDriver;
  const row = () =>
    platform.db.selectFrom('vps').selectAll().where('id', '=', vpsId).executeTakeFirstOrThrow();

  /** Asks for an action through the service the route uses, waits for its job to finish. */
  async function act(action: PowerAction) {
    const r = await platform.services.vps.requestPower(SYSTEM_SCOPE, vpsId, action, {
      ...SYSTEM_ACTOR,
      label: 'test',
    });
    assert.equal(r.action.state, 'queued');
    const done = await until(
      `${action} to finish`,
      async () => {
        const a = await platform.db
          .selectFrom('vps_actions')
          .selectAll()
          .where('id', '=', r.action.id)
          .executeTakeFirstOrThrow();
        return a.state === 'done' || a.state === 'failed' ? a : undefined;
      },
      180_000,
    );
    assert.equal(done.state, 'done', done.error ?? '');
    return done;
  }

  before(async () => {
    const s = platform.services;
    const { dc, host } = await labInfra(s, { code: 'PWR1', name: 'Power' });
    const c = await s.identity.createClientAccount(
      {
        accountName: 'Power',
        email: 'power@example.test',
        name: 'Power Client',
        password: 'a long enough password',
        language: 'en',
      },
      SYSTEM_ACTOR,
    );
    const v = await platform.db.transaction().execute((tx) =>
      s.infra.requestVps(tx, {
        accountId: c.account.id,
        datacenterId: dc.id,
        hostname: 'pwr1',
        vcpus: 1,
        memoryMiB: 256,
        diskGiB: 1,
        billingAnchor: new Date(),
        clientUsername: 'camille',
      }),
    );
    vpsId = v.id;
    await until('the VPS to run', async () => {
      const r = await row();
      if (r.state === 'failed') throw new Error(`provisioning failed: ${r.state_reason}`);
      return r.state === 'running';
    });
    driver = (await platform.services.ctx.agents.forHost(host)).driver;
  });

  it('stop: the ladder ends it (the rung is reported), QEMU is gone, the VPS is stopped; a second stop is a conflict', async () => {
    const { pid } = await driver.status(vpsId);
    assert.ok(pid && alive(pid));
    const a = await act('stop');
    const result = a.result as { endedBy: string; rungs: { kind: string; ended: boolean }[] };
    assert.ok(['guest_agent', 'acpi', 'sigterm', 'sigkill'].includes(result.endedBy));
    assert.equal(result.rungs.at(-1)?.ended, true);
    assert.equal((await row()).state, 'stopped');
    assert.match((await row()).state_reason ?? '', new RegExp(result.endedBy));
    assert.equal(alive(pid), false);
    assert.equal((await driver.status(vpsId)).state, 'stopped');
    await assert.rejects(platform.services.vps.requestPower(SYSTEM_SCOPE, vpsId, 'stop', SYSTEM_ACTOR), {
      code: 'vps.illegal_transition',
    });
  });

  it('start: a new QEMU runs, the VPS is running', async () => {
    await act('start');
    const st = await driver.status(vpsId);
    assert.equal(st.state, 'running');
    assert.ok(st.pid && alive(st.pid));
    assert.equal((await row()).state, 'running');
    await until('the guest agent', async () => (await driver.status(vpsId)).guestAgentUp, 120_000);
  });

  it('reboot: the guest restarts in the same QEMU process, the VPS stays running', async () => {
    const { pid } = await driver.status(vpsId);
    await act('reboot');
    const st = await driver.status(vpsId);
    assert.equal(st.state, 'running');
    assert.equal(st.pid, pid);
    assert.equal((await row()).state, 'running');
  });

  it('poweroff: QEMU ends at once, the VPS is stopped', async () => {
    const { pid } = await driver.status(vpsId);
    await act('poweroff');
    assert.equal(alive(pid!), false);
    assert.equal((await driver.status(vpsId)).state, 'stopped');
    assert.equal((await row()).state, 'stopped');
  });

  it('a QEMU killed with SIGKILL turns the VPS failed with the reason, and staff are alerted', async () => {
    await act('start');
    const { pid } = await driver.status(vpsId);
    process.kill(pid!, 'SIGKILL');
    const failed = await until(
      'the VPS to fail',
      async () => {
        const r = await row();
        return r.state === 'failed' ? r : undefined;
      },
      30_000,
    );
    assert.match(failed.state_reason ?? '', /QEMU died unexpectedly/);
    assert.match(failed.state_reason ?? '', /SIGKILL|signal|killed/i);
    const alerts = await platform.services.alerts.list({ open: true });
    assert.ok(alerts.some((x) => x.subject_id === vpsId && x.kind === 'vm_crashed'));
    // Staff may start it again: failed → starting → running.
    await act('start');
    assert.equal((await row()).state, 'running');
  });
});
