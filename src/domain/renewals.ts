// Term and renewal over time (R11.1, R11.2, R11.3): when a contract's end is announced, when a
// subscription's renewal invoice is issued, what an unpaid renewal leads to, and which actions
// a contract allows. Pure: the caller passes `now` and the provider's settings.
//
// Days here are 24-hour spans counted back from the expiry, in UTC like every contract instant
// (src/domain/contracts.ts): "14 days before" a 31 March 10:00 UTC expiry is 17 March 10:00 UTC,
// whatever the daylight-saving changes in between; the panel and the mails show those instants
// in the client's time zone (Europe/Paris by default).
//
// Unpaid renewal (our decision, R11.2 + R6.5 + R12.4): at the expiry, a subscription whose
// renewal invoice is unpaid keeps running for a grace period (setting, 7 days by default) and
// the client is told the date it will end. Paid within the grace, the subscription renews with
// no gap (the month paid starts at the old expiry, counted from the renewal anchor as always).
// Still unpaid at the end of the grace, the invoice is voided and the contract ends like a
// fixed term (termination, cause term_end). We chose this over suspending the account (which
// R6.5 allows) because a suspension stops every VPS of the account for one unpaid month and
// still needs an end; the grace gives one clear date, told in advance, per contract.
import { DAY } from './clock.ts';
import { isRunning, nextRenewalAt, type ContractState, type ContractTimes } from './contracts.ts';
import { conflict } from './errors.ts';

/** The provider's settings these rules read (src/control/config.ts). */
export interface RenewalSettings {
  /** Days before the end of a contract that does not renew when the client is warned, e.g. [14, 3]. */
  readonly termWarningDays: readonly number[];
  /** Days before the expiry when a subscription's renewal invoice is issued. */
  readonly renewalInvoiceDaysAhead: number;
  /** Days an unpaid renewal keeps the service running after the expiry before the contract ends. */
  readonly renewalGraceDays: number;
}

/** The longest warning or lead time accepted, in days (longer than the longest term makes no sense). */
export const MAX_NOTICE_DAYS = 365;

/**
 * Parses a list of warning days ("14,3"): whole numbers from 1 to MAX_NOTICE_DAYS, each once;
 * returned from the earliest warning to the latest (largest number of days first). "none" (or
 * nothing): no warning. Throws a RangeError naming the bad item.
 */
export function parseWarningDays(text: string): number[] {
  if (text.trim().toLowerCase() === 'none') return [];
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out = new Set<number>();
  for (const item of items) {
    const n = Number(item);
    if (!/^\d+$/.test(item) || !Number.isSafeInteger(n) || n < 1 || n > MAX_NOTICE_DAYS)
      throw new RangeError(`"${item}" is not a whole number of days from 1 to ${MAX_NOTICE_DAYS}`);
    if (out.has(n)) throw new RangeError(`${n} is listed twice`);
    out.add(n);
  }
  return [...out].sort((a, b) => b - a);
}

/** A contract that ends at its current expiry: a fixed term (R11.1) or a subscription whose renewal was stopped. */
export const endsAtExpiry = (c: ContractTimes): boolean => nextRenewalAt(c) === null;

export interface TermWarning {
  /** How many days before the expiry. */
  daysBefore: number;
  /** When it is sent. */
  at: Date;
}

/** The warning points of an expiry, soonest first. */
export function termWarnings(expiresAt: Date, days: readonly number[]): TermWarning[] {
  return [...new Set(days)]
    .filter((n) => n > 0)
    .map((daysBefore) => ({ daysBefore, at: new Date(expiresAt.getTime() - daysBefore * DAY) }))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
}

/**
 * The next warning to schedule at `now` for a contract that ends at its expiry: the soonest
 * point still ahead of `now` and not sent yet for this expiry. Points already past when the end
 * date is set (a switch back, a late stop) are not sent: the client acted knowing the date.
 */
