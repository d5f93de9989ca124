// The outbound traffic quota (R3.13), pure: billing cycles anchored on the contract's start
// date, bytes per cycle, throttling above the terms' quota until the cycle ends.
//
// Cycles are monthly, in UTC, on the anchor's day and time of day; when a month is shorter the
// day clamps to its last day, and each cycle start is computed from the anchor (never from the
// previous cycle): anchor Jan 31 → Feb 28 (29 in leap years) → Mar 31 → Apr 30 → May 31.
import type { Terms } from './terms.ts';
import { invalidData } from './errors.ts';

export interface BillingCycle {
  /** 0 for the cycle starting at the anchor. */
  readonly index: number;
  readonly start: Date;
  /** Exclusive: the next cycle's start. */
  readonly end: Date;
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** Start of cycle `index` (may be negative) for a contract anchored at `anchor`. */
export function cycleStart(anchor: Date, index: number): Date {
  const months = anchor.getUTCFullYear() * 12 + anchor.getUTCMonth() + index;
  const year = Math.floor(months / 12);
  const month0 = months - year * 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonth(year, month0));
  return new Date(
    Date.UTC(
      year,
      month0,
      day,
      anchor.getUTCHours(),
      anchor.getUTCMinutes(),
      anchor.getUTCSeconds(),
      anchor.getUTCMilliseconds(),
    ),
  );
}

/** The cycle containing `now` (start ≤ now < end). */
export function cycleAt(anchor: Date, now: Date): BillingCycle {
  if (Number.isNaN(anchor.getTime()) || Number.isNaN(now.getTime()))
    throw invalidData('quota.bad_date', 'Invalid date');
  if (now.getTime() < anchor.getTime()) {
    throw invalidData('quota.before_contract', 'The date is before the contract start', {
      anchor: anchor.toISOString(),
    });
  }
  let k =
    now.getUTCFullYear() * 12 + now.getUTCMonth() - (anchor.getUTCFullYear() * 12 + anchor.getUTCMonth());
  while (cycleStart(anchor, k).getTime() > now.getTime()) k--;
  while (cycleStart(anchor, k + 1).getTime() <= now.getTime()) k++;
  return { index: k, start: cycleStart(anchor, k), end: cycleStart(anchor, k + 1) };
}

/** Sums counted bytes whose interval ended inside the cycle ([start, end)). */
export function bytesInCycle(
  samples: readonly { readonly at: number; readonly bytes: bigint }[],
  cycle: BillingCycle,
): bigint {
  const s = cycle.start.getTime();
  const e = cycle.end.getTime();
  let total = 0n;
  for (const x of samples) if (x.at >= s && x.at < e) total += x.bytes;
  return total;
}

export interface QuotaStatus {
  readonly cycle: BillingCycle;
  readonly quotaBytes: bigint;
  readonly usedBytes: bigint;
  /** Never below 0. */
  readonly remainingBytes: bigint;
  /** Linear extrapolation of the elapsed part of the cycle to the whole cycle. */
  readonly forecastBytes: bigint;
  readonly forecastExceedsQuota: boolean;
  /** Above the quota: limited until the cycle's end. */
  readonly throttled: boolean;
  /** The end of the throttle (the cycle's end) when throttled, else null. */
  readonly throttledUntil: Date | null;
  /** The rate the VPS is entitled to now. */
  readonly bandwidthBitsPerSecond: number;
}

export type QuotaTerms = Pick<
  Terms,
  'outboundQuotaBytes' | 'guaranteedBandwidthBitsPerSecond' | 'bandwidthAfterQuotaBitsPerSecond'
>;

/** R3.13: the VPS's quota state at `now`, given the bytes counted in the current cycle. */
export function quotaStatus(input: {
  anchor: Date;
  now: Date;
  usedBytes: bigint;
  terms: QuotaTerms;
}): QuotaStatus {
  const { anchor, now, usedBytes, terms } = input;
  if (usedBytes < 0n) throw invalidData('quota.negative_bytes', 'Used bytes cannot be negative');
  const cycle = cycleAt(anchor, now);
  const quota = terms.outboundQuotaBytes;
  const length = BigInt(cycle.end.getTime() - cycle.start.getTime());
  const elapsed = BigInt(now.getTime() - cycle.start.getTime());
  const forecast = elapsed === 0n ? usedBytes : (usedBytes * length) / elapsed;
  const throttled = usedBytes > quota;
  return {
    cycle,
    quotaBytes: quota,
    usedBytes,
    remainingBytes: usedBytes >= quota ? 0n : quota - usedBytes,
    forecastBytes: forecast,
    forecastExceedsQuota: forecast > quota,
    throttled,
    throttledUntil: throttled ? cycle.end : null,
    bandwidthBitsPerSecond: throttled
      ? terms.bandwidthAfterQuotaBitsPerSecond
      : terms.guaranteedBandwidthBitsPerSecond,
  };
}

export type ThrottleAction = 'throttle' | 'lift' | 'none';

/** What to do to the host given the status and whether the VPS is throttled there now. */
export function throttleAction(
  status: Pick<QuotaStatus, 'throttled'>,
  currentlyThrottled: boolean,
): ThrottleAction {
  if (status.throttled && !currentlyThrottled) return 'throttle';
  if (!status.throttled && currentlyThrottled) return 'lift';
  return 'none';
}
