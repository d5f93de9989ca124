// The R3.10 ledger: 20 minutes of admin support per billing month of the contract (the terms'
// number, domain/terms.ts), anchored on the contract's billing cycle (domain/contracts.ts), with
// minutes recorded on every staff reply or action on an admin request (domain/tickets.ts).
//
//   record(tx, ticket, …)  in the reply's transaction: under the contract's advisory lock, splits
//                          the minutes into included time left this month, then minutes of the
//                          ticket's accepted quotes; what neither covers refuses the whole reply
//                          (409 ticket.overage_needs_quote: nothing is stored half).
//   balance(…)             what both sides read: used, left, when it resets (FR/EN sentence).
//   editEntry              its author, the same day, audited; the same split is redone.
//   proposeQuote / decideQuote  beyond the included time: a quote at the hourly-rate setting,
//                          the client's explicit acceptance, then an invoice line through the
//                          invoicing (repositories/invoices.ts: gap-free numbers).
// Incident reports (R4.3) and provider-caused tickets record minutes that never consume the
// client's time.
import { conflict, invalidData, notAllowed, notFound } from '../../domain/errors.ts';
import { invoiceYear } from '../../domain/invoices.ts';
import { formatCents, totalsOf } from '../../domain/money.ts';
import { termsFor } from '../../domain/terms.ts';
import {
  balanceSentence,
  checkMinutes,
  consumesIncludedTime,
  editableBy,
  quoteCents,
  splitMinutes,
  supportBalance,
  supportMonth,
  type SupportBalance,
} from '../../domain/tickets.ts';
import type { Db } from '../db/database.ts';
import { recipientOf } from '../mail/recipients.ts';
import { getAccount } from '../repositories/users.ts';
import { contractOfVps, getContract, type ContractRow } from '../repositories/contracts.ts';
import { insertInvoice } from '../repositories/invoices.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import {
  accountLedger,
  getQuote,
  getTimeEntry,
  includedMinutesUsed,
  insertQuote,
  insertTimeEntry,
  quotedMinutesLeft,
  quotesOfTicket,
  timeEntriesOfTicket,
  updateQuote,
  updateTimeEntry,
  type QuoteRow,
  type TimeEntryRow,
} from '../repositories/support-ledger.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import { getTicket, type TicketRow } from '../repositories/tickets.ts';
import { getVps } from '../repositories/vps.ts';
import { inTransaction, xactLock } from '../repositories/transactions.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';
import type { MailService } from './mail.ts';

export interface BalanceView {
  contractId: string;
  includedMinutes: number;
  usedMinutes: number;
  leftMinutes: number;
  monthStart: string;
  resetsAt: string;
  text: { fr: string; en: string };
}

function balanceView(contractId: string, b: SupportBalance): BalanceView {
  return {
    contractId,
    includedMinutes: b.includedMinutes,
    usedMinutes: b.usedMinutes,
    leftMinutes: b.leftMinutes,
    monthStart: b.monthStart.toISOString(),
    resetsAt: b.resetsAt.toISOString(),
    text: { fr: balanceSentence(b, 'fr'), en: balanceSentence(b, 'en') },
  };
}

export function quoteView(q: QuoteRow) {
  return {
    id: q.id,
    minutes: q.minutes,
    hourlyRateCents: q.hourly_rate_cents,
    netCents: q.net_cents,
    totalCents: totalsOf([q.net_cents], q.vat_rate_bp).totalCents,
    description: q.description,
    status: q.status,
    proposedAt: q.proposed_at.toISOString(),
    decidedAt: q.decided_at?.toISOString() ?? null,
    invoiceId: q.invoice_id,
  };
}

export function timeEntryView(e: TimeEntryRow) {
  return {
    id: e.id,
    messageId: e.message_id,
    action: e.action,
    minutes: e.minutes,
    includedMinutes: e.included_minutes,
    quotedMinutes: e.quoted_minutes,
    at: e.created_at.toISOString(),
    editedAt: e.edited_at?.toISOString() ?? null,
  };
}

