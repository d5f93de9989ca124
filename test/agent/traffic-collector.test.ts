// R3.13 end to end on a real port: the control plane's collector reads a VPS's bridge port
// (a veth named like its tap, in a namespace lab), stores exactly what the kernel counted, and
// a quota crossing really moves the VPS's HTB classes to 1 Mbit/s; the next cycle restores
// 100 Mbit/s. Addresses from 203.0.113.0/24 only; the lab's namespaces go in after().
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { run } from '../../src/agent/exec/run.ts';
import { readLinkCounters } from '../../src/agent/net/counters.ts';
import { slotMinor, tapName, vpsMac } from '../../src/agent/net/names.ts';
import { parseTcClasses } from '../../src/agent/net/reconcile.ts';
import { localNetwork } from '../../src/agent/local-agent.ts';
import { cycleAt, type QuotaTerms } from '../../src/domain/quota.ts';
import { TERMS_2015_06_01 } from '../../src/domain/terms.ts';
import { udpWireBytes } from '../../src/domain/traffic.ts';
import { policyFor } from '../../src/control/services/net-policy.ts';
import { getVps } from '../../src/control/repositories/vps.ts';
import { SYSTEM_SCOPE } from '../../src/control/repositories/scope.ts';
import { makeClient, testApp, type TestApp } from '../helpers/app.ts';
import type { HostNetwork } from '../../src/agent/host-agent.ts';
import { fakeAgents } from '../helpers/fake-driver.ts';
import { hostFor, placedVps } from '../helpers/traffic.ts';
import { INET_IP, makeLab, type Lab } from './net-helpers.ts';

const UDP_SEND = `
import dgram from 'node:dgram';
const [host, port, count, size] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const buf = Buffer.alloc(Number(size), 0x62);
for (let i = 0; i < Number(count); i++) {
  await new Promise((r) => s.send(buf, Number(port), host, r));
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
}
s.close();
`;

describe('traffic collector on a real port (R3.13)', { concurrency: false }, () => {
  let t: TestApp | undefined;
  let lab: Lab | undefined;
  let vpsId: string;
  const ip = '203.0.113.11';

  before(async () => {
    // The lab's host network is the platform's HostNetwork for this host (no VM needed).
    const ref: { network?: ReturnType<typeof localNetwork> } = {};
    const viaLab = {
      setup: () => ref.network!.setup(),
      portName: (id) => ref.network!.portName(id),
      ensurePort: (id) => ref.network!.ensurePort(id),
      applyPolicy: (p) => ref.network!.applyPolicy(p),
      setThrottle: (p) => ref.network!.setThrottle(p),
      removeVps: (v) => ref.network!.removeVps(v),
      readPortCounters: (ports) => ref.network!.readPortCounters(ports),
      readDrops: () => ref.network!.readDrops(),
      readSmtpStats: () => ref.network!.readSmtpStats(),
      reconcile: (ps) => ref.network!.reconcile(ps),
      readDdos: () => ref.network!.readDdos(),
      applyMitigations: (a, e, o) => ref.network!.applyMitigations(a, e, o),
    } satisfies HostNetwork;
    const agents = fakeAgents({ network: viaLab });
    t = await testApp({}, { agents });
    const c = await makeClient(t);
    const { dc, host } = await hostFor(t, 'NET1');
    const v = await placedVps(t, {
      accountId: c.account.id,
      datacenterId: dc.id,
      hostId: host.id,
      slot: 1,
      ipv4: ip,
    });
    vpsId = v.id;
    lab = await makeLab({
      vpsCount: 1,
      policy: { vpsId, port: tapName(vpsId), mac: vpsMac(vpsId), ipv4: ip, slot: 1 },
    });
    const network = (ref.network = localNetwork(lab.host));
    await network.applyPolicy(
      await policyFor(t.database.db, await getVps(t.database.db, SYSTEM_SCOPE, vpsId), tapName(vpsId)),
    );
    await lab.exec(lab.vps[0]!.ns, [
      'ip',
      'neigh',
      'replace',
      INET_IP,
      'lladdr',
      '02:00:00:00:00:01',
      'dev',
      'eth0',
      'nud',
      'permanent',
    ]);
  });
  after(async () => {
    await lab?.cleanup();
    await t?.close();
  });

  const send = (count: number, size: number) =>
    lab!.node(lab!.vps[0]!.ns, UDP_SEND, [INET_IP, '9', String(count), String(size)]);
  const stored = async () =>
    BigInt(
      (
        await t!.database.db
          .selectFrom('traffic_usage')
          .select('bytes_out')
          .where('vps_id', '=', vpsId)
          .where('source', '=', 'tap')
          .executeTakeFirst()
      )?.bytes_out ?? '0',
    );
  const kernel = async () =>
    (await readLinkCounters(lab!.host, [tapName(vpsId)])).get(tapName(vpsId))!.rxBytes;
  const rate = async (dev: string, handle: string) =>
    parseTcClasses((await run(['tc', '-n', lab!.hostNs, 'class', 'show', 'dev', dev])).stdout).find(
      (c) => c.handle === handle,
    )!.rate;

  test('the stored bytes are the kernel’s count of the port, and N datagrams of P bytes add N × (P + 42)', async () => {
    t!.clock.advance(10_000);
    await t!.services.traffic.collect();
    // The port was created for this VPS: its whole count is the VPS's (first reading counted).
    const before = await stored();
    assert.equal(before, await kernel());
    await send(2000, 1000);
    t!.clock.advance(10_000);
    const r = await t!.services.traffic.collect();
    assert.deepEqual(r.errors, []);
    const added = (await stored()) - before;
    const expected = udpWireBytes(new Array<number>(2000).fill(1000));
    assert.ok(
      Math.abs(Number(added - expected)) / Number(expected) <= 0.001,
      `stored ${added}, expected ${expected}`,
    );
    assert.equal(await stored(), await kernel());
  });

  test('a quota crossing applies the 1 Mbit/s class on the host; the next cycle restores 100 Mbit/s', async () => {
    const uplinkClass = `1:${slotMinor(1)}`;
    assert.equal(await rate('up0', uplinkClass), 100_000_000);
    const small: QuotaTerms = { ...TERMS_2015_06_01, outboundQuotaBytes: (await stored()) + 100_000n };
    await send(200, 1000);
    t!.clock.advance(10_000);
    const r = await t!.services.traffic.collect({ terms: small });
    assert.deepEqual(r.throttled, [vpsId]);
    assert.equal(await rate('up0', uplinkClass), 1_000_000);
    assert.equal(await rate(tapName(vpsId), '1:1'), 1_000_000);
    // The reconcile agrees with the database (nothing to fix while throttled).
    const fixes = await t!.services.networkBlocks.reconcile();
    assert.deepEqual(
      fixes.flatMap((f) => f.fixes),
      [],
    );

    const v = await getVps(t!.database.db, SYSTEM_SCOPE, vpsId);
    t!.clock.set(new Date(cycleAt(v.billing_anchor, t!.clock.now()).end.getTime() + 1000));
    assert.equal(await t!.scheduler.tick(), 1);
    assert.equal(await rate('up0', uplinkClass), 100_000_000);
    assert.equal(await rate(tapName(vpsId), '1:1'), 100_000_000);
  });
});
