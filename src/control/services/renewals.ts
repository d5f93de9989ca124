// Term and renewal over time (issue 6 item 1: R11.1, R11.2, R11.3), driven by deadlines on the
// injected clock. Every contract's deadlines (subject `contract`, one pending row per kind) are
// set by one function, `plan`, from the contract's facts, each time they change: at opening
// (commerce's validation), at a switch, a stop, a resume, a renewal paid, and after each
// handler. The rules themselves are pure: src/domain/contracts.ts (dates) and
// src/domain/renewals.ts (warnings, invoice date, grace, allowed actions).
//
//   contract.term_warning   a contract that ends at its expiry (fixed term, stopped subscription):
//                           the client is warned at INFOGERE_TERM_WARNING_DAYS before it, once
//                           per point and expiry (table contract_term_warnings), mail
//                           contract.term_ending; the next point is then planned.
//   contract.renewal_invoice  a renewing subscription: INFOGERE_RENEWAL_INVOICE_DAYS_AHEAD before
//                           the expiry, the next month's invoice (gap-free number, contract's
//                           price) is issued and emailed (contract.renewal_invoice). Paying it
//                           (commerce's onInvoicePaid, in the paying transaction) moves the
//                           expiry one month forward, counted from the renewal anchor.
//   contract.expiry         at the expiry: a contract that does not renew is terminated (the
//                           termination module, cause term_end, effective at the expiry); a
//                           subscription whose renewal is unpaid gets INFOGERE_RENEWAL_GRACE_DAYS
//                           (mail contract.renewal_unpaid with the end date)...
//   contract.renewal_grace_end  ...and, still unpaid then, its invoice is voided and the contract
//                           terminated (cause term_end). Why this rule: src/domain/renewals.ts.
//
// A plan change paid (R3.12) changes the contract's price in the paying transaction and calls
// reissueUnpaid: an unpaid renewal invoice at the old price is voided and issued again, same
// period, at the new price (mail invoice.reissued). A renewal paid tells onRenewed's listeners
// (plan changes re-quote a change still waiting for payment). docs/renewals.md.
//
// Locks: a handler holds its deadline row, so it takes the contract (and invoice) rows with
// NOWAIT and is retried later when they are busy; the API and the paying transaction take
// invoice → contract → deadlines, waiting. No cycle, so no deadlock.
//
// Audit: the client's and staff's actions (switch, stop, resume) are audited after the commit.
// What the platform does on its own leaves its own records (invoices, their payments' audit,
// the notices of every mail, the warnings table, the termination's audit).
import { DAY } from '../../domain/clock.ts';
import {
  isRunning,
  nextRenewalAt,
  renew,
  resumeRenewal,
  stopRenewal,
  switchToSubscription,
  type ContractState,
} from '../../domain/contracts.ts';
import { conflict, isDomainError } from '../../domain/errors.ts';
import { invoiceYear } from '../../domain/invoices.ts';
import { formatCents, totalsOf } from '../../domain/money.ts';
import { orderLine } from '../../domain/orders.ts';
import {
  checkResume,
  checkStop,
  checkSwitch,
  dueTermWarning,
  endsAtExpiry,
  graceEndsAt,
  nextTermWarning,
  renewalActions,
  renewalInvoiceAt,
  type RenewalSettings,
} from '../../domain/renewals.ts';
import { termsFor } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import type { Deadline, Language } from '../db/schema.ts';
import type { MailService } from './mail.ts';
import {
  contractTimesOf,
  contractTimesPatch,
  getContract,
  updateContract,
  type ContractRow,
} from '../repositories/contracts.ts';
import { cancelDeadline, pendingDeadlines, scheduleDeadline } from '../repositories/deadlines.ts';
import { insertInvoice, setInvoiceStatus } from '../repositories/invoices.ts';
import {
  contractsNeverPlanned,
  insertRenewalInvoice,
  liveRenewalsOf,
  lockContractNoWait,
  lockUnpaidRenewals,
  openTermination,
  recordWarning,
  renewalInvoiceFor,
  renewalOfInvoice,
  paidPlanChangeOf,
  renewalsDue,
  warningsOf,
  type RenewalInvoice,
} from '../repositories/renewals.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { getAccount } from '../repositories/users.ts';
import type { AuditService } from './audit.ts';
import { CLIENT_TIME_ZONE, mailDate } from '../mail/format.ts';
import { recipientOf, type Recipient } from '../mail/recipients.ts';
import type { AuditActor, ServiceContext } from './context.ts';

