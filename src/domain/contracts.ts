// Contracts: the dates of a service and its state machine (R11.1, R11.2, R11.3).
//
// Time: every contract instant is kept in UTC and month arithmetic is done in UTC, clamped at
// the month's end (31 Jan + 1 month = 28 Feb, or 29 Feb in a leap year), always counted from
// an anchor (anchor + k months), never chained (chaining would drift: 31 Jan → 28 Feb → 28 Mar).
// This is the same arithmetic as the bandwidth quota's cycles (quota.ts `cycleStart`), so a
// contract's months and its quota cycles share the same instants. Being UTC, it is immune to
// daylight-saving changes; the panel shows the instants in the client's time zone
// (Europe/Paris by default), where a service started at 10:00 in winter shows 11:00 in summer.
//
// Kinds:
// - fixed (R11.1): N months from the start; `expiresAt` = start + N months.
// - subscription (R11.2): one month first, renewed tacitly one month at a time; the paid-through
//   date is `expiresAt` = renewalAnchor + periods months (periods = months paid since the anchor).
// - switch (R11.3): a fixed contract becomes a subscription at any time; renewal then runs month
//   by month from the current expiry date: the anchor becomes that date, periods 0.
import { conflict, invalidData } from './errors.ts';
import type { Terms } from './terms.ts';

export const contractKinds = ['fixed', 'subscription'] as const;
export type ContractKind = (typeof contractKinds)[number];

/** The longest fixed term sold, in months. */
export const MAX_TERM_MONTHS = 36;

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** `at` + `months` calendar months in UTC, the day clamped to the target month's last day. */
export function addMonths(at: Date, months: number): Date {
  if (!Number.isSafeInteger(months)) throw new RangeError(`months must be an integer, got ${months}`);
  const total = at.getUTCFullYear() * 12 + at.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month0 = total - year * 12;
  const day = Math.min(at.getUTCDate(), daysInMonth(year, month0));
  return new Date(
    Date.UTC(
      year,
      month0,
      day,
      at.getUTCHours(),
      at.getUTCMinutes(),
      at.getUTCSeconds(),
      at.getUTCMilliseconds(),
    ),
  );
}