const lockKey = (contractId: string) => `support-ledger:${contractId}`;

export function createSupportLedger(ctx: ServiceContext, audit: AuditService, deps: { mail: MailService }) {
  const now = () => ctx.clock.now();

  async function balanceOf(db: Db, contract: ContractRow, at: Date): Promise<SupportBalance> {
    const month = supportMonth(contract.billing_anchor, at);
    const used = await includedMinutesUsed(db, contract.id, month.start);
    return supportBalance(termsFor(contract.terms_version).adminSupportMsPerMonth, used, month);
  }

  /** How new minutes on a ticket split (included, quoted) at `at`; a conflict when neither covers them. */
  async function split(
    tx: Db,
    ticket: TicketRow,
    minutes: number,
    at: Date,
    giveBack = { included: 0, quoted: 0 },
  ) {
    if (!consumesIncludedTime(ticket.kind, ticket.provider_caused) || !ticket.contract_id)
      return { included: 0, quoted: 0, monthStart: null, quoteId: null };
    await xactLock(tx, lockKey(ticket.contract_id));
    const contract = await getContract(tx, SYSTEM_SCOPE, ticket.contract_id);
    const b = await balanceOf(tx, contract, at);
    const quotes = await quotedMinutesLeft(tx, ticket.id);
    const quotedLeft = quotes.reduce((n, q) => n + q.left, 0) + giveBack.quoted;
    const s = splitMinutes(minutes, b.leftMinutes + giveBack.included, quotedLeft);
    if (s.uncovered > 0)
      throw conflict(
        'ticket.overage_needs_quote',
        `This work exceeds the included support time (${b.leftMinutes} min left this month): propose a quote for at least ${s.uncovered} min, which the client must accept first`,
        { leftMinutes: b.leftMinutes, uncoveredMinutes: s.uncovered, resetsAt: b.resetsAt.toISOString() },
      );
    return {
      included: s.included,
      quoted: s.quoted,
      monthStart: b.monthStart,
      quoteId: s.quoted > 0 ? (quotes[0]?.quoteId ?? null) : null,
    };
  }

  const ledger = {
    /** R3.10: records a staff member's minutes on a ticket, in the caller's transaction (see above). */
    async record(
      tx: Db,
      ticket: TicketRow,
      e: { authorId: string; action: string; minutes: number; messageId?: string | null },
    ): Promise<TimeEntryRow> {
      const minutes = checkMinutes(e.minutes);
      const at = now();
      const s = await split(tx, ticket, minutes, at);
      return insertTimeEntry(tx, {
        ticket_id: ticket.id,
        message_id: e.messageId ?? null,
        account_id: ticket.account_id,
        contract_id: ticket.contract_id,
        author_id: e.authorId,
        action: e.action,
        minutes,
        included_minutes: s.included,
        quoted_minutes: s.quoted,
        quote_id: s.quoteId,
        month_start: s.monthStart,
        created_at: at,
      });
    },

    /** The balance of a contract's current billing month. */
    async balanceOfContract(db: Db, contractId: string): Promise<BalanceView> {
      const c = await getContract(db, SYSTEM_SCOPE, contractId);
      return balanceView(c.id, await balanceOf(db, c, now()));
    },

    /** Both sides: the balance of the contract of a VPS the scope may see (the ticket form). */
    async balanceForVps(scope: Scope, vpsId: string): Promise<BalanceView> {
      await getVps(ctx.db, scope, vpsId);
      const c = await contractOfVps(ctx.db, SYSTEM_SCOPE, vpsId).catch(() => {
        throw notFound('support.no_contract', 'This VPS has no contract: no included support time');
      });
      return balanceView(c.id, await balanceOf(ctx.db, c, now()));
    },

    /** The balance shown with a ticket: its contract's, when the ticket uses included time; else null. */
    async maybeBalance(db: Db, ticket: TicketRow): Promise<BalanceView | null> {
      if (!consumesIncludedTime(ticket.kind, ticket.provider_caused) || !ticket.contract_id) return null;
      return ledger.balanceOfContract(db, ticket.contract_id);
    },

    entries: (db: Db, ticketId: string) => timeEntriesOfTicket(db, ticketId),
    quotes: (db: Db, ticketId: string) => quotesOfTicket(db, ticketId),

    /** Staff: an account's time entries, newest first (the per-client ledger history). */
    async history(accountId: string, page: PageRequest) {
      const p = await accountLedger(ctx.db, accountId, page);
      return {
        items: p.items.map((e) => ({
          ...timeEntryView(e),
          ticketId: e.ticket_id,
          ticketNumber: Number(e.ticket_number),
          ticketSubject: e.ticket_subject,
          author: e.author_email,
          monthStart: e.month_start?.toISOString() ?? null,
        })),
        nextCursor: p.nextCursor,
      };
    },

    /** R3.10: its author corrects an entry the same day; the split is redone, audited. */
    async editEntry(actor: AuditActor, ticketId: string, entryId: string, minutes: number) {
      checkMinutes(minutes);
      const r = await inTransaction(ctx.db, async (tx) => {
        const ticket = await getTicket(tx, SYSTEM_SCOPE, ticketId, { forUpdate: true });
        const e = await getTimeEntry(tx, ticketId, entryId, { forUpdate: true });
        if (!editableBy({ authorId: e.author_id, createdAt: e.created_at }, actor.userId ?? '', now()))
          throw notAllowed(
            'ticket.time_entry_locked',
            'A time entry can be corrected only by its author, on the day it was recorded',
          );
        // The entry's own minutes are given back before the new figure is split again, in the
        // month it was recorded in.
        const s = await split(tx, ticket, minutes, e.month_start ?? e.created_at, {
          included: e.included_minutes,
          quoted: e.quoted_minutes,
        });
        const updated = await updateTimeEntry(tx, e.id, {
          minutes,
          included_minutes: s.included,
          quoted_minutes: s.quoted,
          quote_id: s.quoted > 0 ? s.quoteId : null,
          edited_at: now(),
        });
        return { before: e, after: updated };
      });
      await audit.record(
        actor,
        'ticket.time_edit',
        { type: 'ticket', id: ticketId },
        {
          entryId,
          before: r.before.minutes,
          after: r.after.minutes,
        },
      );
      return timeEntryView(r.after);
    },

    /** R3.10: staff propose extra work beyond the included time, at the hourly-rate setting. */
    async proposeQuote(actor: AuditActor, ticketId: string, q: { minutes: number; description: string }) {
      const minutes = q.minutes;
      if (!Number.isInteger(minutes) || minutes <= 0 || minutes > 4800)
        throw invalidData('validation.minutes', 'A quote is for 1 to 4800 whole minutes', {
          field: 'minutes',
        });
      const quote = await inTransaction(ctx.db, async (tx) => {
        const ticket = await getTicket(tx, SYSTEM_SCOPE, ticketId, { forUpdate: true });
        if (!consumesIncludedTime(ticket.kind, ticket.provider_caused) || !ticket.contract_id)
          throw conflict(
            'ticket.quote_not_applicable',
            'Only admin requests on a VPS with a contract use included time, and so need quotes',
          );
        if (ticket.status === 'closed') throw conflict('ticket.closed', 'This ticket is closed');
        const contract = await getContract(tx, SYSTEM_SCOPE, ticket.contract_id);
        const rate = ctx.config.supportHourlyRateCents;
        const row = await insertQuote(tx, {
          ticket_id: ticket.id,
          account_id: ticket.account_id,
          contract_id: contract.id,
          minutes,
          hourly_rate_cents: rate,
          net_cents: quoteCents(minutes, rate),
          vat_rate_bp: contract.vat_rate_bp,
          description: q.description,
          status: 'proposed',
          proposed_by: actor.userId!,
          proposed_at: now(),
        });
        const to = await recipientOf(tx, ticket.account_id, { userId: ticket.opened_by });
        await deps.mail.send(tx, {
          to: to.to,
          template: 'ticket.quote',
          language: to.language,
          vars: {
            name: to.name,
            number: ticket.number,
            subject: ticket.subject,
            minutes,
            amount: formatCents(totalsOf([row.net_cents], row.vat_rate_bp).totalCents, to.language),
            description: q.description,
            ticketUrl: `${ctx.config.publicUrl}/client/tickets/${ticket.id}`,
          },
          accountId: ticket.account_id,
          reason: 'R3.10 quote for support beyond the included time',
        });
        return row;
      });
      await audit.record(
        actor,
        'ticket.quote',
        { type: 'ticket', id: ticketId },
        {
          quoteId: quote.id,
          minutes,
          netCents: quote.net_cents,
        },
      );
      return quoteView(quote);
    },

    /** R3.10: the client accepts (an invoice is issued) or declines a quote; explicit, once. */
    async decideQuote(
      actor: AuditActor,
      scope: Scope,
      ticketId: string,
      quoteId: string,
      decision: 'accept' | 'decline',
    ) {
      const r = await inTransaction(ctx.db, async (tx) => {
        const ticket = await getTicket(tx, scope, ticketId, { forUpdate: true });
        const q = await getQuote(tx, ticket.id, quoteId, { forUpdate: true });
        if (q.status !== 'proposed')
          throw conflict('ticket.quote_decided', `This quote is already ${q.status}`, { status: q.status });
        const at = now();
        if (decision === 'decline')
          return updateQuote(tx, q.id, { status: 'declined', decided_at: at, decided_by: actor.userId });
        const contract = await getContract(tx, SYSTEM_SCOPE, q.contract_id);
        const account = await getAccount(tx, SYSTEM_SCOPE, ticket.account_id);
        const totals = totalsOf([q.net_cents], q.vat_rate_bp);
        const invoice = await insertInvoice(
          tx,
          {
            account_id: ticket.account_id,
            order_id: null,
            contract_id: contract.id,
            customer_name: account.name,
            issued_at: at,
            currency: 'EUR',
            term_kind: contract.kind,
            term_months: contract.term_months,
            period_start: null,
            period_end: null,
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
              description: `Support beyond the included time (R3.10), ticket #${ticket.number}: ${q.description} — ${q.minutes} min at ${formatCents(q.hourly_rate_cents, 'en')}/h`,
              quantity: 1,
              unit_cents: q.net_cents,
              total_cents: q.net_cents,
            },
          ],
          invoiceYear(at),
        );
        const to = await recipientOf(tx, ticket.account_id, { userId: actor.userId });
        await deps.mail.send(tx, {
          to: to.to,
          template: 'ticket.quote_invoiced',
          language: to.language,
          vars: {
            name: to.name,
            number: ticket.number,
            invoiceNumber: invoice.number,
            amount: formatCents(invoice.total_cents, to.language),
            invoiceUrl: `${ctx.config.publicUrl}/client/invoices/${invoice.id}`,
          },
          accountId: ticket.account_id,
          reason: 'R3.10 quote accepted: support beyond the included time invoiced',
        });
        return updateQuote(tx, q.id, {
          status: 'accepted',
          decided_at: at,
          decided_by: actor.userId,
          invoice_id: invoice.id,
        });
      });
      await audit.record(
        actor,
        `ticket.quote_${decision}`,
        { type: 'ticket', id: ticketId },
        {
          quoteId,
          invoiceId: r.invoice_id,
        },
      );
      return quoteView(r);
    },
  };
  return ledger;
}
export type SupportLedger = ReturnType<typeof createSupportLedger>;
