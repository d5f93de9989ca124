// DDoS detection and duration rules (R9.1, R9.3, R9.4, R9.6), pure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_DDOS_THRESHOLDS as T,
  DEFAULT_INFRASTRUCTURE_THRESHOLDS as I,
  MINIMUM_MITIGATION_MS,
  QUIET_PERIOD_MS,
  assertMayEnd,
  averageRates,
  detect,
  ddosKinds,
  mitigationEnd,
  mitigationMayEnd,
  ratesBetween,
  threatensInfrastructure,
  tier2Holds,
  validateDdosThresholds,
  type DdosKind,
  type DdosRates,
} from '../../src/domain/ddos.ts';
import { DomainError } from '../../src/domain/errors.ts';

const rates = (p: Partial<Record<DdosKind, number>>, bitsPerSecond = 0): DdosRates => ({
  packets: Object.fromEntries(ddosKinds.map((k) => [k, p[k] ?? 0])) as Record<DdosKind, number>,
  bitsPerSecond,
});
const seconds = (n: number, r: DdosRates) => Array.from({ length: n }, () => r);

describe('DDoS detection (R9.1)', () => {
  it('R9.1: a TCP speed test at the plan’s 100 Mbit/s, and a 1 Gbit/s download, are not attacks', () => {
    // 100 Mbit/s of 1,500-byte segments: ~8,300 packets/s, a handful of SYNs (parallel streams)
    assert.equal(detect(seconds(5, rates({ all: 8_400, tcp: 8_400, syn: 16 }, 100e6)), T), null);
    // a 1 Gbit/s burst before the shaper: ~83,000 packets/s, established TCP
    assert.equal(detect(seconds(5, rates({ all: 83_000, tcp: 83_000, syn: 4 }, 1e9)), T), null);
    // a UDP speed test (iperf3 -u at 100 Mbit/s): ~8,500 datagrams/s
    assert.equal(detect(seconds(5, rates({ all: 8_500, udp: 8_500 }, 100e6)), T), null);
    // a busy web server: many new connections, most packets established
    assert.equal(detect(seconds(5, rates({ all: 20_000, tcp: 20_000, syn: 800 }, 80e6)), T), null);
  });

  it('R9.1: UDP from amplification ports, a SYN flood, ICMP, fragments and sheer volume are each detected, with their signature', () => {
    const amp = detect(seconds(3, rates({ all: 5_000, udp: 5_000, amp: 5_000 }, 40e6)), T);
    assert.deepEqual(amp?.types, ['udp_amplification']);
    assert.equal(amp?.rates.amp, 5_000);
    assert.equal(amp?.packetsPerSecond, 5_000);
    assert.deepEqual(detect(seconds(3, rates({ all: 4_000, tcp: 4_000, syn: 3_900 })), T)?.types, [
      'syn_flood',
    ]);
    // a smaller SYN flood is recognised by its SYN share
    assert.deepEqual(detect(seconds(3, rates({ all: 600, tcp: 600, syn: 500 })), T)?.types, ['syn_flood']);
    assert.deepEqual(detect(seconds(3, rates({ all: 6_000, icmp: 6_000 })), T)?.types, ['icmp_flood']);
    assert.deepEqual(detect(seconds(3, rates({ all: 3_000, frag: 3_000, udp: 3_000 })), T)?.types, [
      'fragment_flood',
    ]);
    assert.deepEqual(detect(seconds(3, rates({ all: 40_000, udp: 40_000 }, 800e6)), T)?.types, [
      'udp_flood',
      'volumetric',
    ]);
  });

  it('R9.1: the short moving average ignores a one-second spike and follows a sustained flood', () => {
    const quiet = rates({ all: 100, tcp: 100 }, 1e6);
    const spike = rates({ all: 5_400, udp: 5_400, amp: 5_400 }, 50e6);
    assert.equal(
      detect([quiet, quiet, spike], T),
      null,
      'one second of 5,400 amp packets averages 1,800 over 3 s',
    );
    assert.notEqual(detect([quiet, spike, spike], T), null);
    assert.equal(averageRates([quiet, spike], 5)?.packets.amp, 2_700);
    assert.equal(averageRates([], 3), null);
  });

  it('R9.1: rates from cumulative counters; a counter that restarted counts from zero', () => {
    const c = (n: number) => ({
      packets: Object.fromEntries(ddosKinds.map((k) => [k, n])) as Record<DdosKind, number>,
      bytes: n * 100,
    });
    const r = ratesBetween(c(1_000), c(3_000), 2)!;
    assert.equal(r.packets.udp, 1_000);
    assert.equal(r.bitsPerSecond, 800_000);
    assert.equal(ratesBetween(c(5_000), c(300), 1)!.packets.syn, 300);
    assert.equal(ratesBetween(null, c(10), 1)!.packets.all, 10);
    assert.equal(ratesBetween(c(1), c(2), 0), null);
  });

  it('R9.1: thresholds out of range are refused with the field and its range', () => {
    assert.equal(validateDdosThresholds(T), T);
    assert.throws(
      () => validateDdosThresholds({ ...T, synRatio: 2 }),
      (e: unknown) =>
        e instanceof DomainError &&
        e.code === 'ddos.threshold_out_of_range' &&
        e.details?.field === 'synRatio' &&
        e.details?.max === 1,
    );
    assert.throws(() => validateDdosThresholds({ ...T, averageSeconds: 0 }), DomainError);
    assert.throws(() => validateDdosThresholds({ ...T, udpPacketsPerSecond: Number.NaN }), DomainError);
  });
});

