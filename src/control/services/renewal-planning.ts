// Term and renewal: the deadline kinds and `plan`, which sets every deadline of a contract from
// its facts (R11.1, R11.2, R11.3). The rules themselves are pure: src/domain/contracts.ts
// (dates) and src/domain/renewals.ts (warnings, invoice date, grace). services/renewals.ts says
// what each deadline does.
import { isRunning } from '../../domain/contracts.ts';
import {
  endsAtExpiry,
  nextTermWarning,
  renewalInvoiceAt,
  type RenewalSettings,
} from '../../domain/renewals.ts';
import type { Db } from '../db/database.ts';
import { contractTimesOf, type ContractRow } from '../repositories/contracts.ts';
import { cancelDeadline, scheduleDeadline } from '../repositories/deadlines.ts';
import { openTermination, renewalInvoiceFor, warningsOf } from '../repositories/renewals.ts';

export const TERM_WARNING = 'contract.term_warning';
export const RENEWAL_INVOICE = 'contract.renewal_invoice';
export const CONTRACT_EXPIRY = 'contract.expiry';
export const RENEWAL_GRACE_END = 'contract.renewal_grace_end';
/** Every deadline kind of this module (subject type `contract`). */
export const RENEWAL_DEADLINES = [TERM_WARNING, RENEWAL_INVOICE, CONTRACT_EXPIRY, RENEWAL_GRACE_END] as const;
/** The deadlines' subject type. */
export const SUBJECT = 'contract';

export const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** Cancels these pending deadlines of a contract. */
export const cancelDeadlines = (tx: Db, contractId: string, now: Date, kinds: readonly string[]) =>
  Promise.all(kinds.map((k) => cancelDeadline(tx, k, SUBJECT, contractId, now)));

/** The warning points already sent for the contract's current expiry (days before). */
export const sentWarnings = async (tx: Db, c: ContractRow) =>
  (await warningsOf(tx, c.id, c.expires_at)).map((w) => w.days_before);

/**
 * A termination recorded to take effect by the expiry (a registered letter, R12.2...): the
 * contract ends through it, so no end-of-term warning (its own mail tells the client) and no
 * month after it to bill.
 */
export async function endsByTermination(tx: Db, c: ContractRow): Promise<boolean> {
  const term = await openTermination(tx, c.id);
  return term !== undefined && term.effective_at.getTime() <= c.expires_at.getTime();
}

/**
 * Sets every deadline of a contract from its facts at `now` (idempotent; in the caller's
 * transaction). Handlers call it too: it must never schedule again, at or before `now`, what
 * the calling handler just declined to do (the tick would loop on it).
 */
export async function plan(tx: Db, settings: RenewalSettings, c: ContractRow, now: Date): Promise<void> {
  const schedule = (kind: string, dueAt: Date, payload: Record<string, unknown>) =>
    scheduleDeadline(tx, { kind, subjectType: SUBJECT, subjectId: c.id, dueAt, payload }, now);
  const cancel = (...kinds: string[]) => cancelDeadlines(tx, c.id, now, kinds);
  if (!isRunning(c.state)) {
    await cancel(...RENEWAL_DEADLINES);
    return;
  }
  const t = contractTimesOf(c);
  const expiresAt = iso(c.expires_at);
  const terminating = await endsByTermination(tx, c);
  if (endsAtExpiry(t)) {
    const w = terminating
      ? null
      : nextTermWarning(t, settings.termWarningDays, now, await sentWarnings(tx, c));
    if (w) await schedule(TERM_WARNING, w.at, { expiresAt, daysBefore: w.daysBefore });
    else await cancel(TERM_WARNING);
    await cancel(RENEWAL_INVOICE, RENEWAL_GRACE_END);
    await schedule(CONTRACT_EXPIRY, c.expires_at, { expiresAt });
    return;
  }
  await cancel(TERM_WARNING);
  if (terminating || (await renewalInvoiceFor(tx, c.id, c.expires_at))) await cancel(RENEWAL_INVOICE);
  else
    await schedule(RENEWAL_INVOICE, renewalInvoiceAt(t, settings.renewalInvoiceDaysAhead)!, {
      periodStart: expiresAt,
    });
  if (now.getTime() < c.expires_at.getTime()) {
    await schedule(CONTRACT_EXPIRY, c.expires_at, { expiresAt });
    await cancel(RENEWAL_GRACE_END);
  }
  // Past the expiry, unpaid: the expiry's handler ran and the grace deadline is its own.
}