export const TERM_WARNING = 'contract.term_warning';
export const RENEWAL_INVOICE = 'contract.renewal_invoice';
export const CONTRACT_EXPIRY = 'contract.expiry';
export const RENEWAL_GRACE_END = 'contract.renewal_grace_end';
/** Every deadline kind of this module (subject type `contract`). */
export const RENEWAL_DEADLINES = [TERM_WARNING, RENEWAL_INVOICE, CONTRACT_EXPIRY, RENEWAL_GRACE_END] as const;
const SUBJECT = 'contract';

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

export interface RenewalsDeps {
  mail: MailService;
  terminations: TerminationPort;
}

type Who = 'client' | 'support' | 'admin';
const whoOf = (scope: Scope): Who => (scope.kind === 'client' ? 'client' : scope.role);

/** Why an invoice is issued again: told to the client in its language; `reason` for the void and the notice. */
export type ReissueWhy = Record<Language, string> & { reason: string };

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const same = (a: Date, b: Date | string | undefined) =>
  b !== undefined && a.getTime() === new Date(b).getTime();

export function createRenewalsService(ctx: ServiceContext, audit: AuditService, deps: RenewalsDeps) {
  const settings: RenewalSettings = {
    termWarningDays: ctx.config.termWarningDays,
    renewalInvoiceDaysAhead: ctx.config.renewalInvoiceDaysAhead,
    renewalGraceDays: ctx.config.renewalGraceDays,
  };
  const url = (p: string) => new URL(p, ctx.config.publicUrl).toString();

  // ---- planning ----------------------------------------------------------------------------

  /** The warning points already sent for the contract's current expiry (days before). */
  const sentWarnings = async (tx: Db, c: ContractRow) =>
    (await warningsOf(tx, c.id, c.expires_at)).map((w) => w.days_before);

  /**
   * A termination recorded to take effect by the expiry (a registered letter, R12.2...): the
   * contract ends through it, so no end-of-term warning (its own mail tells the client) and no
   * month after it to bill.
   */
  async function endsByTermination(tx: Db, c: ContractRow): Promise<boolean> {
    const term = await openTermination(tx, c.id);
    return term !== undefined && term.effective_at.getTime() <= c.expires_at.getTime();
  }

  /**
   * Sets every deadline of a contract from its facts at `now` (idempotent; in the caller's
   * transaction). Handlers call it too: it must never schedule again, at or before `now`, what
   * the calling handler just declined to do (the tick would loop on it).
   */
  async function plan(tx: Db, c: ContractRow, now: Date): Promise<void> {
    const schedule = (kind: string, dueAt: Date, payload: Record<string, unknown>) =>
      scheduleDeadline(tx, { kind, subjectType: SUBJECT, subjectId: c.id, dueAt, payload }, now);
    const cancel = (...kinds: string[]) =>
      Promise.all(kinds.map((k) => cancelDeadline(tx, k, SUBJECT, c.id, now)));
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

  // ---- who is told, and what ---------------------------------------------------------------

  /** The client told about a contract: the user who ordered it, else the account's contact. */
  async function recipientOfContract(tx: Db, c: ContractRow): Promise<Recipient> {
    const order = await tx
      .selectFrom('orders')
      .select('user_id')
      .where('id', '=', c.order_id)
      .executeTakeFirst();
    return recipientOf(tx, c.account_id, { userId: order?.user_id ?? null });
  }

  /** What the contract delivers, as the mails and the invoice line say it. */
  async function factsOf(tx: Db, c: ContractRow) {
    const row = await tx
      .selectFrom('vps')
      .select(['hostname', 'vcpus', 'memory_mib', 'disk_gib'])
      .where('id', '=', c.vps_id)
      .executeTakeFirstOrThrow();
    // A plan change paid and not applied yet: the contract already bills its plan (R3.12).
    const pending = await paidPlanChangeOf(tx, c.id);
    const vps = pending
      ? {
          ...row,
          vcpus: pending.to_vcpus,
          memory_mib: pending.to_memory_mib,
          disk_gib: pending.to_disk_gib,
        }
      : row;
    const plan = await tx
      .selectFrom('plans')
      .select(['code', 'name'])
      .where('id', '=', c.plan_id)
      .executeTakeFirstOrThrow();
    return { vps, plan };
  }

  const contractUrl = (c: ContractRow) => url(`/client/contracts/${c.id}`);

  /**
   * R11.2: the next month's invoice, at the contract's price, numbered in this transaction, and
   * its mail. `replaces`: an unpaid renewal invoice voided for this one (same period, R3.12).
   */
  async function issueRenewalInvoice(
    tx: Db,
    c: ContractRow,
    now: Date,
    replaces?: { invoice: RenewalInvoice; why: ReissueWhy },
  ): Promise<RenewalInvoice> {
    const terms = termsFor(c.terms_version);
    // A replacement bills the replaced invoice's period (one renewal period, as every renewal).
    const period = replaces
      ? { start: replaces.invoice.renewal_period_start, end: replaces.invoice.renewal_period_end }
      : { start: c.expires_at, end: renew(contractTimesOf(c), terms).expiresAt };
    const { vps, plan } = await factsOf(tx, c);
    const months = terms.subscriptionPeriodMonths;
    const line = orderLine(
      {
        code: plan.code,
        name: plan.name,
        vcpus: vps.vcpus,
        memoryMiB: vps.memory_mib,
        diskGiB: vps.disk_gib,
        monthlyPriceCents: c.monthly_price_cents,
      },
      months,
      vps.hostname,
    );
    const totals = totalsOf([line.totalCents], c.vat_rate_bp);
    const account = await getAccount(tx, SYSTEM_SCOPE, c.account_id);
    const invoice = await insertInvoice(
      tx,
      {
        account_id: c.account_id,
        order_id: null,
        contract_id: c.id,
        customer_name: account.name,
        issued_at: now,
        currency: 'EUR',
        term_kind: 'subscription',
        term_months: null,
        period_start: period.start,
        period_end: period.end,
        net_cents: totals.netCents,
        vat_rate_bp: totals.vatRateBp,
        vat_cents: totals.vatCents,
        total_cents: totals.totalCents,
        status: 'issued',
        paid_at: null,
        voided_at: null,
        void_reason: null,
      },
      [
        {
          description: line.description,
          quantity: line.quantity,
          unit_cents: line.unitCents,
          total_cents: line.totalCents,
        },
      ],
      invoiceYear(now),
    );
    await insertRenewalInvoice(tx, {
      invoiceId: invoice.id,
      contractId: c.id,
      periodStart: period.start,
      periodEnd: period.end,
    });
    if (replaces) {
      // The voided invoice names its successor; the client is told which one to pay.
      await voidRenewal(
        tx,
        replaces.invoice,
        now,
        `${replaces.why.reason}: re-issued as invoice ${invoice.number}`,
      );
      const to = await recipientOfContract(tx, c);
      await deps.mail.send(tx, {
        to: to.to,
        template: 'invoice.reissued',
        language: to.language,
        vars: {
          name: to.name,
          hostname: vps.hostname,
          plan: plan.name,
          oldNumber: replaces.invoice.number,
          number: invoice.number,
          total: formatCents(invoice.total_cents, to.language),
          periodStart: mailDate(period.start, to.language),
          periodEnd: mailDate(period.end, to.language),
          why: replaces.why[to.language],
          invoiceUrl: url(`/client/invoices/${invoice.id}`),
        },
        accountId: c.account_id,
        reason: `${replaces.why.reason}: renewal invoice ${replaces.invoice.number} voided, re-issued as ${invoice.number}`,
      });
      return { ...invoice, renewal_period_start: period.start, renewal_period_end: period.end };
    }
    const to = await recipientOfContract(tx, c);
    await deps.mail.send(tx, {
      to: to.to,
      template: 'contract.renewal_invoice',
      language: to.language,
      vars: {
        name: to.name,
        hostname: vps.hostname,
        plan: plan.name,
        number: invoice.number,
        total: formatCents(invoice.total_cents, to.language),
        periodStart: mailDate(period.start, to.language),
        periodEnd: mailDate(period.end, to.language),
        payBy: mailDate(c.expires_at, to.language),
        graceEnd: mailDate(graceEndsAt(c.expires_at, settings.renewalGraceDays), to.language),
        invoiceUrl: url(`/client/invoices/${invoice.id}`),
        contractUrl: contractUrl(c),
      },
      accountId: c.account_id,
      reason: `R11.2 subscription renewal invoice for ${period.start.toISOString()} – ${period.end.toISOString()}`,
    });
    return { ...invoice, renewal_period_start: period.start, renewal_period_end: period.end };
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

  async function voidRenewal(tx: Db, inv: RenewalInvoice, now: Date, why: string): Promise<void> {
    if (inv.status === 'issued')
      await setInvoiceStatus(tx, inv.id, { status: 'void', voided_at: now, void_reason: why });
  }

  /**
   * R3.12 with R11.2: the contract's price changed (a plan change paid); each unpaid renewal
   * invoice at another price is voided (its number stays used) and issued again, for the same
   * period, at the contract's price. `unpaid` are the caller's rows, locked before the contract
   * (lockUnpaidRenewals: invoice → contract order); mails last. Returns the new invoices.
   */
  async function reissueUnpaid(
    tx: Db,
    c: ContractRow,
    unpaid: readonly RenewalInvoice[],
    now: Date,
    why: ReissueWhy,
  ): Promise<RenewalInvoice[]> {
    const out: RenewalInvoice[] = [];
    if (!isRunning(c.state)) return out;
    const months = termsFor(c.terms_version).subscriptionPeriodMonths;
    const due = totalsOf([c.monthly_price_cents * months], c.vat_rate_bp);
    for (const inv of unpaid) {
      if (inv.status !== 'issued') continue;
      if (inv.net_cents === due.netCents && inv.vat_rate_bp === due.vatRateBp) continue;
      out.push(await issueRenewalInvoice(tx, c, now, { invoice: inv, why }));
    }
    return out;
  }

  /** Called in the paying transaction once a renewal paid moved a contract's expiry (plan changes re-quote: R3.12). */
  const renewedListeners: ((tx: Db, c: ContractRow, now: Date) => Promise<void>)[] = [];

  // ---- deadline handlers (jobs/registry.ts) --------------------------------------------------

  /** Loads the deadline's contract, locked without waiting; null when it no longer runs (its deadlines cancelled). */
  async function contractOf(d: Deadline, tx: Db, now: Date): Promise<ContractRow | null> {
    const c = await lockContractNoWait(tx, d.subject_id).catch((e: unknown) => {
      if (isDomainError(e) && e.code === 'contract.not_found') return null;
      throw e;
    });
    if (!c) return null;
    if (!isRunning(c.state)) {
      await plan(tx, c, now);
      return null;
    }
    return c;
  }

  const payloadOf = (d: Deadline) => d.payload as Record<string, string | number | undefined>;

  async function onTermWarning(d: Deadline, { db: tx, now }: { db: Db; now: Date }): Promise<void> {
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
    await plan(tx, c, now);
  }

  async function onRenewalInvoice(d: Deadline, { db: tx, now }: { db: Db; now: Date }): Promise<void> {
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
    await plan(tx, c, now);
  }

  async function onExpiry(d: Deadline, { db: tx, now }: { db: Db; now: Date }): Promise<void> {
    const c = await contractOf(d, tx, now);
    if (!c) return;
    if (c.expires_at.getTime() > now.getTime()) {
      // Renewed (or otherwise moved) since this deadline was set.
      await plan(tx, c, now);
      return;
    }
    const t = contractTimesOf(c);
    const cancelOthers = () =>
      Promise.all(
        [TERM_WARNING, RENEWAL_INVOICE, RENEWAL_GRACE_END].map((k) =>
          cancelDeadline(tx, k, SUBJECT, c.id, now),
        ),
      );
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
    await Promise.all(
      [TERM_WARNING, RENEWAL_INVOICE, CONTRACT_EXPIRY].map((k) => cancelDeadline(tx, k, SUBJECT, c.id, now)),
    );
  }

  async function onGraceEnd(d: Deadline, { db: tx, now }: { db: Db; now: Date }): Promise<void> {
    const c = await contractOf(d, tx, now);
    if (!c) return;
    const t = contractTimesOf(c);
    if (!same(c.expires_at, payloadOf(d).expiresAt as string) || endsAtExpiry(t)) {
      // Paid meanwhile (the expiry moved), or stopped (the contract ends at its expiry instead).
      await plan(tx, c, now);
      return;
    }
    const inv = await renewalInvoiceFor(tx, c.id, c.expires_at, { lock: 'nowait' });
    if (inv?.status === 'paid') {
      await plan(tx, c, now);
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

  // ---- the view --------------------------------------------------------------------------

  async function viewOf(c: ContractRow, who: Who, db: Db = ctx.db) {
    const now = ctx.clock.now();
    const t = contractTimesOf(c);
    const [vps, live, deadlines, warnings, termination] = await Promise.all([
      db.selectFrom('vps').select('hostname').where('id', '=', c.vps_id).executeTakeFirstOrThrow(),
      renewalInvoiceFor(db, c.id, c.expires_at),
      pendingDeadlines(db, SUBJECT, c.id),
      warningsOf(db, c.id, c.expires_at),
      openTermination(db, c.id),
    ]);
    const due = (kind: string) => iso(deadlines.find((x) => x.kind === kind)?.due_at);
    const running = isRunning(c.state);
    return {
      contractId: c.id,
      accountId: c.account_id,
      vpsId: c.vps_id,
      hostname: vps.hostname,
      kind: c.kind,
      termMonths: c.term_months,
      state: c.state,
      startedAt: c.started_at.toISOString(),
      expiresAt: c.expires_at.toISOString(),
      timeZone: CLIENT_TIME_ZONE,
      renews: running && nextRenewalAt(t) !== null,
      nextRenewalAt: running ? iso(nextRenewalAt(t)) : null,
      endsAt: running && endsAtExpiry(t) ? c.expires_at.toISOString() : null,
      renewalStoppedAt: iso(c.renewal_stopped_at),
      monthlyPriceCents: c.monthly_price_cents,
      vatRateBp: c.vat_rate_bp,
      renewalInvoice: live
        ? {
            id: live.id,
            number: live.number,
            status: live.status,
            totalCents: live.total_cents,
            issuedAt: live.issued_at.toISOString(),
            periodStart: live.renewal_period_start.toISOString(),
            periodEnd: live.renewal_period_end.toISOString(),
          }
        : null,
      renewalInvoiceAt: due(RENEWAL_INVOICE),
      graceEndsAt: due(RENEWAL_GRACE_END),
      nextWarningAt: due(TERM_WARNING),
      warningsSent: warnings.map((w) => ({ daysBefore: w.days_before, sentAt: w.sent_at.toISOString() })),
      termination: termination
        ? {
            cause: termination.cause,
            state: termination.state,
            effectiveAt: termination.effective_at.toISOString(),
          }
        : null,
      actions: (termination ? [] : renewalActions(c.state as ContractState, t, now)).filter(
        // Staff switch a contract for its client (R11.3) as admins only (docs/security.md, Roles).
        (a) => who === 'client' || (who === 'admin' && a === 'switch_to_subscription'),
      ),
    };
  }

  // ---- the clients' and staff's actions ------------------------------------------------------

  /** One action on a contract: locks (invoices, then the contract), changes, re-plans, audits after the commit. */
  async function act(
    scope: Scope,
    id: string,
    actor: AuditActor,
    action: string,
    change: (tx: Db, c: ContractRow, now: Date) => Promise<ContractRow>,
  ) {
    await getContract(ctx.db, scope, id); // another account's contract: 404 before any lock
    const before = { expiresAt: '', kind: '' };
    const c = await ctx.db.transaction().execute(async (tx) => {
      const now = ctx.clock.now();
      await lockUnpaidRenewals(tx, id);
      const cur = await getContract(tx, scope, id, { forUpdate: true });
      before.expiresAt = cur.expires_at.toISOString();
      before.kind = cur.kind;
      if (await openTermination(tx, id))
        throw conflict(
          'contract.terminating',
          'A termination is recorded for this contract: its term no longer changes',
        );
      const next = await change(tx, cur, now);
      await plan(tx, next, now);
      return next;
    });
    try {
      await audit.record(
        actor,
        action,
        { type: 'contract', id },
        { before, expiresAt: c.expires_at.toISOString(), kind: c.kind },
      );
    } catch (e) {
      ctx.log.error({ err: e, action, contract: id }, 'audit append failed after commit');
    }
    return viewOf(c, whoOf(scope));
  }

  return {
    plan,
    onTermWarning,
    onRenewalInvoice,
    onExpiry,
    onGraceEnd,

    /** Commerce's validation opened a contract (its transaction): its deadlines are set. */
    onContractOpened: (tx: Db, c: ContractRow) => plan(tx, c, ctx.clock.now()),

    /**
     * Commerce's listener, inside the paying transaction: a renewal invoice paid moves the expiry
     * one month forward (R11.2), counted from the renewal anchor, and re-plans the deadlines.
     * Other invoices are not this module's.
     */
    async onInvoicePaid(tx: Db, invoice: { id: string }): Promise<void> {
      const r = await renewalOfInvoice(tx, invoice.id);
      if (!r) return;
      const now = ctx.clock.now();
      const c = await getContract(tx, SYSTEM_SCOPE, r.contract_id, { forUpdate: true });
      if (!isRunning(c.state))
        throw conflict('renewal.contract_not_running', `This invoice renews a contract that is ${c.state}`);
      if (c.expires_at.getTime() !== r.period_start.getTime())
        throw conflict(
          'renewal.period_mismatch',
          'This invoice bills a period that does not start at the contract’s expiry',
        );
      const renewed = renew(contractTimesOf(c), termsFor(c.terms_version));
      const next = await updateContract(tx, c.id, contractTimesPatch(renewed));
      await plan(tx, next, now);
      for (const listener of renewedListeners) await listener(tx, next, now);
    },

    /** Subscribes to renewals paid (in the paying transaction, after the expiry moved). */
    onRenewed(listener: (tx: Db, c: ContractRow, now: Date) => Promise<void>): void {
      renewedListeners.push(listener);
    },

    reissueUnpaid,

    /** Plans the contracts opened before this module existed (at start; idempotent). */
    async planUnplanned(): Promise<number> {
      const rows = await contractsNeverPlanned(ctx.db, RENEWAL_DEADLINES);
      for (const c of rows)
        await ctx.db
          .transaction()
          .execute(async (tx) =>
            plan(tx, await getContract(tx, SYSTEM_SCOPE, c.id, { forUpdate: true }), ctx.clock.now()),
          );
      return rows.length;
    },

    /** A contract's term and renewal, as its client or staff see it. */
    async view(scope: Scope, id: string) {
      return viewOf(await getContract(ctx.db, scope, id), whoOf(scope));
    },

    /** R11.3: a fixed term becomes a subscription; renewal runs month by month from the current expiry. */
    switchToSubscription: (scope: Scope, id: string, actor: AuditActor) =>
      act(scope, id, actor, 'contract.switch_to_subscription', async (tx, c, now) => {
        const t = contractTimesOf(c);
        checkSwitch(c.state as ContractState, t, now);
        return updateContract(tx, c.id, contractTimesPatch(switchToSubscription(t)));
      }),

    /** R11.2: the client stops the tacit renewal; the contract ends at its current expiry. An unpaid renewal invoice is voided. */
    stopRenewal: (scope: Scope, id: string, actor: AuditActor) =>
      act(scope, id, actor, 'contract.stop_renewal', async (tx, c, now) => {
        const t = contractTimesOf(c);
        checkStop(c.state as ContractState, t);
        for (const inv of await lockUnpaidRenewals(tx, c.id))
          await voidRenewal(tx, inv, now, 'R11.2: renewal stopped by the client');
        return updateContract(tx, c.id, contractTimesPatch(stopRenewal(t, now)));
      }),

    /** R11.2: the client resumes the renewal before the expiry. */
    resumeRenewal: (scope: Scope, id: string, actor: AuditActor) =>
      act(scope, id, actor, 'contract.resume_renewal', async (tx, c, now) => {
        const t = contractTimesOf(c);
        checkResume(c.state as ContractState, t, now);
        return updateContract(tx, c.id, contractTimesPatch(resumeRenewal(t)));
      }),

    /** Staff: running contracts expiring within `days` (and those past their expiry, in grace), soonest first. */
    async due(days: number) {
      const now = ctx.clock.now();
      const rows = await renewalsDue(ctx.db, new Date(now.getTime() + days * DAY));
      const invoices = await liveRenewalsOf(
        ctx.db,
        rows.map((r) => r.id),
      );
      const grace = rows.length
        ? await ctx.db
            .selectFrom('deadlines')
            .select(['subject_id', 'due_at'])
            .where('kind', '=', RENEWAL_GRACE_END)
            .where('status', '=', 'pending')
            .where(
              'subject_id',
              'in',
              rows.map((r) => r.id),
            )
            .execute()
        : [];
      return {
        now: now.toISOString(),
        timeZone: CLIENT_TIME_ZONE,
        contracts: rows.map((r) => {
          const inv = invoices.find(
            (i) => i.contract_id === r.id && i.renewal_period_start.getTime() === r.expires_at.getTime(),
          );
          const renews = r.kind === 'subscription' && !r.renewal_stopped_at;
          const graceEndsAt = iso(grace.find((g) => g.subject_id === r.id)?.due_at);
          return {
            contractId: r.id,
            accountId: r.account_id,
            accountName: r.account_name,
            vpsId: r.vps_id,
            hostname: r.hostname,
            kind: r.kind,
            termMonths: r.term_months,
            state: r.state,
            expiresAt: r.expires_at.toISOString(),
            outcome: !renews ? ('ends' as const) : graceEndsAt ? ('unpaid' as const) : ('renews' as const),
            renewalStoppedAt: iso(r.renewal_stopped_at),
            monthlyPriceCents: r.monthly_price_cents,
            graceEndsAt,
            renewalInvoice: inv
              ? { id: inv.id, number: inv.number, status: inv.status, totalCents: inv.total_cents }
              : null,
          };
        }),
      };
    },
  };
}

export type RenewalsService = ReturnType<typeof createRenewalsService>;
