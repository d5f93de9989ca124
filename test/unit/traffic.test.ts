// R3.13: counter readings → deltas, reset detection, impossible rates (src/domain/traffic.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  advance,
  isImpossibleRate,
  sumCounted,
  switchPortReading,
  trafficDelta,
  udpWireBytes,
} from '../../src/domain/traffic.ts';
import type { CounterReading, DeltaOptions, TrafficSample } from '../../src/domain/traffic.ts';

const opts: DeltaOptions = { lineRateBitsPerSecond: 10_000_000_000, firstReading: 'count' };
const r = (at: number, epoch: string, bytes: bigint): CounterReading => ({ at: at * 1000, epoch, bytes });

test('traffic: first reading counts a fresh tap, a baseline port counts nothing', () => {
  assert.deepEqual(trafficDelta(null, r(0, '7', 500n), opts), {
    kind: 'first',
    from: null,
    to: 0,
    rawDelta: 500n,
    counted: 500n,
    flag: null,
  });
  assert.equal(trafficDelta(null, r(0, '7', 500n), { ...opts, firstReading: 'baseline' }).counted, 0n);
});

test('traffic: normal deltas, 64-bit values beyond 2^53 stay exact', () => {
  const big = 2n ** 63n + 12345n;
  const s = trafficDelta(r(0, '7', big), r(5, '7', big + 1_000_000n), opts);
  assert.equal(s.kind, 'normal');
  assert.equal(s.counted, 1_000_000n);
});

test('traffic: a recreated tap (new ifindex) counts from zero: delta = the new reading', () => {
  const s = trafficDelta(r(0, '7', 9_000n), r(5, '12', 300n), opts);
  assert.equal(s.kind, 'reset_epoch');
  assert.equal(s.counted, 300n);
  // even when the new counter is already above the old one
  assert.equal(trafficDelta(r(0, '7', 100n), r(5, '12', 300n), opts).counted, 300n);
});

test('traffic: a counter going backwards on the same port is a reset too', () => {
  const s = trafficDelta(r(0, '7', 9_000n), r(5, '7', 300n), opts);
  assert.equal(s.kind, 'reset_backwards');
  assert.equal(s.counted, 300n);
});

test('traffic: an impossible rate is flagged and not counted (line rate × 1.1)', () => {
  const line = { ...opts, lineRateBitsPerSecond: 100_000_000 }; // 12.5 MB/s
  const ok = trafficDelta(r(0, '7', 0n), r(10, '7', 137_000_000n), line); // 109.6 Mbit/s
  assert.equal(ok.flag, null);
  assert.equal(ok.counted, 137_000_000n);
  const bad = trafficDelta(r(0, '7', 0n), r(10, '7', 138_000_000n), line); // 110.4 Mbit/s
  assert.equal(bad.flag, 'impossible_rate');
  assert.equal(bad.counted, 0n);
  assert.equal(bad.rawDelta, 138_000_000n);
  assert.equal(isImpossibleRate(137_500_000n, 10_000, line), false, 'exactly ×1.1 is allowed');
  assert.equal(isImpossibleRate(137_500_001n, 10_000, line), true);
  // after a reset as well
  assert.equal(trafficDelta(r(0, '7', 0n), r(1, '8', 10n ** 12n), line).flag, 'impossible_rate');
});

test('traffic: time not moving forward never invents a delta', () => {
  const s = trafficDelta(r(5, '7', 100n), r(5, '7', 200n), opts);
  assert.equal(s.flag, 'time_backwards');
  assert.equal(s.counted, 0n);
  assert.equal(trafficDelta(r(5, '7', 100n), r(4, '7', 100n), opts).flag, null);
});

test('traffic: a tap recreated mid-cycle neither loses nor doubles bytes (last reading taken before deletion)', () => {
  // true bytes: 1000 on the first tap, then 700 on the second
  const readings = [
    r(0, '3', 0n),
    r(5, '3', 400n),
    r(9, '3', 1000n) /* read by deleteTap */,
    r(10, '9', 0n),
    r(15, '9', 700n),
  ];
  let state: CounterReading | null = null;
  const samples: TrafficSample[] = [];
  for (const x of readings) {
    const a = advance(state, x, opts);
    state = a.state;
    samples.push(a.sample);
  }
  assert.equal(sumCounted(samples), 1700n);
  // and a restart of the platform resuming from the stored last reading counts nothing twice
  const resumed = advance(readings[3]!, readings[4]!, opts);
  assert.equal(resumed.sample.counted, 700n);
});

test('traffic: wire bytes of UDP datagrams as port counters see them', () => {
  assert.equal(udpWireBytes([1000, 0]), BigInt(1000 + 42 + 42));
});

test('traffic: a switch port facing the server receives what the VPS sends (R3.13), unless told otherwise', () => {
  const c = { ifIndex: 12, inOctets: 2n ** 60n + 5n, outOctets: 300n, discontinuity: 77 };
  assert.deepEqual(switchPortReading(c, undefined, 9000), {
    outbound: { at: 9000, epoch: '12:77', bytes: 2n ** 60n + 5n },
    inBytes: 300n,
  });
  assert.deepEqual(switchPortReading(c, 'ifHCOutOctets', 9000), {
    outbound: { at: 9000, epoch: '12:77', bytes: 300n },
    inBytes: 2n ** 60n + 5n,
  });
  // A counter reset changes the discontinuity time, hence the epoch: the next delta starts anew.
  assert.equal(switchPortReading({ ...c, discontinuity: 78 }, undefined, 9000).outbound.epoch, '12:78');
});
