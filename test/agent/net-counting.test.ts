// Counting at the switch port (R3.13), for real: the VPS's outbound bytes are its bridge
// port's rx counters; exact frame overhead; a recreated port neither loses nor doubles bytes;
// a small quota crossed with real traffic throttles with tc, the next cycle lifts it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyThrottle, applyVpsPolicy, deleteTap, ensureTap } from '../../src/agent/net/host.ts';
import { reconcileTc } from '../../src/agent/net/reconcile.ts';
import { outboundReading, readLinkCounters } from '../../src/agent/net/counters.ts';
import { parseTcClasses } from '../../src/agent/net/reconcile.ts';
import { slotMinor, tapName } from '../../src/agent/net/names.ts';
import { run } from '../../src/agent/exec/run.ts';
import { advance, sumCounted, udpWireBytes } from '../../src/domain/traffic.ts';
import type { CounterReading, DeltaOptions, TrafficSample } from '../../src/domain/traffic.ts';
import { bytesInCycle, cycleAt, quotaStatus, throttleAction } from '../../src/domain/quota.ts';
import { effectiveRate } from '../../src/domain/net-policy.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { TERMS_2015_06_01 } from '../../src/domain/terms.ts';
import { INET_IP, makeLab } from './net-helpers.ts';
import type { Lab } from './net-helpers.ts';

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

const opts: DeltaOptions = { lineRateBitsPerSecond: 10_000_000_000, firstReading: 'count' };