/** Whole months from `from` to `to` as `addMonths` counts them: the largest k with from + k ≤ to. */
export function monthsBetween(from: Date, to: Date): number {
  let k = (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + (to.getUTCMonth() - from.getUTCMonth());
  while (k > 0 && addMonths(from, k).getTime() > to.getTime()) k--;
  while (addMonths(from, k + 1).getTime() <= to.getTime()) k++;
  return k;
}

/** R11.1: a fixed term is a whole number of months, 1 to MAX_TERM_MONTHS. */
export function checkTermMonths(months: number, field = 'termMonths'): number {
  if (!Number.isSafeInteger(months) || months < 1 || months > MAX_TERM_MONTHS)
    throw invalidData(`validation.${field}`, `A fixed term is 1 to ${MAX_TERM_MONTHS} whole months`, {
      field,
    });
  return months;
}

// ---- state machine ----------------------------------------------------------------------

export const contractStates = [
  'active', // the service runs (R2.3: reachable for as long as the contract runs)
  'suspended', // a sanction is in force (R5.1, R6.1, R6.5, R12.5); the contract still runs
  'ended', // reached its term, or a subscription whose renewal was stopped reached its expiry
  'terminated', // ended early: registered letter (R12.2), force majeure (R12.1), breach (R12.3)
] as const;
export type ContractState = (typeof contractStates)[number];

const legal: Record<ContractState, readonly ContractState[]> = {
  active: ['suspended', 'ended', 'terminated'],
  suspended: ['active', 'ended', 'terminated'],
  ended: [],
  terminated: [],
};

export function isContractState(s: string): s is ContractState {
  return (contractStates as readonly string[]).includes(s);
}

export function canTransitionContract(from: ContractState, to: ContractState): boolean {
  return legal[from].includes(to);
}

export function transitionContract(from: ContractState, to: ContractState): ContractState {
  if (!canTransitionContract(from, to))
    throw conflict('contract.illegal_transition', `A contract cannot go from ${from} to ${to}`, { from, to });
  return to;
}

/** A contract still running (its VPS must be reachable: R2.3). */
export const isRunning = (s: ContractState): boolean => s === 'active' || s === 'suspended';

// ---- dates ------------------------------------------------------------------------------

/** The facts the date functions work on (a contract row maps onto this). */
export interface ContractTimes {
  kind: ContractKind;
  /** Fixed: the term in months (R11.1); subscription: null. */
  termMonths: number | null;
  startedAt: Date;
  /** Start of the billing cycles, the bandwidth quota's anchor (R3.13): the start. */
  billingAnchor: Date;
  /** Subscription: the date renewals are counted from (the start, or the expiry at a switch: R11.3). */
  renewalAnchor: Date | null;
  /** Subscription: months paid since the renewal anchor. */
  periods: number;
  /** The service's current expiry: end of the term (fixed) or of the paid month (subscription). */
  expiresAt: Date;
  /** Subscription: set when the client stopped the tacit renewal. */
  renewalStoppedAt: Date | null;
}

/** The dates of a contract opened at `start` (validation of its order). */
export function openContract(p: {
  kind: ContractKind;
  termMonths: number | null;
  start: Date;
  terms: Pick<Terms, 'subscriptionPeriodMonths'>;
}): ContractTimes {
  if (p.kind === 'fixed') {
    const n = checkTermMonths(p.termMonths ?? NaN);
    return {
      kind: 'fixed',
      termMonths: n,
      startedAt: p.start,
      billingAnchor: p.start,
      renewalAnchor: null,
      periods: 0,
      expiresAt: addMonths(p.start, n),
      renewalStoppedAt: null,
    };
  }
  // R11.2: one month first (the terms' subscription period).
  const first = p.terms.subscriptionPeriodMonths;
  return {
    kind: 'subscription',
    termMonths: null,
    startedAt: p.start,
    billingAnchor: p.start,
    renewalAnchor: p.start,
    periods: first,
    expiresAt: addMonths(p.start, first),
    renewalStoppedAt: null,
  };
}

/** Subscription: the date the next tacit renewal takes effect (= the current expiry); null when none will happen. */
export function nextRenewalAt(c: ContractTimes): Date | null {
  if (c.kind !== 'subscription' || c.renewalStoppedAt) return null;
  return c.expiresAt;
}

/** R11.2: one more period paid; the expiry moves one period further, counted from the anchor. */
export function renew(c: ContractTimes, terms: Pick<Terms, 'subscriptionPeriodMonths'>): ContractTimes {
  if (c.kind !== 'subscription')
    throw conflict('contract.not_subscription', 'Only a subscription renews (R11.2)');
  if (c.renewalStoppedAt)
    throw conflict('contract.renewal_stopped', 'The renewal of this subscription was stopped');
  if (!c.renewalAnchor) throw new Error('a subscription has a renewal anchor');
  const periods = c.periods + terms.subscriptionPeriodMonths;
  return { ...c, periods, expiresAt: addMonths(c.renewalAnchor, periods) };
}

/** The period a renewal bills: from the current expiry to the next one. */
export function renewalPeriod(
  c: ContractTimes,
  terms: Pick<Terms, 'subscriptionPeriodMonths'>,
): { start: Date; end: Date } {
  return { start: c.expiresAt, end: renew(c, terms).expiresAt };
}

/** R11.3: a fixed contract becomes a subscription; renewal runs from its current expiry date. */
export function switchToSubscription(c: ContractTimes): ContractTimes {
  if (c.kind === 'subscription')
    throw conflict('contract.already_subscription', 'This contract is already a subscription');
  return { ...c, kind: 'subscription', renewalAnchor: c.expiresAt, periods: 0, renewalStoppedAt: null };
}

/** R11.2: the client stops the tacit renewal; the service runs to its current expiry. */
export function stopRenewal(c: ContractTimes, at: Date): ContractTimes {
  if (c.kind !== 'subscription')
    throw conflict('contract.not_subscription', 'Only a subscription has a renewal to stop');
  if (c.renewalStoppedAt)
    throw conflict('contract.renewal_stopped', 'The renewal of this subscription is already stopped');
  return { ...c, renewalStoppedAt: at };
}

/** R11.2: the client takes back a stop; tacit renewal runs again from the same anchor (before the expiry: renewals.ts). */
export function resumeRenewal(c: ContractTimes): ContractTimes {
  if (c.kind !== 'subscription')
    throw conflict('contract.not_subscription', 'Only a subscription has a renewal to resume');
  if (!c.renewalStoppedAt)
    throw conflict('contract.renewal_not_stopped', 'The renewal of this subscription is not stopped');
  return { ...c, renewalStoppedAt: null };
}

/** The billing cycle (month from the anchor) holding `at`: [start, end). */
export function billingCycleAt(anchor: Date, at: Date): { index: number; start: Date; end: Date } {
  const index = Math.max(0, monthsBetween(anchor, at));
  return { index, start: addMonths(anchor, index), end: addMonths(anchor, index + 1) };
}
