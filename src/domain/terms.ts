// The contract's numbers, versioned. Every contract records the version it was signed under;
// nothing else in the code repeats these numbers (see ../shared/CONTRACT.md, "The numbers").
import { DAY, HOUR, MINUTE } from './clock.ts';
import { notFound } from './errors.ts';

export interface Terms {
  readonly version: string;
  /** R3.6 */
  readonly backupIntervalMs: number;
  /** R3.6: sliding window. */
  readonly backupRetentionMs: number;
  /** R3.7: per calendar month. */
  readonly restoreRequestsPerMonth: number;
  /** R3.10: per billing month (our reading, shown to the client). */
  readonly adminSupportMsPerMonth: number;
  /** R3.12 */
  readonly planChangeDeadlineMs: number;
  /** R3.13 */
  readonly guaranteedBandwidthBitsPerSecond: number;
  /** R3.13: outbound bytes per billing month, counted at the switch port. */
  readonly outboundQuotaBytes: bigint;
  /** R3.13: until the end of the billing cycle. */
  readonly bandwidthAfterQuotaBitsPerSecond: number;
  /** R6.1 */
  readonly identityProofDeadlineMs: number;
  /** R6.2 */
  readonly connectionLogRetentionMonths: number;
  /** R7.5: from this block on, an unblock may be refused. */
  readonly smtpUnblockRefusableFromBlock: number;
  /** R7.4: the n-th port-25 block within the window lasts the n-th duration (longer each time). */
  readonly smtpBlockLadderMs: readonly number[];
  /** R7.4: blocks older than this many months no longer count for the ladder. */
  readonly smtpBlockLadderWindowMonths: number;
  /** R9.3, R9.4 */
  readonly ddosMitigationMinimumMs: number;
  /** R10: as a fraction (0.995). */
  readonly availabilityTarget: number;
  /** R11.2 */
  readonly subscriptionPeriodMonths: number;
}

export const TERMS_2015_06_01: Terms = Object.freeze({
  version: '2015-06-01',
  backupIntervalMs: 24 * HOUR,
  backupRetentionMs: 15 * DAY,
  restoreRequestsPerMonth: 2,
  adminSupportMsPerMonth: 20 * MINUTE,
  planChangeDeadlineMs: 48 * HOUR,
  guaranteedBandwidthBitsPerSecond: 100_000_000,
  outboundQuotaBytes: 10n ** 13n,
  bandwidthAfterQuotaBitsPerSecond: 1_000_000,
  identityProofDeadlineMs: 72 * HOUR,
  connectionLogRetentionMonths: 12,
  smtpUnblockRefusableFromBlock: 3,
  smtpBlockLadderMs: Object.freeze([1 * HOUR, 24 * HOUR, 7 * DAY]),
  smtpBlockLadderWindowMonths: 12,
  ddosMitigationMinimumMs: 26 * HOUR,
  availabilityTarget: 0.995,
  subscriptionPeriodMonths: 1,
});

const allTerms: ReadonlyMap<string, Terms> = new Map([[TERMS_2015_06_01.version, TERMS_2015_06_01]]);

/** The version new contracts are signed under. */
export const CURRENT_TERMS: Terms = TERMS_2015_06_01;

export function termsFor(version: string): Terms {
  const t = allTerms.get(version);
  if (!t) throw notFound('terms.unknown_version', `No terms with version ${version}`, { version });
  return t;
}

export function termsVersions(): string[] {
  return [...allTerms.keys()];
}

/** Allowed downtime in a period for the availability target (R10): 30 days → 3 h 36 min. */
export function allowedDowntimeMs(terms: Terms, periodMs: number): number {
  return Math.round(periodMs * (1 - terms.availabilityTarget));
}