describe('net counting (namespaces)', { concurrency: false }, () => {
  let lab: Lab;
  before(async () => {
    lab = await makeLab({ vpsCount: 1 });
    await applyVpsPolicy(lab.host, lab.vps[0]!.policy);
    // a static neighbour: no ARP in the measured traffic (IPv6 is off in the lab)
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
  });

  const port = () => lab.vps[0]!.policy.port;
  const reading = async (): Promise<CounterReading> =>
    outboundReading((await readLinkCounters(lab.host, [port()])).get(port())!, new Date());
  const send = (count: number, size: number) =>
    lab.node(lab.vps[0]!.ns, UDP_SEND, [INET_IP, '9', String(count), String(size)]);

  test('R3.13: N bytes of UDP payload are counted as N + 42 bytes per datagram (Ethernet 14 + IPv4 20 + UDP 8), within 0.1 %', async () => {
    const r0 = await reading();
    const count = 2000;
    const size = 1000;
    await send(count, size);
    const r1 = await reading();
    const counted = advance(r0, r1, opts).sample.counted;
    const expected = udpWireBytes(new Array<number>(count).fill(size));
    const err = Math.abs(Number(counted - expected)) / Number(expected);
    assert.ok(err <= 0.001, `counted ${counted}, expected ${expected} (payload ${count * size})`);
  });

  test('R3.13: a port recreated mid-cycle neither loses nor doubles bytes', async () => {
    const samples: TrafficSample[] = [];
    let state: CounterReading | null = await reading();
    const step = (x: CounterReading) => {
      const a = advance(state, x, opts);
      state = a.state;
      samples.push(a.sample);
    };
    await send(300, 500);
    step(await reading());
    await send(200, 500);
    // the agent deletes the tap (VM stopped): last reading first
    const last = await deleteTap(lab.host, port());
    assert.ok(last);
    step(outboundReading(last, new Date()));
    const oldIndex = last.ifindex;
    await lab.recreatePort(1);
    await applyVpsPolicy(lab.host, lab.vps[0]!.policy);
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
    await send(400, 500);
    const after = await reading();
    assert.notEqual(after.epoch, String(oldIndex), 'a new ifindex');
    step(after);
    assert.equal(samples.at(-1)!.kind, 'reset_epoch');
    const expected = udpWireBytes(new Array<number>(900).fill(500));
    const total = sumCounted(samples);
    // the recreated port may also carry the guest's own link-up frames: none here (IPv6 off, static neighbour)
    assert.ok(
      Math.abs(Number(total - expected)) / Number(expected) <= 0.001,
      `counted ${total}, expected ${expected}`,
    );
  });

  test('R3.13: crossing a small test quota throttles with tc; the new cycle lifts it', async () => {
    const terms = { ...TERMS_2015_06_01, outboundQuotaBytes: 100_000n };
    const anchor = new Date('2026-01-31T00:00:00Z');
    const clock = new ManualClock('2026-02-27T12:00:00Z');
    const policy = lab.vps[0]!.policy;
    let throttled = false;
    let prev: CounterReading | null = { ...(await reading()), at: clock.now().getTime() };
    const stored: { at: number; bytes: bigint }[] = [];
    const classRate = async (dev: string, handle: string) => {
      const out = (await run(['tc', '-n', lab.hostNs, 'class', 'show', 'dev', dev])).stdout;
      return parseTcClasses(out).find((c) => c.handle === handle)!.rate;
    };
    const poll = async () => {
      const cur = { ...(await reading()), at: clock.now().getTime() };
      const a = advance(prev, cur, opts);
      prev = a.state;
      stored.push({ at: cur.at, bytes: a.sample.counted });
      const s = quotaStatus({
        anchor,
        now: clock.now(),
        usedBytes: bytesInCycle(stored, cycleAt(anchor, clock.now())),
        terms,
      });
      const action = throttleAction(s, throttled);
      if (action !== 'none') {
        throttled = action === 'throttle';
        await applyThrottle(lab.host, { ...policy, throttled });
      }
      return { s, action };
    };
    await send(50, 1000); // ≈ 52 kB
    clock.advance(60_000);
    assert.equal((await poll()).action, 'none');
    await send(60, 1000); // crosses 100 kB
    clock.advance(60_000);
    const crossed = await poll();
    assert.equal(crossed.action, 'throttle');
    assert.equal(crossed.s.throttledUntil?.toISOString(), '2026-02-28T00:00:00.000Z');
    const slow = effectiveRate({ ...policy, throttled: true });
    assert.equal(await classRate(policy.port, '1:1'), slow);
    assert.equal(await classRate('up0', `1:${slotMinor(policy.slot)}`), slow);
    clock.set('2026-02-28T00:00:00Z');
    const lifted = await poll();
    assert.equal(lifted.action, 'lift');
    assert.equal(await classRate(policy.port, '1:1'), TERMS_2015_06_01.guaranteedBandwidthBitsPerSecond);
    assert.equal(
      await classRate('up0', `1:${slotMinor(policy.slot)}`),
      TERMS_2015_06_01.guaranteedBandwidthBitsPerSecond,
    );
  });

  test('ensureTap creates a persistent tap on the bridge (idempotent); deleteTap returns its last counters', async () => {
    const name = tapName(`${lab.tag}-tap`);
    await ensureTap(lab.host, name);
    await ensureTap(lab.host, name);
    const link = JSON.parse(
      (await run(['ip', '-n', lab.hostNs, '-j', '-d', 'link', 'show', 'dev', name])).stdout,
    ) as {
      master?: string;
      linkinfo?: { info_kind?: string };
    }[];
    assert.equal(link[0]!.master, lab.host.bridge);
    assert.equal(link[0]!.linkinfo?.info_kind, 'tun');
    const last = await deleteTap(lab.host, name);
    assert.equal(last?.name, name);
    assert.equal(await deleteTap(lab.host, name), null);
  });

  test('R3.13: reconcileTc restores a VPS whose tap lost its HTB', async () => {
    const p = lab.vps[0]!.policy;
    await run(['tc', '-n', lab.hostNs, 'qdisc', 'del', 'dev', p.port, 'root']);
    const fixes = await reconcileTc(lab.host, [p]);
    assert.deepEqual(
      fixes.map((f) => `${f.kind}:${f.detail}`),
      ['tc:tap class'],
    );
    assert.deepEqual(await reconcileTc(lab.host, [p]), []);
  });
});
