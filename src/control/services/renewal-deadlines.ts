// The deadline handlers of term and renewal (R11.1, R11.2), called by the scheduler
// (jobs/registry.ts) in the deadline's transaction: the end-of-term warning, the renewal
// invoice, the expiry and the end of the grace. Part of services/renewals.ts, which says what
// each does.
//
// Locks: a handler holds its deadline row, so it takes the contract (and invoice) rows with
// NOWAIT and is retried later when they are busy (see services/renewals.ts).
import { DAY } from '../../domain/clock.ts';
import { isRunning, nextRenewalAt } from '../../domain/contracts.ts';
import { isDomainError } from '../../domain/errors.ts';
import { formatCents } from '../../domain/money.ts';
import { dueTermWarning, endsAtExpiry, graceEndsAt, type RenewalSettings } from '../../domain/renewals.ts';
import type { Db } from '../db/database.ts';
import type { Deadline } from '../db/schema.ts';
import { mailDate } from '../mail/format.ts';
import { contractTimesOf, type ContractRow } from '../repositories/contracts.ts';
import { scheduleDeadline } from '../repositories/deadlines.ts';
import {
  lockContractNoWait,
  lockUnpaidRenewals,
  openTermination,
  recordWarning,
  renewalInvoiceFor,
  type RenewalInvoice,
} from '../repositories/renewals.ts';
import type { MailService } from './mail.ts';
import {
  cancelDeadlines,
  CONTRACT_EXPIRY,
  endsByTermination,
  iso,
  plan,
  RENEWAL_GRACE_END,
  RENEWAL_INVOICE,
  sentWarnings,
  SUBJECT,
  TERM_WARNING,
} from './renewal-planning.ts';
import { factsOf, recipientOfContract, voidRenewal, type RenewalInvoicing } from './renewal-invoicing.ts';

/**
 * What this module needs from the termination module (services/terminations.ts): a contract
 * ends through it, which deletes the VPS and its data (R12.4). Kept as a small interface so
 * tests can watch the calls.
 */
export interface TerminationPort {
  terminate(
    db: Db,
    p: { contractId: string; cause: 'term_end'; effectiveAt: Date; recordedBy: string; reason: string },
  ): Promise<unknown>;
}

type HandlerContext = { db: Db; now: Date };

const same = (a: Date, b: Date | string | undefined) =>
  b !== undefined && a.getTime() === new Date(b).getTime();
const payloadOf = (d: Deadline) => d.payload as Record<string, string | number | undefined>;

