// Real bandwidth tests (R3.13) with iperf3 between namespaces: the guaranteed rate while
// neighbours saturate their links, the after-quota rate, and a throttle that keeps the
// connection. Functional checks with the tolerances (not timing goals); 5 s runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyThrottle, applyVpsPolicy } from '../../src/agent/net/host.ts';
import { reconcileTc } from '../../src/agent/net/reconcile.ts';
import { run } from '../../src/agent/exec/run.ts';
import { TERMS_2015_06_01 } from '../../src/domain/terms.ts';
import { INET_IP, makeLab, sleep } from './net-helpers.ts';
import type { Lab } from './net-helpers.ts';

const GUARANTEED = TERMS_2015_06_01.guaranteedBandwidthBitsPerSecond;
const AFTER_QUOTA = TERMS_2015_06_01.bandwidthAfterQuotaBitsPerSecond;

interface IperfResult {
  end: { sum_received: { bits_per_second: number }; sum_sent: { bits_per_second: number } };
  intervals: { sum: { bits_per_second: number; start: number } }[];
}

describe('net shaping (namespaces, iperf3)', { concurrency: false }, () => {
  let lab: Lab;
  before(async () => {
    lab = await makeLab({ vpsCount: 3, uplinkBitsPerSecond: 1_000_000_000 });
    for (const v of lab.vps) await applyVpsPolicy(lab.host, v.policy);
    for (const port of [5201, 5202, 5203]) lab.spawnIn(lab.inetNs, ['iperf3', '-s', '-p', String(port)]);
    await sleep(500);
  });
  after(async () => {
    await lab?.cleanup();
  });

  const iperf = async (
    i: number,
    seconds: number,
    reverse: boolean,
    extra: string[] = [],
  ): Promise<IperfResult> => {
    const argv = ['iperf3', '-c', INET_IP, '-p', String(5200 + i), '-t', String(seconds), '-J', ...extra];
    if (reverse) argv.push('-R');
    const r = await lab.exec(lab.vps[i - 1]!.ns, argv, { timeoutMs: (seconds + 30) * 1000 });
    return JSON.parse(r.stdout) as IperfResult;
  };
  const mbps = (r: IperfResult) => r.end.sum_received.bits_per_second / 1e6;

  for (const reverse of [false, true]) {
    const dir = reverse ? 'inbound' : 'outbound';
    test(`R3.13: an unthrottled VPS gets ≥ 90 Mbit/s ${dir} while two neighbours saturate their links`, async () => {
      const [a, b, c] = await Promise.all([iperf(1, 5, reverse), iperf(2, 5, reverse), iperf(3, 5, reverse)]);
      const rates = [mbps(a), mbps(b), mbps(c)];
      assert.ok(
        rates[0]! >= (GUARANTEED / 1e6) * 0.9,
        `VPS 1 got ${rates[0]!.toFixed(1)} Mbit/s (neighbours ${rates.slice(1).map((x) => x.toFixed(1))})`,
      );
      for (const r of rates)
        assert.ok(r <= (GUARANTEED / 1e6) * 1.05, `no VPS exceeds its class: ${r.toFixed(1)}`);
    });
  }

  test('R3.13: a throttled VPS gets the after-quota rate ± 15 % both ways; lifting restores it', async () => {
    const v = lab.vps[0]!.policy;
    await applyThrottle(lab.host, { ...v, throttled: true });
    assert.deepEqual(
      (await reconcileTc(lab.host, [{ ...v, throttled: true }])).map((f) => f.kind),
      [],
      'classes carry the after-quota rate',
    );
    for (const reverse of [false, true]) {
      const r = await iperf(1, 5, reverse, ['-w', '16K']);
      const got = r.end.sum_received.bits_per_second;
      assert.ok(
        Math.abs(got - AFTER_QUOTA) <= AFTER_QUOTA * 0.15,
        `${reverse ? 'inbound' : 'outbound'} ${(got / 1e6).toFixed(3)} Mbit/s`,
      );
    }
    await applyThrottle(lab.host, v);
    const back = await iperf(1, 3, false);
    assert.ok(mbps(back) >= (GUARANTEED / 1e6) * 0.9, `after lift: ${mbps(back).toFixed(1)}`);
  });

  test('R3.13: throttling and lifting during a transfer keep the connection (class change, no qdisc deletion)', async () => {
    const v = lab.vps[1]!.policy;
    const qdiscs = async () =>
      (await run(['tc', '-n', lab.hostNs, '-j', 'qdisc', 'show', 'dev', v.port])).stdout;
    const before = await qdiscs();
    const running = iperf(2, 9, true, ['-w', '64K']);
    await sleep(3000);
    await applyThrottle(lab.host, { ...v, throttled: true });
    await sleep(3000);
    await applyThrottle(lab.host, v);
    const r = await running; // iperf3 exits 0 only if its connections lived to the end
    const rates = r.intervals.map((x) => x.sum.bits_per_second / 1e6);
    const mid = rates.slice(4, 6);
    assert.ok(Math.max(...rates.slice(0, 3)) > 80, `before: ${rates.map((x) => x.toFixed(1))}`);
    assert.ok(Math.max(...mid) < 5, `throttled part: ${rates.map((x) => x.toFixed(1))}`);
    assert.ok(Math.max(...rates.slice(7)) > 80, `after lift: ${rates.map((x) => x.toFixed(1))}`);
    assert.equal(await qdiscs(), before, 'same qdiscs (same handles) before and after');
  });
});
