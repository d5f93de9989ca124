// Sanctions on a real VM (R5.1, R12.5): the platform with its real pg-boss,
// the local host agent in a namespace the test owns (only 192.0.2.0/24), one real QEMU guest.
// The test side is the bridge's gateway address inside that namespace (the test "internet"),
// reached with `ip netns exec`. A restriction on TCP port 22 (inbound) makes the SSH banner
// unreachable while ping still answers; lifting it brings SSH back. A suspension pauses the VM
// and isolates it: ping fails; lifting resumes the VM and ping answers again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HostDriver } from '../../src/agent/driver.ts';
import { run } from '../../src/agent/exec/run.ts';
import type { Platform } from '../../src/control/platform.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { SYSTEM_SCOPE } from '../../src/control/repositories/scope.ts';
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

const staff = { ...SYSTEM_ACTOR, label: 'abuse@example.test' };

describe('sanctions on a real VM', () => {
  let vpsId: string;
  let ip: string;
  let driver: HostDriver;
  const row = () =>
    platform.db.selectFrom('vps').selectAll().where('id', '=', vpsId).executeTakeFirstOrThrow();
  const inNs = (argv: string[]) =>
    run(['ip', 'netns', 'exec', lab.ns, ...argv], { okCodes: [0, 1, 124], timeoutMs: 15_000 });
  const pings = async () => (await inNs(['ping', '-c', '1', '-W', '2', ip])).exitCode === 0;
  /** The SSH banner's first bytes through a plain TCP connection, or null. */
  const banner = async () => {
    const r = await inNs(['timeout', '4', 'bash', '-c', `exec 3<>/dev/tcp/${ip}/22 && head -c 4 <&3`]);
    return r.exitCode === 0 && r.stdout.startsWith('SSH-') ? r.stdout : null;
  };

  before(async () => {
    const s = platform.services;
    const { dc, host } = await labInfra(s, { code: 'MSR1', name: 'Measures' });
    const c = await s.identity.createClientAccount(
      {
        accountName: 'Measures',
        email: 'measures@example.test',
        name: 'Measures Client',
        password: 'a long enough password',
        language: 'en',
      },
      SYSTEM_ACTOR,
    );
    const v = await platform.db.transaction().execute((tx) =>
      s.infra.requestVps(tx, {
        accountId: c.account.id,
        datacenterId: dc.id,
        hostname: 'msr1',
        vcpus: 1,
        memoryMiB: 256,
        diskGiB: 1,
        billingAnchor: new Date(),
        clientUsername: 'camille',
      }),
    );
    vpsId = v.id;
    const running = await until('the VPS to run', async () => {
      const r = await row();
      if (r.state === 'failed') throw new Error(`provisioning failed: ${r.state_reason}`);
      return r.state === 'running' ? r : undefined;
    });
    ip = running.ipv4!.split('/')[0]!;
    driver = (await s.ctx.agents.forHost(host)).driver;
    await lab.joinBridge();
    await until('ping to answer', pings);
    await until('the SSH banner', banner);
  });

  it('R3.14: a restriction on TCP port 22 blocks only that port; lifting it brings SSH back', async () => {
    const m = await platform.services.sanctions.apply(staff, {
      vpsId,
      breachKind: 'intrusion',
      severity: 'minor',
      reason: 'SSH brute force relayed through the VPS',
      evidence: 'IDS log',
      protocol: 'tcp',
      port: 22,
      direction: 'in',
      liftCondition: 'the client secures its SSH server',
    });
    assert.equal(m.rung, 'restriction');
    assert.equal(await banner(), null, 'port 22 is blocked');
    assert.equal(await pings(), true, 'ping still answers');
    await platform.services.sanctions.lift(staff, SYSTEM_SCOPE, m.id, { reason: 'Client secured SSH' });
    await until('the SSH banner back', banner, 30_000);
  });

  it('R5.1: a suspension pauses the VM and cuts its network; lifting restores both', async () => {
    const m = await platform.services.sanctions.apply(staff, {
      vpsId,
      breachKind: 'unpaid',
      severity: 'minor',
      reason: 'Licence fees unpaid',
      evidence: 'invoice',
      liftCondition: 'the licence fees are paid',
    });
    assert.equal(m.rung, 'suspension');
    assert.equal((await driver.status(vpsId)).state, 'paused');
    assert.equal((await row()).state, 'paused');
    const live = await platform.db
      .selectFrom('network_blocks')
      .select('kind')
      .where('vps_id', '=', vpsId)
      .where('lifted_at', 'is', null)
      .execute();
    assert.deepEqual(
      live.map((x) => x.kind),
      ['isolate'],
    );
    assert.equal(await pings(), false, 'ping fails while suspended');
    await platform.services.sanctions.lift(staff, SYSTEM_SCOPE, m.id, { reason: 'Paid' });
    assert.equal((await driver.status(vpsId)).state, 'running');
    assert.equal((await row()).state, 'running');
    await until('ping back', pings, 30_000);
  });
});
