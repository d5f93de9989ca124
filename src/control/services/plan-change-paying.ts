// Plan changes (R3.12), paying: a change's invoice issued and paid, and issued again when a
// renewal paid at the old price moves the paid-through date (R11.2). Lock order: the header of
// services/plan-changes.ts.
import { conflict } from '../../domain/errors.ts';
import { invoiceYear, transitionInvoice } from '../../domain/invoices.ts';
import { formatCents, totalsOf } from '../../domain/money.ts';
import { planChangeDueAt, type Proration } from '../../domain/plan-changes.ts';
import { termsFor } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import { getContract, updateContract, type ContractRow } from '../repositories/contracts.ts';
import { scheduleDeadline } from '../repositories/deadlines.ts';
import {
  insertInvoice,
  lockInvoiceNoWait,
  setInvoiceStatus,
  type InvoiceRow,
} from '../repositories/invoices.ts';
import { lockUnpaidRenewals } from '../repositories/renewals.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { getAccount } from '../repositories/users.ts';
import {
  awaitingChange,
  changeOfInvoiceForUpdate,
  getPlanChange,
  updatePlanChange,
  type PlanChangeRow,
} from '../repositories/plan-changes.ts';
import { getVps, recordVpsEvent } from '../repositories/vps.ts';
import { mailDate } from '../mail/format.ts';
import { findRecipient } from '../mail/recipients.ts';
import {
  quoteOf,
  PLAN_CHANGE_DUE,
  PLAN_CHANGE_JOB,
  REPRICED,
  REQUOTED,
  type PlanChangeKit,
} from './plan-change-kit.ts';