describe('DDoS mitigation duration (R9.3, R9.4)', () => {
  const start = new Date('2030-03-01T10:00:00Z');
  const h = (n: number) => new Date(start.getTime() + n * 3_600_000);

  it('R9.3: at least 26 h from the start, and a quiet period after the last attack second', () => {
    assert.equal(MINIMUM_MITIGATION_MS, 26 * 3_600_000);
    assert.equal(mitigationEnd({ startedAt: start, lastAttackAt: h(1) }).toISOString(), h(26).toISOString());
    // an attack still going on at 25 h 50 keeps it 30 min after its last second
    const late = new Date(h(25).getTime() + 50 * 60_000);
    assert.equal(
      mitigationEnd({ startedAt: start, lastAttackAt: late }).getTime(),
      late.getTime() + QUIET_PERIOD_MS,
    );
    assert.equal(mitigationMayEnd({ startedAt: start, lastAttackAt: h(1) }, h(25.99)), false);
    assert.equal(mitigationMayEnd({ startedAt: start, lastAttackAt: h(1) }, h(26)), true);
  });

  it('R9.4: ending before the end date is a 409 naming the date', () => {
    assert.throws(
      () => assertMayEnd({ startedAt: start, lastAttackAt: start }, h(25)),
      (e: unknown) =>
        e instanceof DomainError &&
        e.kind === 'conflict' &&
        e.code === 'ddos.mitigation_minimum' &&
        e.details?.endsAt === h(26).toISOString(),
    );
    assertMayEnd({ startedAt: start, lastAttackAt: start }, h(26));
  });
});

describe('DDoS tier 2 (R9.6)', () => {
  it('R9.6: half the uplink, or several addresses at once, threaten the infrastructure', () => {
    const up = 1e9;
    assert.equal(
      threatensInfrastructure(
        { attackBitsPerSecond: 4e8, uplinkBitsPerSecond: up, addressesUnderAttack: 1 },
        I,
      ),
      false,
    );
    assert.equal(
      threatensInfrastructure(
        { attackBitsPerSecond: 5e8, uplinkBitsPerSecond: up, addressesUnderAttack: 1 },
        I,
      ),
      true,
    );
    assert.equal(
      threatensInfrastructure(
        { attackBitsPerSecond: 1e6, uplinkBitsPerSecond: up, addressesUnderAttack: 5 },
        I,
      ),
      true,
    );
  });

  it('R9.6: tier 2 holds for the hold time after the last threatened second, then drops', () => {
    const t0 = new Date('2030-03-01T10:00:00Z');
    assert.equal(tier2Holds(null, t0, I), false);
    assert.equal(tier2Holds(t0, new Date(t0.getTime() + I.holdMs - 1), I), true);
    assert.equal(tier2Holds(t0, new Date(t0.getTime() + I.holdMs), I), false);
  });
});

describe('DDoS detector (R9.1)', () => {
  it('R9.1: fed cumulative readings each second, it flags a flood within its window and clears after it', async () => {
    const { DdosDetector } = await import('../../src/domain/ddos.ts');
    const d = new DdosDetector();
    const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s));
    const reading = (amp: number, all: number) =>
      new Map([
        [
          '203.0.113.11',
          { packets: { all, tcp: all - amp, syn: 0, udp: amp, icmp: 0, frag: 0, amp }, bytes: all * 100 },
        ],
      ]);
    assert.equal(d.feed(at(0), reading(0, 0)).size, 0, 'first reading: no rate yet');
    assert.equal(d.feed(at(1), reading(0, 500)).get('203.0.113.11')?.attack, null);
    // 10,000 amplification packets/s: the 3 s average passes 2,000 at the first flood second
    const s2 = d.feed(at(2), reading(10_000, 10_500)).get('203.0.113.11');
    assert.deepEqual(s2?.attack?.types, ['udp_amplification']);
    assert.equal(s2?.rates.packets.amp, 10_000);
    d.feed(at(3), reading(20_000, 20_500));
    // flood over: after a window of quiet seconds the address is no longer attacked
    for (const s of [4, 5, 6]) d.feed(at(s), reading(20_000, 20_600 + s));
    assert.equal(d.feed(at(7), reading(20_000, 20_700)).get('203.0.113.11')?.attack, null);
    assert.equal(d.feed(at(8), new Map()).size, 0, 'a vanished address is forgotten');
  });
});