export function createRenewalDeadlines(
  settings: RenewalSettings,
  invoicing: RenewalInvoicing,
  deps: { mail: MailService; terminations: TerminationPort },
) {
  const { contractUrl, url, issueRenewalInvoice } = invoicing;

  /** Loads the deadline's contract, locked without waiting; null when it no longer runs (its deadlines cancelled). */
  async function contractOf(d: Deadline, tx: Db, now: Date): Promise<ContractRow | null> {
    const c = await lockContractNoWait(tx, d.subject_id).catch((e: unknown) => {
      if (isDomainError(e) && e.code === 'contract.not_found') return null;
      throw e;
    });
    if (!c) return null;
    if (!isRunning(c.state)) {
      await plan(tx, settings, c, now);
      return null;
    }
    return c;
  }

  /** The end of a contract through the termination module (R12.4 follows there); false when one is already recorded. */
  async function endContract(tx: Db, c: ContractRow, effectiveAt: Date, reason: string): Promise<boolean> {
    if (await openTermination(tx, c.id)) return false;
    await deps.terminations.terminate(tx, {
      contractId: c.id,
      cause: 'term_end',
      effectiveAt,
      recordedBy: 'system',
      reason,
    });
    return true;
  }

  /** Unpaid at the end of the grace: the invoice is voided and the contract ends (cause term_end). */
  async function endUnpaid(tx: Db, c: ContractRow, inv: RenewalInvoice, now: Date): Promise<void> {
    await voidRenewal(
      tx,
      inv,
      now,
      'R11.2: renewal unpaid at the end of the grace period; the contract ended',
    );
    await endContract(
      tx,
      c,
      now,
      `R11.2: renewal invoice ${inv.number} unpaid at the end of the grace period (expiry ${c.expires_at.toISOString()})`,
    );
    await cancelDeadlines(tx, c.id, now, [TERM_WARNING, RENEWAL_INVOICE, CONTRACT_EXPIRY]);
  }

  /** R11.1: a contract that ends at its expiry warns its client at each configured point before it. */
  async function onTermWarning(d: Deadline, { db: tx, now }: HandlerContext): Promise<void> {
    const c = await contractOf(d, tx, now);
    if (!c) return;
    const t = contractTimesOf(c);
    const w =
      same(c.expires_at, payloadOf(d).expiresAt as string) && !(await endsByTermination(tx, c))
        ? dueTermWarning(t, settings.termWarningDays, now, await sentWarnings(tx, c))
        : null;
    if (w) {
      const { vps, plan: p } = await factsOf(tx, c);
      const to = await recipientOfContract(tx, c);
      const howToKeep =
        c.kind === 'fixed'
          ? {
              fr: 'Pour le conserver, passez-le en abonnement mensuel avant cette date : il sera alors renouvelé chaque mois à partir de cette date.',
              en: 'To keep it, switch it to a monthly subscription before that date: it then renews every month from that date.',
            }
          : {
              fr: 'Vous avez arrêté son renouvellement ; pour le conserver, reprenez le renouvellement avant cette date.',
              en: 'You stopped its renewal; to keep it, resume the renewal before that date.',
            };
      const { outboxId } = await deps.mail.send(tx, {
        to: to.to,
        template: 'contract.term_ending',
        language: to.language,
        vars: {
          name: to.name,
          hostname: vps.hostname,
          plan: p.name,
          endsAt: mailDate(c.expires_at, to.language),
          daysLeft: Math.ceil((c.expires_at.getTime() - now.getTime()) / DAY),
          howToKeep: howToKeep[to.language],
          contractUrl: contractUrl(c),
        },
        accountId: c.account_id,
        reason: `R11.1 contract ends at ${c.expires_at.toISOString()}: warning ${w.daysBefore} days before`,
      });
      await recordWarning(tx, {
        contractId: c.id,
        expiresAt: c.expires_at,
        daysBefore: w.daysBefore,
        sentAt: now,
        outboxId,
      });
    }
    await plan(tx, settings, c, now);
  }

  /** R11.2: the next month's invoice, ahead of the expiry. */
  async function onRenewalInvoice(d: Deadline, { db: tx, now }: HandlerContext): Promise<void> {
    const c = await contractOf(d, tx, now);
    if (!c) return;
    const t = contractTimesOf(c);
    if (
      nextRenewalAt(t) &&
      same(c.expires_at, payloadOf(d).periodStart as string) &&
      !(await renewalInvoiceFor(tx, c.id, c.expires_at)) &&
      !(await endsByTermination(tx, c))
    )
      await issueRenewalInvoice(tx, c, now);
    await plan(tx, settings, c, now);
  }

  /** R11.1, R11.2: at the expiry, a contract that does not renew ends; an unpaid renewal gets its grace. */
  async function onExpiry(d: Deadline, { db: tx, now }: HandlerContext): Promise<void> {
    const c = await contractOf(d, tx, now);
    if (!c) return;
    if (c.expires_at.getTime() > now.getTime()) {
      // Renewed (or otherwise moved) since this deadline was set.
      await plan(tx, settings, c, now);
      return;
    }
    const t = contractTimesOf(c);
    const cancelOthers = () =>
      cancelDeadlines(tx, c.id, now, [TERM_WARNING, RENEWAL_INVOICE, RENEWAL_GRACE_END]);
    if (endsAtExpiry(t)) {
      // R11.1 (or R11.2 with the renewal stopped): the service ran for its term; the contract ends.
      for (const inv of await lockUnpaidRenewals(tx, c.id, { nowait: true }))
        await voidRenewal(tx, inv, now, 'R11.2: renewal stopped, the contract ended at its expiry');
      await endContract(
        tx,
        c,
        c.expires_at,
        c.kind === 'fixed'
          ? `R11.1: the fixed term of ${c.term_months} month(s) ended on ${c.expires_at.toISOString()}`
          : `R11.2: the subscription's renewal was stopped on ${iso(c.renewal_stopped_at)}; it ended at its expiry ${c.expires_at.toISOString()}`,
      );
      await cancelOthers();
      return;
    }
    // A renewing subscription whose next month is not paid (paying it moves the expiry).
    const term = await openTermination(tx, c.id);
    if (term && term.effective_at.getTime() <= now.getTime()) {
      for (const inv of await lockUnpaidRenewals(tx, c.id, { nowait: true }))
        await voidRenewal(tx, inv, now, 'The contract is terminated');
      await cancelOthers();
      return;
    }
    const inv =
      (await renewalInvoiceFor(tx, c.id, c.expires_at, { lock: 'nowait' })) ??
      (await issueRenewalInvoice(tx, c, now));
    const graceEnd = graceEndsAt(c.expires_at, settings.renewalGraceDays);
    if (graceEnd.getTime() <= now.getTime()) {
      await endUnpaid(tx, c, inv, now);
      return;
    }
    await scheduleDeadline(
      tx,
      {
        kind: RENEWAL_GRACE_END,
        subjectType: SUBJECT,
        subjectId: c.id,
        dueAt: graceEnd,
        payload: { expiresAt: iso(c.expires_at), invoiceId: inv.id },
      },
      now,
    );
    const to = await recipientOfContract(tx, c);
    const { vps } = await factsOf(tx, c);
    await deps.mail.send(tx, {
      to: to.to,
      template: 'contract.renewal_unpaid',
      language: to.language,
      vars: {
        name: to.name,
        hostname: vps.hostname,
        number: inv.number,
        total: formatCents(inv.total_cents, to.language),
        expiredAt: mailDate(c.expires_at, to.language),
        endsAt: mailDate(graceEnd, to.language),
        invoiceUrl: url(`/client/invoices/${inv.id}`),
        contractUrl: contractUrl(c),
      },
      accountId: c.account_id,
      reason: `R11.2 renewal invoice ${inv.number} unpaid at the expiry; the contract ends at ${graceEnd.toISOString()} unless paid`,
    });
  }

  /** R11.2: still unpaid at the end of the grace, the contract ends. */
  async function onGraceEnd(d: Deadline, { db: tx, now }: HandlerContext): Promise<void> {
    const c = await contractOf(d, tx, now);
    if (!c) return;
    const t = contractTimesOf(c);
    if (!same(c.expires_at, payloadOf(d).expiresAt as string) || endsAtExpiry(t)) {
      // Paid meanwhile (the expiry moved), or stopped (the contract ends at its expiry instead).
      await plan(tx, settings, c, now);
      return;
    }
    const inv = await renewalInvoiceFor(tx, c.id, c.expires_at, { lock: 'nowait' });
    if (inv?.status === 'paid') {
      await plan(tx, settings, c, now);
      return;
    }
    if (inv) await endUnpaid(tx, c, inv, now);
    else
      await endContract(
        tx,
        c,
        now,
        `R11.2: renewal unpaid at the end of the grace period (expiry ${c.expires_at.toISOString()})`,
      );
  }

  return { onTermWarning, onRenewalInvoice, onExpiry, onGraceEnd };
}