export function nextTermWarning(
  c: ContractTimes,
  days: readonly number[],
  now: Date,
  sent: readonly number[],
): TermWarning | null {
  if (!endsAtExpiry(c) || now.getTime() >= c.expiresAt.getTime()) return null;
  return (
    termWarnings(c.expiresAt, days).find(
      (w) => w.at.getTime() > now.getTime() && !sent.includes(w.daysBefore),
    ) ?? null
  );
}

/**
 * The warning to send when a scheduled one falls due at `now` (possibly late, after a stop of
 * the platform): the most imminent point already due and not sent, while the expiry is still
 * ahead. Older due points are skipped: one mail, with the right date, rather than a burst.
 */
export function dueTermWarning(
  c: ContractTimes,
  days: readonly number[],
  now: Date,
  sent: readonly number[],
): TermWarning | null {
  if (!endsAtExpiry(c) || now.getTime() >= c.expiresAt.getTime()) return null;
  const due = termWarnings(c.expiresAt, days).filter((w) => w.at.getTime() <= now.getTime());
  const last = due.at(-1);
  return last && !sent.includes(last.daysBefore) ? last : null;
}

/** When the invoice of a subscription's next period is issued; null when it will not renew. */
export function renewalInvoiceAt(c: ContractTimes, daysAhead: number): Date | null {
  const at = nextRenewalAt(c);
  return at ? new Date(at.getTime() - daysAhead * DAY) : null;
}

/** The end of the grace an unpaid renewal gets after the expiry (see the module comment). */
export const graceEndsAt = (expiresAt: Date, graceDays: number): Date =>
  new Date(expiresAt.getTime() + graceDays * DAY);

// ---- what a contract allows -------------------------------------------------------------

export type RenewalAction = 'switch_to_subscription' | 'stop_renewal' | 'resume_renewal';

/** The switch (R11.3), a stop or a resume are decided before the expiry, on a running contract. */
function assertOpen(state: ContractState, c: ContractTimes, now: Date): void {
  if (!isRunning(state)) throw conflict('contract.not_running', `This contract is ${state}`, { state });
  if (now.getTime() >= c.expiresAt.getTime())
    throw conflict('contract.expired', 'This contract reached its expiry: its term can no longer change');
}

/** R11.3: refuses a switch unless the contract runs, is a fixed term, and has not reached its expiry. */
export function checkSwitch(state: ContractState, c: ContractTimes, now: Date): void {
  if (c.kind === 'subscription')
    throw conflict('contract.already_subscription', 'This contract is already a subscription');
  assertOpen(state, c, now);
}

/**
 * R11.2: the client stops the tacit renewal of a running subscription. Allowed during an unpaid
 * grace too (the contract then ends at its expiry, already past: at once).
 */
export function checkStop(state: ContractState, c: ContractTimes): void {
  if (!isRunning(state)) throw conflict('contract.not_running', `This contract is ${state}`, { state });
  if (c.kind !== 'subscription')
    throw conflict('contract.not_subscription', 'Only a subscription has a renewal to stop');
  if (c.renewalStoppedAt)
    throw conflict('contract.renewal_stopped', 'The renewal of this subscription is already stopped');
}

/** R11.2: a stopped renewal may be resumed before the expiry. */
export function checkResume(state: ContractState, c: ContractTimes, now: Date): void {
  if (c.kind !== 'subscription')
    throw conflict('contract.not_subscription', 'Only a subscription has a renewal to resume');
  if (!c.renewalStoppedAt)
    throw conflict('contract.renewal_not_stopped', 'The renewal of this subscription is not stopped');
  assertOpen(state, c, now);
}

/** The actions a contract allows at `now` (the panel shows only these). */
export function renewalActions(state: ContractState, c: ContractTimes, now: Date): RenewalAction[] {
  const ok = (check: () => void) => {
    try {
      check();
      return true;
    } catch {
      return false;
    }
  };
  const out: RenewalAction[] = [];
  if (ok(() => checkSwitch(state, c, now))) out.push('switch_to_subscription');
  if (ok(() => checkStop(state, c))) out.push('stop_renewal');
  if (ok(() => checkResume(state, c, now))) out.push('resume_renewal');
  return out;
}
