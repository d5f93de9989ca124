// Termination of a contract (R12.1–R12.4): causes, the effective-date rules, and the steps of
// the deletion that follows (R12.4). Pure: no I/O, the clock's `now` is passed in.
import { conflict, invalidData } from './errors.ts';

export const terminationCauses = [
  'term_end', // R11.1: a fixed term reached its end (the renewals module calls terminate)
  'client_letter', // R12.2: the client's registered letter with acknowledgement of receipt
  'force_majeure_client', // R12.1: force majeure invoked by the client
  'force_majeure_provider', // R12.1: force majeure invoked by the provider
  'provider_breach', // R12.3: a breach of article 6: cut at once and terminate
] as const;
export type TerminationCause = (typeof terminationCauses)[number];

export const isTerminationCause = (s: string): s is TerminationCause =>
  (terminationCauses as readonly string[]).includes(s);

/** Causes that may take effect at once: a past or present date becomes now. The others need a date not in the past. */
export const IMMEDIATE_CAUSES: readonly TerminationCause[] = ['term_end', 'provider_breach'];

export const terminationStates = ['scheduled', 'executing', 'done', 'cancelled'] as const;
export type TerminationState = (typeof terminationStates)[number];

/**
 * The effective date a termination is recorded with. A date in the past is refused
 * (`termination.date_past`), except for the immediate causes (term end, breach), whose past or
 * present date becomes `now`. A tolerance of `graceMs` (default one minute) absorbs the time a
 * form takes to submit: "now" typed by staff is not "in the past".
 */
export function effectiveDateFor(
  cause: TerminationCause,
  effectiveAt: Date,
  now: Date,
  graceMs = 60_000,
): Date {
  if (Number.isNaN(effectiveAt.getTime()))
    throw invalidData('validation.effectiveAt', 'The effective date is not a date', { field: 'effectiveAt' });
  if (effectiveAt.getTime() >= now.getTime()) return effectiveAt;
  if (IMMEDIATE_CAUSES.includes(cause) || now.getTime() - effectiveAt.getTime() <= graceMs) return now;
  throw conflict('termination.date_past', 'The effective date of a termination cannot be in the past', {
    effectiveAt: effectiveAt.toISOString(),
    now: now.toISOString(),
  });
}

/**
 * R12.2: the effective date the product proposes for a client's registered letter.
 *
 * Rule: the contract ends "as that letter says":
 * 1. the letter asks for a date after its receipt (and not already past): that date;
 * 2. otherwise (no date, or a date on or before the receipt or already past): the end of the
 *    current paid period (the contract's expiry: end of the fixed term, or of the subscription's
 *    paid month), when it is still ahead;
 * 3. otherwise (the paid period is already over): now.
 * Staff may record another date; the proposal is what the product suggests and is stored.
 */
export function proposeLetterEffectiveDate(p: {
  letterReceivedAt: Date;
  requestedEffectiveAt: Date | null;
  paidUntil: Date;
  now: Date;
}): { effectiveAt: Date; rule: 'requested' | 'paid_period_end' | 'now' } {
  const { letterReceivedAt: rx, requestedEffectiveAt: req, paidUntil, now } = p;
  if (rx.getTime() > now.getTime())
    throw invalidData('validation.letterReceivedAt', 'The letter cannot have been received in the future', {
      field: 'letterReceivedAt',
    });
  if (req && req.getTime() > rx.getTime() && req.getTime() >= now.getTime())
    return { effectiveAt: req, rule: 'requested' };
  if (paidUntil.getTime() > now.getTime()) return { effectiveAt: paidUntil, rule: 'paid_period_end' };
  return { effectiveAt: now, rule: 'now' };
}

/** A scheduled termination can be cancelled only before its effective date. */
export function checkCancellable(state: TerminationState, effectiveAt: Date, now: Date): void {
  if (state !== 'scheduled')
    throw conflict(
      'termination.not_scheduled',
      `This termination is ${state}: it can no longer be cancelled`,
      {
        state,
      },
    );
  if (effectiveAt.getTime() <= now.getTime())
    throw conflict(
      'termination.due',
      'This termination has reached its effective date: it can no longer be cancelled',
    );
}

// ---- the deletion (R12.4) --------------------------------------------------------------------

/** The deletion's steps, in order; the last one done is stored, so a crash resumes after it. */
export const deletionSteps = ['vm', 'network', 'backups', 'credentials', 'address', 'finish'] as const;
export type DeletionStep = (typeof deletionSteps)[number];

export function remainingDeletionSteps(lastDone: string | null): DeletionStep[] {
  if (lastDone === null) return [...deletionSteps];
  const i = (deletionSteps as readonly string[]).indexOf(lastDone);
  if (i < 0) throw new Error(`unknown deletion step ${lastDone}`);
  return deletionSteps.slice(i + 1);
}
