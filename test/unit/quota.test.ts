// R3.13: billing cycles anchored on the contract start, quota, forecast, throttle until the
// cycle's end (src/domain/quota.ts). Table tests for month ends and leap years.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesInCycle, cycleAt, cycleStart, quotaStatus, throttleAction } from '../../src/domain/quota.ts';
import { TERMS_2015_06_01 } from '../../src/domain/terms.ts';
import { ManualClock, DAY } from '../../src/domain/clock.ts';
import { DomainError } from '../../src/domain/errors.ts';

const d = (s: string) => new Date(s);

test('quota: cycle starts clamp at month end, computed from the anchor (31 → Feb 28/29 → Mar 31)', () => {
  const table: [string, number, string][] = [
    ['2026-01-31T10:00:00Z', 0, '2026-01-31T10:00:00.000Z'],
    ['2026-01-31T10:00:00Z', 1, '2026-02-28T10:00:00.000Z'],
    ['2026-01-31T10:00:00Z', 2, '2026-03-31T10:00:00.000Z'],
    ['2026-01-31T10:00:00Z', 3, '2026-04-30T10:00:00.000Z'],
    ['2028-01-31T00:00:00Z', 1, '2028-02-29T00:00:00.000Z'], // leap year
    ['2028-02-29T12:00:00Z', 12, '2029-02-28T12:00:00.000Z'],
    ['2028-02-29T12:00:00Z', 48, '2032-02-29T12:00:00.000Z'],
    ['2026-03-30T00:00:00Z', 11, '2027-02-28T00:00:00.000Z'],
    ['2026-12-15T00:00:00Z', 1, '2027-01-15T00:00:00.000Z'], // year change
    ['2026-12-15T00:00:00Z', -12, '2025-12-15T00:00:00.000Z'],
    ['2100-01-29T00:00:00Z', 1, '2100-02-28T00:00:00.000Z'], // 2100 is not a leap year
  ];
  for (const [anchor, k, want] of table)
    assert.equal(cycleStart(d(anchor), k).toISOString(), want, `${anchor} + ${k}`);
});

test('quota: cycleAt finds the cycle containing now (start inclusive, end exclusive)', () => {
  const a = d('2026-01-31T10:00:00Z');
  const table: [string, number, string, string][] = [
    ['2026-01-31T10:00:00Z', 0, '2026-01-31T10:00:00.000Z', '2026-02-28T10:00:00.000Z'],
    ['2026-02-28T09:59:59Z', 0, '2026-01-31T10:00:00.000Z', '2026-02-28T10:00:00.000Z'],
    ['2026-02-28T10:00:00Z', 1, '2026-02-28T10:00:00.000Z', '2026-03-31T10:00:00.000Z'],
    ['2026-03-31T09:00:00Z', 1, '2026-02-28T10:00:00.000Z', '2026-03-31T10:00:00.000Z'],
    ['2027-01-01T00:00:00Z', 11, '2026-12-31T10:00:00.000Z', '2027-01-31T10:00:00.000Z'],
  ];
  for (const [now, index, start, end] of table) {
    const c = cycleAt(a, d(now));
    assert.deepEqual([c.index, c.start.toISOString(), c.end.toISOString()], [index, start, end], now);
  }
  assert.throws(() => cycleAt(a, d('2026-01-01T00:00:00Z')), DomainError);
});

test('quota: used, remaining, forecast, throttle until the cycle end (terms quota 10^13)', () => {
  const anchor = d('2026-03-01T00:00:00Z'); // 31-day cycle
  const s = quotaStatus({
    anchor,
    now: d('2026-03-11T00:00:00Z'),
    usedBytes: 4n * 10n ** 12n,
    terms: TERMS_2015_06_01,
  });
  assert.equal(s.quotaBytes, TERMS_2015_06_01.outboundQuotaBytes);
  assert.equal(s.remainingBytes, 6n * 10n ** 12n);
  assert.equal(s.forecastBytes, (4n * 10n ** 12n * 31n) / 10n); // 10 of 31 days elapsed
  assert.equal(s.forecastExceedsQuota, true);
  assert.equal(s.throttled, false);
  assert.equal(s.throttledUntil, null);
  assert.equal(s.bandwidthBitsPerSecond, TERMS_2015_06_01.guaranteedBandwidthBitsPerSecond);
  const over = quotaStatus({
    anchor,
    now: d('2026-03-20T00:00:00Z'),
    usedBytes: 10n ** 13n + 1n,
    terms: TERMS_2015_06_01,
  });
  assert.equal(over.throttled, true);
  assert.equal(over.remainingBytes, 0n);
  assert.equal(over.throttledUntil?.toISOString(), '2026-04-01T00:00:00.000Z');
  assert.equal(over.bandwidthBitsPerSecond, TERMS_2015_06_01.bandwidthAfterQuotaBitsPerSecond);
  const exactly = quotaStatus({
    anchor,
    now: d('2026-03-20T00:00:00Z'),
    usedBytes: 10n ** 13n,
    terms: TERMS_2015_06_01,
  });
  assert.equal(exactly.throttled, false, 'reaching the quota is not past it');
  assert.equal(exactly.remainingBytes, 0n);
  const start = quotaStatus({ anchor, now: anchor, usedBytes: 0n, terms: TERMS_2015_06_01 });
  assert.equal(start.forecastBytes, 0n);
});

test('quota: with a clock and a small test quota, crossing it throttles and the new cycle lifts it', () => {
  const terms = { ...TERMS_2015_06_01, outboundQuotaBytes: 1_000n };
  const anchor = d('2028-01-31T08:00:00Z');
  const clock = new ManualClock('2028-02-20T00:00:00Z');
  const samples: { at: number; bytes: bigint }[] = [];
  let hostThrottled = false;
  const tick = (bytes: bigint) => {
    samples.push({ at: clock.now().getTime(), bytes });
    const cycle = cycleAt(anchor, clock.now());
    const s = quotaStatus({ anchor, now: clock.now(), usedBytes: bytesInCycle(samples, cycle), terms });
    const action = throttleAction(s, hostThrottled);
    if (action === 'throttle') hostThrottled = true;
    if (action === 'lift') hostThrottled = false;
    return { s, action };
  };
  assert.equal(tick(600n).action, 'none');
  clock.advance(DAY);
  const crossed = tick(500n);
  assert.equal(crossed.action, 'throttle');
  assert.equal(crossed.s.throttledUntil?.toISOString(), '2028-02-29T08:00:00.000Z', 'leap-year cycle end');
  clock.set('2028-02-29T07:59:59.999Z');
  assert.equal(tick(0n).action, 'none', 'still throttled until the end');
  clock.set('2028-02-29T08:00:00Z');
  const lifted = tick(0n);
  assert.equal(lifted.action, 'lift');
  assert.equal(lifted.s.usedBytes, 0n);
  assert.equal(lifted.s.cycle.end.toISOString(), '2028-03-31T08:00:00.000Z');
});