export function createPlanChangePaying(kit: PlanChangeKit) {
  const { ctx, deps, now } = kit;
  const getChange = getPlanChange;

  /** The invoice of a change's difference (gap-free number, in `tx`); its period runs from the order. */
  async function insertChangeInvoice(
    tx: Db,
    p: {
      contract: ContractRow;
      hostname: string;
      plan: { name: string; vcpus: number; memoryMiB: number; diskGiB: number; vatRateBp: number };
      q: Proration;
      orderedAt: Date;
      at: Date;
    },
  ) {
    const { contract, plan, q } = p;
    const account = await getAccount(tx, SYSTEM_SCOPE, contract.account_id);
    const totals = totalsOf([q.amountCents], plan.vatRateBp);
    const description =
      `Plan change ${p.hostname}: ${plan.name} (${plan.vcpus} vCPU, ${plan.memoryMiB} MiB, ${plan.diskGiB} GiB), ` +
      `difference ${formatCents(q.diffCents, 'en')}/month × (${q.remainingDays}/${q.cycleDays} days` +
      (q.fullMonths ? ` + ${q.fullMonths} months` : '') +
      `) to ${q.fullMonths ? 'the paid term' : 'the cycle'}'s end`;
    return insertInvoice(
      tx,
      {
        account_id: contract.account_id,
        order_id: null,
        contract_id: contract.id,
        customer_name: account.name,
        issued_at: p.at,
        currency: 'EUR',
        term_kind: contract.kind,
        term_months: contract.term_months,
        period_start: p.orderedAt,
        period_end: q.fullMonths ? contract.expires_at : q.cycleEnd,
        net_cents: totals.netCents,
        vat_rate_bp: totals.vatRateBp,
        vat_cents: totals.vatCents,
        total_cents: totals.totalCents,
        status: 'issued',
        paid_at: null,
        voided_at: null,
        void_reason: null,
      },
      [{ description, quantity: 1, unit_cents: q.amountCents, total_cents: q.amountCents }],
      invoiceYear(p.at),
    );
  }

  /**
   * The change becomes paid at `at` (inside `tx`, which holds the change's invoice and row):
   * deadline from its terms, job queued; the contract bills the new plan from now (R3.12), and
   * its unpaid renewal invoices are issued again at the new price (R11.2). Renewal invoices are
   * locked before the contract (invoice → contract), and waited for: a renewal's payment never
   * waits on this change's invoice (onContractRenewed takes it NOWAIT).
   */
  async function markPaid(tx: Db, c: PlanChangeRow, at: Date): Promise<PlanChangeRow> {
    const unpaid = await lockUnpaidRenewals(tx, c.contract_id);
    const contract = await getContract(tx, SYSTEM_SCOPE, c.contract_id, { forUpdate: true });
    // A renewal paid since the order is re-quoted by onContractRenewed; a quote that no longer
    // covers the paid-through date (a change ordered before that existed) is refused, never
    // under-charged.
    if (quoteOf(c, contract).amountCents !== c.amount_cents)
      throw conflict(
        'plan_change.quote_outdated',
        'The contract was renewed after this plan change was ordered: its invoice no longer covers the renewed month. Cancel the change and order it again',
      );
    const dueAt = planChangeDueAt(at, termsFor(c.terms_version));
    const row = await updatePlanChange(tx, c.id, { state: 'paid', paid_at: at, due_at: dueAt });
    await scheduleDeadline(
      tx,
      {
        kind: PLAN_CHANGE_DUE,
        subjectType: 'plan_change',
        subjectId: c.id,
        dueAt,
        payload: { vpsId: c.vps_id },
      },
      at,
    );
    await ctx.queue.send(
      PLAN_CHANGE_JOB,
      { changeId: c.id },
      { db: tx, singletonKey: `plan-change:${c.id}:paid` },
    );
    await recordVpsEvent(tx, c.vps_id, at, 'plan_change', {
      changeId: c.id,
      phase: 'paid',
      dueAt: dueAt.toISOString(),
    });
    // From the payment, the contract bills the new plan (runApply sets the same again, for
    // changes paid before this rule); its renewal invoices not paid yet follow (mails last).
    const priced = await updateContract(tx, c.contract_id, {
      plan_id: c.to_plan_id,
      monthly_price_cents: c.to_monthly_price_cents,
      vat_rate_bp: c.to_vat_rate_bp,
    });
    await deps.renewals().reissueUnpaid(tx, priced, unpaid, at, REPRICED);
    return row;
  }

  return {
    insertChangeInvoice,
    markPaid,

    /** Commerce's listener: the invoice of a change is paid (inside the paying transaction). */
    async onInvoicePaid(tx: Db, invoice: InvoiceRow): Promise<void> {
      const c = await changeOfInvoiceForUpdate(tx, invoice.id);
      if (!c || c.state !== 'awaiting_payment') return;
      await markPaid(tx, c, invoice.paid_at ?? now());
    },

    /**
     * Renewals' listener: a renewal was paid (at the price of its invoice) and the contract's
     * paid-through date moved, inside the paying transaction. A change still waiting for payment
     * billed the difference only up to the old date: its invoice is voided (the number stays
     * used) and issued again from the same order instant to the new date (R3.12). The change's
     * invoice is taken NOWAIT: this transaction holds the renewal's invoice, and the change's
     * payment takes its invoice then the renewal's; busy → 409 invoice.busy, nothing written.
     */
    async onContractRenewed(tx: Db, contract: ContractRow, at: Date): Promise<void> {
      const waiting = await awaitingChange(tx, { contractId: contract.id });
      if (!waiting?.invoice_id) return;
      const q = quoteOf(waiting, contract);
      if (q.amountCents === waiting.amount_cents) return;
      const old = await lockInvoiceNoWait(tx, waiting.invoice_id);
      const c = await getChange(tx, waiting.id, { forUpdate: true });
      if (c.state !== 'awaiting_payment' || c.invoice_id !== old.id || old.status !== 'issued') return;
      const v = await getVps(tx, SYSTEM_SCOPE, c.vps_id);
      const invoice = await insertChangeInvoice(tx, {
        contract,
        hostname: v.hostname,
        plan: {
          name: c.to_plan_name,
          vcpus: c.to_vcpus,
          memoryMiB: c.to_memory_mib,
          diskGiB: c.to_disk_gib,
          vatRateBp: c.to_vat_rate_bp,
        },
        q,
        orderedAt: c.ordered_at,
        at,
      });
      transitionInvoice(old.status, 'void');
      await setInvoiceStatus(tx, old.id, {
        status: 'void',
        voided_at: at,
        void_reason: `${REQUOTED.reason}: re-issued as invoice ${invoice.number}`,
      });
      await updatePlanChange(tx, c.id, {
        invoice_id: invoice.id,
        cycle_days: q.cycleDays,
        remaining_days: q.remainingDays,
        full_months: q.fullMonths,
        amount_cents: q.amountCents,
      });
      await recordVpsEvent(tx, c.vps_id, at, 'plan_change', {
        changeId: c.id,
        phase: 'requoted',
        amountCents: q.amountCents,
        invoice: invoice.number,
        replaces: old.number,
      });
      const to = await findRecipient(tx, c.account_id);
      if (to)
        await deps.mail.send(tx, {
          to: to.to,
          template: 'invoice.reissued',
          language: to.language,
          vars: {
            name: to.name,
            hostname: v.hostname,
            plan: c.to_plan_name,
            oldNumber: old.number,
            number: invoice.number,
            total: formatCents(invoice.total_cents, to.language),
            periodStart: mailDate(c.ordered_at, to.language),
            periodEnd: mailDate(invoice.period_end ?? contract.expires_at, to.language),
            why: REQUOTED[to.language],
            invoiceUrl: `${ctx.config.publicUrl}/client/invoices/${invoice.id}`,
          },
          accountId: c.account_id,
          reason: `${REQUOTED.reason}: invoice ${old.number} voided, re-issued as ${invoice.number}`,
        });
    },
  };
}
export type PlanChangePaying = ReturnType<typeof createPlanChangePaying>;
