// Plan changes (R3.12): the client orders another plan for its VPS; the difference is invoiced,
// prorated to the day; the change is applied within the terms' deadline after the payment.
//
// The proration rule (shown to the client, docs/contract.md R3.12):
//   diff        = new monthly price − old monthly price (excluding tax, cents)
//   cycle       = the billing cycle (month from the contract's billing anchor) holding the
//                 order instant: [start, end)
//   cycleDays   = whole days in that cycle (28 to 31; cycles start at the anchor's time of day,
//                 in UTC, so every cycle is a whole number of days, daylight saving never counts)
//   remaining   = days from the order to the cycle's end, the day in progress counted
//                 (ceil of (end − order) / 1 day)
//   fullMonths  = whole months already paid after this cycle (a fixed term paid ahead, or a
//                 subscription renewed ahead): months from the cycle's end to the paid-through
//                 date (the contract's expiry)
//   amount      = diff × fullMonths + round_half_up(diff × remaining / cycleDays)
// Rounding is half up to the cent, once, on the prorated part. A cheaper plan (never a smaller
// disk: the disk only grows) costs nothing now and refunds nothing: the amount is zero, no
// invoice is issued, the change is "paid" when ordered (its deadline runs from then) and the
// lower price applies from the next renewal. A cheaper plan is thus never a credit note.
//
// The months after the paid-through date are billed by the renewal invoices (R11.2), at the
// contract's price, which is the new plan's from the change's payment: an unpaid renewal invoice
// is then issued again at the new price; a renewal paid at the old price while the change waits
// for payment makes its invoice be issued again, prorated from the same order instant to the new
// paid-through date; past the expiry (an unpaid renewal's grace) no change is ordered
// (services/plan-changes.ts, docs/renewals.md).
import { DAY, HOUR } from './clock.ts';
import { billingCycleAt, monthsBetween } from './contracts.ts';
import { conflict } from './errors.ts';
import { checkCents, type Cents } from './money.ts';

export const planChangeStates = ['awaiting_payment', 'paid', 'applied', 'cancelled'] as const;
export type PlanChangeState = (typeof planChangeStates)[number];

/** A change not yet applied whose deadline is this close is listed as "near" in the console. */
export const NEAR_DEADLINE_MS = 12 * HOUR;

export interface PlanShape {
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  monthlyPriceCents: Cents;
}

export interface Proration {
  diffCents: number;
  cycleStart: Date;
  cycleEnd: Date;
  cycleDays: number;
  remainingDays: number;
  fullMonths: number;
  /** Excluding tax; zero for a cheaper plan. */
  amountCents: Cents;
}

/** round_half_up(a × b / c) for non-negative integers, exactly (BigInt). */
function mulDivHalfUp(a: number, b: number, c: number): number {
  const p = BigInt(a) * BigInt(b);
  const q = BigInt(c);
  return Number((p * 2n + q) / (q * 2n));
}

/** The amount due for moving from one monthly price to another at `at` (the rule above). */
export function prorate(p: {
  oldMonthlyCents: Cents;
  newMonthlyCents: Cents;
  billingAnchor: Date;
  /** Paid through (the contract's current expiry). */
  paidThrough: Date;
  at: Date;
}): Proration {
  checkCents(p.oldMonthlyCents, 'oldMonthlyCents');
  checkCents(p.newMonthlyCents, 'newMonthlyCents');
  const cycle = billingCycleAt(p.billingAnchor, p.at);
  const cycleDays = Math.round((cycle.end.getTime() - cycle.start.getTime()) / DAY);
  const left = cycle.end.getTime() - p.at.getTime();
  const remainingDays = p.at < p.paidThrough ? Math.min(cycleDays, Math.max(0, Math.ceil(left / DAY))) : 0;
  const fullMonths = p.paidThrough > cycle.end ? monthsBetween(cycle.end, p.paidThrough) : 0;
  const diffCents = p.newMonthlyCents - p.oldMonthlyCents;
  const amountCents =
    diffCents <= 0 ? 0 : diffCents * fullMonths + mulDivHalfUp(diffCents, remainingDays, cycleDays);
  return {
    diffCents,
    cycleStart: cycle.start,
    cycleEnd: cycle.end,
    cycleDays,
    remainingDays,
    fullMonths,
    amountCents: checkCents(amountCents),
  };
}

/** Refuses a change to the same plan or one that would shrink the disk (the disk only grows). */
export function checkPlanChange(
  from: PlanShape & { planId: string },
  to: PlanShape & { planId: string },
): void {
  if (from.planId === to.planId) throw conflict('plan_change.same_plan', 'The VPS already has this plan');
  if (to.diskGiB < from.diskGiB)
    throw conflict(
      'plan_change.disk_shrink',
      `The disk only grows: this plan has ${to.diskGiB} GiB, the VPS has ${from.diskGiB} GiB`,
      { field: 'planId' },
    );
}

/** The deadline of a paid change: payment + the terms' delay (R3.12: 48 h). */
export function planChangeDueAt(paidAt: Date, terms: { planChangeDeadlineMs: number }): Date {
  return new Date(paidAt.getTime() + terms.planChangeDeadlineMs);
}

export type DeadlineStatus = 'none' | 'on_time' | 'near' | 'late' | 'done' | 'done_late';

/** Where a change stands against its deadline (what both sides see). */
export function deadlineStatus(
  c: { state: PlanChangeState; dueAt: Date | null; appliedAt: Date | null },
  now: Date,
): DeadlineStatus {
  if (c.state === 'applied') return c.dueAt && c.appliedAt && c.appliedAt > c.dueAt ? 'done_late' : 'done';
  if (c.state !== 'paid' || !c.dueAt) return 'none';
  const left = c.dueAt.getTime() - now.getTime();
  if (left < 0) return 'late';
  return left <= NEAR_DEADLINE_MS ? 'near' : 'on_time';
}

export type ResizeApplied = 'live' | 'next_start' | 'unchanged';

/** After the driver's answer: a running VPS needs a reboot when something waits for the next start. */
export function needsReboot(
  vpsRunning: boolean,
  r: { vcpus?: ResizeApplied; memoryMiB?: ResizeApplied; diskGiB?: ResizeApplied },
): boolean {
  return vpsRunning && [r.vcpus, r.memoryMiB, r.diskGiB].includes('next_start');
}
