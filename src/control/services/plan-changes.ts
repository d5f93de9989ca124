// Plan changes (R3.12): the client orders another plan for its VPS; the
// difference is invoiced (prorated to the day: src/domain/plan-changes.ts); from the payment
// a deadline from the contract's terms runs (48 h); the `vps.plan_change` job applies it
// through the host driver.
//
//   order          checks (VPS running or stopped, not suspended, nothing pending, plan sold in
//                  the VPS's datacenter, disk never shrinks) + the change row + its invoice and
//                  the invoice.issued mail, one transaction. Nothing more to pay: paid at once.
//   onInvoicePaid  (commerce's listener, inside the paying transaction) the change becomes
//                  paid, its deadline row is scheduled and the job queued; from then on the
//                  contract bills the new plan: its plan and price change at once, and a renewal
//                  invoice still unpaid is voided and issued again at the new price (renewals'
//                  reissueUnpaid), so the month after the expiry is never billed at the old price.
//   onContractRenewed  (renewals' listener, inside the paying transaction of a renewal) a renewal
//                  paid at the old price while the change's invoice waits moves the paid-through
//                  date past what that invoice bills: it is voided and issued again with the
//                  difference for the renewed month too (the proration from the same order instant).
//   runApply       (the job, idempotent by the row's columns) driver.resize; the VPS row,
//                  the contract's plan and price (future renewals) updated; when a running VPS
//                  needs a restart for a field (`next_start`), the reboot is announced by mail
//                  REBOOT_NOTICE_MS ahead and a deadline requests it through the power
//                  machinery (vps.power job); once done: applied, vps.plan_changed mail.
//                  A failure is recorded on the row, staff are alerted, a retry deadline re-queues it.
//   PLAN_CHANGE_DUE (deadline at payment + 48 h) a change still not applied is marked late and
//                  staff alerted; the console lists it highlighted (status computed from due_at).
//
// No change is ordered once the contract is past its expiry (an unpaid renewal's grace, R11.2):
// nothing is paid ahead to prorate, so the new plan would be free until the renewal is paid.
//
// Locks. The change's payment holds its invoice, then the change row, then waits for the
// contract's unpaid renewal invoices, then the contract (invoice → contract, as everywhere). A
// renewal's payment holds its invoice and the contract, then takes the change's invoice NOWAIT
// (busy → 409 invoice.busy, nothing written, retry) and the change row. Cancelling takes the
// invoice, then the change row; ordering the VPS row, the renewal invoices, the contract. No
// transaction waits on a change's invoice while holding a renewal's: no cycle.
import { MINUTE } from '../../domain/clock.ts';
import { conflict } from '../../domain/errors.ts';
import { invoiceYear, termText, transitionInvoice } from '../../domain/invoices.ts';
import { formatCents, totalsOf } from '../../domain/money.ts';
import {
  checkPlanChange,
  deadlineStatus,
  needsReboot,
  planChangeDueAt,
  prorate,
  type Proration,
  type ResizeApplied,
} from '../../domain/plan-changes.ts';
import { CURRENT_TERMS, termsFor } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import type { Deadline } from '../db/schema.ts';
import type { MailService } from './mail.ts';
import { contractOfVps, getContract, updateContract, type ContractRow } from '../repositories/contracts.ts';
import { cancelDeadline, scheduleDeadline } from '../repositories/deadlines.ts';
import { getHost } from '../repositories/hosts.ts';
import {
  getInvoice,
  insertInvoice,
  invoiceBusy,
  lockInvoiceNoWait,
  setInvoiceStatus,
  type InvoiceRow,
} from '../repositories/invoices.ts';
import { lockUnpaidRenewals } from '../repositories/renewals.ts';
import { getPlan, isSoldIn, listPlans } from '../repositories/plans.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { getAccount } from '../repositories/users.ts';
import { getVpsAction } from '../repositories/vps-actions.ts';
import {
  awaitingChange,
  changeOfInvoiceForUpdate,
  getPlanChange,
  insertPlanChange,
  listChangesForStaff,
  listChangesOfVps,
  pendingChangeOfVps,
  updatePlanChange,
  type PlanChangeRow,
} from '../repositories/plan-changes.ts';
import { inTransaction } from '../repositories/transactions.ts';
import {
  getVps,
  getVpsForUpdate,
  recordVpsEvent,
  setVpsResources,
  type VpsRow,
} from '../repositories/vps.ts';
import { raiseAlert } from './alerts.ts';
import type { AuditService } from './audit.ts';
import type { ClientsService } from './clients.ts';
import { mailDate } from '../mail/format.ts';
import { findRecipient } from '../mail/recipients.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import type { ReissueWhy, RenewalsService } from './renewals.ts';
import type { VpsService } from './vps.ts';

export type { PlanChangeRow };

export const PLAN_CHANGE_JOB = 'vps.plan_change';
/** Deadline kinds: the R3.12 deadline, the announced reboot, a retry after a failure. */
export const PLAN_CHANGE_DUE = 'plan_change.due';
export const PLAN_CHANGE_REBOOT = 'plan_change.reboot';
export const PLAN_CHANGE_RETRY = 'plan_change.retry';
/** How long before the reboot the client is told (well inside the 48 h). */
export const REBOOT_NOTICE_MS = 15 * MINUTE;
/** A failed attempt is tried again after this. */
export const RETRY_AFTER_MS = 30 * MINUTE;
/** While the reboot runs, the job looks again after this. */
const REBOOT_POLL_MS = MINUTE;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export interface PlanChangeDeps {
  mail: MailService;
  clients: ClientsService;
  vps: VpsService;
  /** Renewal invoices re-issued at the new price (created after this service: a getter). */
  renewals: () => Pick<RenewalsService, 'reissueUnpaid'>;
}

/** Why a renewal invoice is issued again when a change is paid (void reason, mail, notice). */
const REPRICED: ReissueWhy = {
  fr: 'votre changement d’offre est réglé, le mois suivant est donc facturé au prix de la nouvelle offre',
  en: 'your plan change is paid, so the next month is billed at the new plan’s price',
  reason: 'R3.12: plan change paid, the renewal is billed at the new price',
};
/** Why a change's invoice is issued again when a renewal was paid at the old price meanwhile. */
const REQUOTED: ReissueWhy = {
  fr: 'le renouvellement de votre abonnement a été réglé à l’ancien prix, le changement d’offre facture donc aussi la différence pour le mois renouvelé',
  en: 'your subscription’s renewal was paid at the old price, so the plan change also bills the difference for the renewed month',
  reason: 'R3.12: renewal paid at the old price, the plan change bills the renewed month too',
};

/**
 * The proration of a change (src/domain/plan-changes.ts) from its order instant to the
 * contract's paid-through date as it stands: more months paid since the order, more to bill.
 */
const quoteOf = (c: PlanChangeRow, contract: ContractRow): Proration =>
  prorate({
    oldMonthlyCents: c.from_monthly_price_cents,
    newMonthlyCents: c.to_monthly_price_cents,
    billingAnchor: contract.billing_anchor,
    paidThrough: contract.expires_at,
    at: c.ordered_at,
  });

/** Why no change is ordered now on this contract (past its expiry: an unpaid renewal's grace), or null. */
function expiredRefusal(contract: ContractRow, at: Date): { code: string; message: string } | null {
  if (at.getTime() < contract.expires_at.getTime()) return null;
  if (contract.kind === 'subscription' && !contract.renewal_stopped_at)
    return {
      code: 'plan_change.renewal_unpaid',
      message:
        'This contract reached its expiry and its renewal invoice is unpaid: pay it first, then change the plan',
    };
  return {
    code: 'plan_change.contract_expired',
    message: 'This contract reached its expiry: its plan no longer changes',
  };
}

export function createPlanChangesService(ctx: ServiceContext, audit: AuditService, deps: PlanChangeDeps) {
  const { db, clock, log } = ctx;
  const now = () => clock.now();

  const getChange = getPlanChange;

  /** What a VPS refuses now (suspended, busy, not ready), or null. */
  async function refusal(exec: Db, v: VpsRow): Promise<{ code: string; message: string } | null> {
    if (v.state === 'paused' || (await deps.clients.isSuspended(exec, v.account_id)))
      return {
        code: 'plan_change.vps_suspended',
        message: 'This VPS is suspended: its plan cannot change now',
      };
    if (v.state !== 'running' && v.state !== 'stopped')
      return {
        code: 'plan_change.vps_not_ready',
        message: `This VPS is ${v.state}: its plan can change once it is running or stopped`,
      };
    const pending = await pendingChangeOfVps(exec, v.id);
    if (pending)
      return { code: 'plan_change.pending', message: 'A plan change of this VPS is already pending' };
    return null;
  }

  function view(c: PlanChangeRow, extra: { hostname?: string; accountName?: string } = {}) {
    const status = deadlineStatus({ state: c.state, dueAt: c.due_at, appliedAt: c.applied_at }, now());
    return {
      id: c.id,
      vpsId: c.vps_id,
      accountId: c.account_id,
      contractId: c.contract_id,
      invoiceId: c.invoice_id,
      toPlanId: c.to_plan_id,
      toPlanName: c.to_plan_name,
      from: { vcpus: c.from_vcpus, memoryMiB: c.from_memory_mib, diskGiB: c.from_disk_gib },
      to: { vcpus: c.to_vcpus, memoryMiB: c.to_memory_mib, diskGiB: c.to_disk_gib },
      fromMonthlyPriceCents: c.from_monthly_price_cents,
      toMonthlyPriceCents: c.to_monthly_price_cents,
      cycleDays: c.cycle_days,
      remainingDays: c.remaining_days,
      fullMonths: c.full_months,
      amountCents: c.amount_cents,
      termsVersion: c.terms_version,
      state: c.state,
      orderedAt: c.ordered_at.toISOString(),
      paidAt: c.paid_at?.toISOString() ?? null,
      dueAt: c.due_at?.toISOString() ?? null,
      deadline: status,
      rebootAt: c.reboot_at?.toISOString() ?? null,
      appliedAt: c.applied_at?.toISOString() ?? null,
      lateAt: c.late_at?.toISOString() ?? null,
      attempts: c.attempts,
      lastError: c.last_error,
      ...(extra.hostname !== undefined ? { hostname: extra.hostname } : {}),
      ...(extra.accountName !== undefined ? { accountName: extra.accountName } : {}),
    };
  }
  type PlanChangeView = ReturnType<typeof view>;

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

  async function scheduleRetry(exec: Db, c: PlanChangeRow, after: number): Promise<void> {
    await scheduleDeadline(
      exec,
      {
        kind: PLAN_CHANGE_RETRY,
        subjectType: 'plan_change',
        subjectId: c.id,
        dueAt: new Date(now().getTime() + after),
      },
      now(),
    );
  }

  async function recordFailure(c: PlanChangeRow, vps: Pick<VpsRow, 'id' | 'hostname'>, reason: string) {
    log.error({ change: c.id, vps: vps.id, reason }, 'plan change not applied');
    await inTransaction(db, async (tx) => {
      await updatePlanChange(tx, c.id, { attempts: c.attempts + 1, last_error: reason.slice(0, 1000) });
      await recordVpsEvent(tx, vps.id, now(), 'plan_change', { changeId: c.id, phase: 'failed', reason });
      // One alert per distinct failure, not one per retry (every 30 min).
      if (c.last_error !== reason.slice(0, 1000))
        await raiseAlert(tx, {
          at: now(),
          kind: 'plan_change_failed',
          subject_type: 'vps',
          subject_id: vps.id,
          message: `${vps.hostname}: plan change to ${c.to_plan_name} not applied: ${reason}`,
        });
      await scheduleRetry(tx, c, RETRY_AFTER_MS);
    });
    await audit.record(SYSTEM_ACTOR, 'plan_change.failed', { type: 'plan_change', id: c.id }, { reason });
  }

  /** Applied: state, deadlines settled, the client told (mail last in the transaction). */
  async function finishApplied(tx: Db, c: PlanChangeRow, vps: VpsRow, note: string): Promise<void> {
    const at = now();
    await updatePlanChange(tx, c.id, { state: 'applied', applied_at: at, last_error: null });
    await cancelDeadline(tx, PLAN_CHANGE_DUE, 'plan_change', c.id, at);
    await cancelDeadline(tx, PLAN_CHANGE_RETRY, 'plan_change', c.id, at);
    await recordVpsEvent(tx, vps.id, at, 'plan_change', { changeId: c.id, phase: 'applied', note });
    const owner = await findRecipient(tx, c.account_id);
    if (owner)
      await deps.mail.send(tx, {
        to: owner.to,
        template: 'vps.plan_changed',
        language: owner.language,
        vars: {
          name: owner.name,
          hostname: vps.hostname,
          plan: c.to_plan_name,
          vcpus: String(c.to_vcpus),
          memory: `${c.to_memory_mib} MiB`,
          disk: `${c.to_disk_gib} GiB`,
          price: formatCents(c.to_monthly_price_cents, owner.language),
        },
        accountId: c.account_id,
        reason: 'R3.12 plan change applied',
      });
  }

  const service = {
    /** The plans this VPS can move to, each with what it would cost now (or why not). */
    async options(scope: Scope, vpsId: string) {
      const v = await getVps(db, scope, vpsId);
      const contract = await contractOfVps(db, scope, vpsId);
      const current = await getPlan(db, contract.plan_id);
      const at = now();
      const blocked = (await refusal(db, v)) ?? expiredRefusal(contract, at);
      const plans = (await listPlans(db, { activeOnly: true })).filter((p) =>
        p.datacenters.some((d) => d.id === v.datacenter_id),
      );
      return {
        currentPlanId: current.id,
        currentPlanName: current.name,
        monthlyPriceCents: contract.monthly_price_cents,
        refusal: blocked,
        plans: plans.map((p) => {
          const q = prorate({
            oldMonthlyCents: contract.monthly_price_cents,
            newMonthlyCents: p.monthly_price_cents,
            billingAnchor: contract.billing_anchor,
            paidThrough: contract.expires_at,
            at,
          });
          let refused: string | null = null;
          if (p.id === current.id) refused = 'plan_change.same_plan';
          else if (p.disk_gib < v.disk_gib) refused = 'plan_change.disk_shrink';
          const totals = totalsOf([q.amountCents], p.vat_rate_bp);
          return {
            planId: p.id,
            code: p.code,
            name: p.name,
            vcpus: p.vcpus,
            memoryMiB: p.memory_mib,
            diskGiB: p.disk_gib,
            monthlyPriceCents: p.monthly_price_cents,
            amountCents: q.amountCents,
            totalCents: totals.totalCents,
            remainingDays: q.remainingDays,
            cycleDays: q.cycleDays,
            fullMonths: q.fullMonths,
            refused,
          };
        }),
      };
    },

    /** The client orders another plan for its VPS (R3.12). */
    async order(scope: Scope, vpsId: string, planId: string, actor: AuditActor): Promise<PlanChangeView> {
      const row = await inTransaction(db, async (tx) => {
        await getVps(tx, scope, vpsId); // scope first: another account's VPS is a 404
        const v = await getVpsForUpdate(tx, vpsId);
        const blocked = await refusal(tx, v);
        if (blocked) throw conflict(blocked.code, blocked.message);
        // Invoices before the contract (the payments' order): a change with nothing to pay is
        // paid here, and re-prices the renewal invoices (markPaid).
        await lockUnpaidRenewals(tx, (await contractOfVps(tx, SYSTEM_SCOPE, v.id)).id);
        const contract = await contractOfVps(tx, SYSTEM_SCOPE, v.id, { forUpdate: true });
        if (contract.state !== 'active')
          throw conflict('plan_change.contract_not_active', `The contract of this VPS is ${contract.state}`);
        const expired = expiredRefusal(contract, now());
        if (expired) throw conflict(expired.code, expired.message);
        const plan = await getPlan(tx, planId);
        if (!plan.active) throw conflict('plan.inactive', 'This plan is no longer sold');
        if (!(await isSoldIn(tx, plan.id, v.datacenter_id)))
          throw conflict(
            'plan_change.plan_not_sold_in_datacenter',
            `The plan ${plan.code} is not sold in this VPS's datacenter`,
            {
              field: 'planId',
            },
          );
        checkPlanChange(
          {
            planId: contract.plan_id,
            vcpus: v.vcpus,
            memoryMiB: v.memory_mib,
            diskGiB: v.disk_gib,
            monthlyPriceCents: contract.monthly_price_cents,
          },
          {
            planId: plan.id,
            vcpus: plan.vcpus,
            memoryMiB: plan.memory_mib,
            diskGiB: plan.disk_gib,
            monthlyPriceCents: plan.monthly_price_cents,
          },
        );
        const at = now();
        const q = prorate({
          oldMonthlyCents: contract.monthly_price_cents,
          newMonthlyCents: plan.monthly_price_cents,
          billingAnchor: contract.billing_anchor,
          paidThrough: contract.expires_at,
          at,
        });
        let change = await insertPlanChange(tx, {
          account_id: v.account_id,
          vps_id: v.id,
          contract_id: contract.id,
          invoice_id: null,
          from_plan_id: contract.plan_id,
          to_plan_id: plan.id,
          to_plan_name: plan.name,
          from_vcpus: v.vcpus,
          from_memory_mib: v.memory_mib,
          from_disk_gib: v.disk_gib,
          to_vcpus: plan.vcpus,
          to_memory_mib: plan.memory_mib,
          to_disk_gib: plan.disk_gib,
          from_monthly_price_cents: contract.monthly_price_cents,
          to_monthly_price_cents: plan.monthly_price_cents,
          to_vat_rate_bp: plan.vat_rate_bp,
          cycle_days: q.cycleDays,
          remaining_days: q.remainingDays,
          full_months: q.fullMonths,
          amount_cents: q.amountCents,
          terms_version: contract.terms_version || CURRENT_TERMS.version,
          state: 'awaiting_payment',
          ordered_by: actor.label,
          ordered_at: at,
        });
        await recordVpsEvent(tx, v.id, at, 'plan_change', {
          changeId: change.id,
          phase: 'ordered',
          plan: plan.code,
          amountCents: q.amountCents,
        });
        if (q.amountCents === 0) return markPaid(tx, change, at);
        const invoice = await insertChangeInvoice(tx, {
          contract,
          hostname: v.hostname,
          plan: {
            name: plan.name,
            vcpus: plan.vcpus,
            memoryMiB: plan.memory_mib,
            diskGiB: plan.disk_gib,
            vatRateBp: plan.vat_rate_bp,
          },
          q,
          orderedAt: at,
          at,
        });
        change = await updatePlanChange(tx, change.id, { invoice_id: invoice.id });
        // The client is told: the invoice of the difference (mail last in the transaction).
        const to = await findRecipient(tx, v.account_id, {
          userId: scope.kind === 'client' ? scope.userId : null,
        });
        if (to)
          await deps.mail.send(tx, {
            to: to.to,
            template: 'invoice.issued',
            language: to.language,
            vars: {
              name: to.name,
              number: invoice.number,
              total: formatCents(invoice.total_cents, to.language),
              term: termText(contract.kind, contract.term_months, to.language),
              hostname: v.hostname,
              plan: plan.name,
              invoiceUrl: `${ctx.config.publicUrl}/client/invoices/${invoice.id}`,
            },
            accountId: v.account_id,
            reason: 'R3.12 invoice of a plan change',
          });
        return change;
      });
      await audit.record(
        actor,
        'plan_change.order',
        { type: 'vps', id: vpsId },
        { change: row.id, plan: row.to_plan_id, amountCents: row.amount_cents, invoice: row.invoice_id },
      );
      return view(row);
    },

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

    /** A VPS's changes, newest first (client: its own VPSs only). */
    async list(scope: Scope, vpsId: string): Promise<PlanChangeView[]> {
      await getVps(db, scope, vpsId);
      const rows = await listChangesOfVps(db, vpsId);
      return rows.map((r) => view(r));
    },

    /** Staff: changes paid and not applied (soonest deadline first), then recently applied ones. */
    async listForStaff(
      opts: { all?: boolean } = {},
    ): Promise<(PlanChangeView & { hostname: string; accountName: string })[]> {
      const rows = await listChangesForStaff(db, opts);
      return rows.map((r) => {
        const { hostname, account_name, ...c } = r;
        return { ...view(c, { hostname, accountName: account_name }), hostname, accountName: account_name };
      });
    },

    /** The `vps.plan_change` job. Idempotent: the row's columns say which steps are done. */
    async runApply(changeId: string): Promise<void> {
      const c = await getChange(db, changeId);
      if (c.state !== 'paid') return;
      const vps = await getVps(db, SYSTEM_SCOPE, c.vps_id);
      if (vps.state === 'paused' || (await deps.clients.isSuspended(db, vps.account_id)))
        return recordFailure(c, vps, 'the VPS is suspended');
      try {
        if (!c.resize_result) {
          if (vps.state !== 'running' && vps.state !== 'stopped') throw new Error(`the VPS is ${vps.state}`);
          if (!vps.host_id) throw new Error('the VPS is on no host');
          const agent = await ctx.agents.forHost(await getHost(db, vps.host_id));
          const r = await agent.driver.resize(vps.id, {
            vcpus: c.to_vcpus,
            memoryMiB: c.to_memory_mib,
            diskGiB: c.to_disk_gib,
          });
          const result = {
            vcpus: (r.vcpus ?? 'unchanged') as ResizeApplied,
            memoryMiB: (r.memoryMiB ?? 'unchanged') as ResizeApplied,
            diskGiB: (r.diskGiB ?? 'unchanged') as ResizeApplied,
          };
          // A run after a crash gets `unchanged` for what the first run set: the driver's own
          // pending list says what still waits for a start (vCPU/RAM, or a filesystem not grown live).
          const st = await agent.driver.status(vps.id);
          const pending =
            st.pending.vcpus !== undefined ||
            st.pending.memoryMiB !== undefined ||
            st.pending.growFilesystem === true;
          const reboot = needsReboot(vps.state === 'running', result) || (vps.state === 'running' && pending);
          const at = now();
          await inTransaction(db, async (tx) => {
            const fresh = await getChange(tx, c.id, { forUpdate: true });
            if (fresh.state !== 'paid' || fresh.resize_result) return;
            await updatePlanChange(tx, c.id, { resize_result: JSON.stringify(result) });
            await setVpsResources(tx, vps.id, {
              vcpus: c.to_vcpus,
              memory_mib: c.to_memory_mib,
              disk_gib: c.to_disk_gib,
            });
            // Future renewals bill the new plan's price.
            await updateContract(tx, c.contract_id, {
              plan_id: c.to_plan_id,
              monthly_price_cents: c.to_monthly_price_cents,
              vat_rate_bp: c.to_vat_rate_bp,
            });
            await recordVpsEvent(tx, vps.id, at, 'plan_change', {
              changeId: c.id,
              phase: 'resized',
              ...result,
            });
            if (!reboot) {
              await finishApplied(
                tx,
                fresh,
                vps,
                vps.state === 'running' ? 'applied live' : 'takes effect at the next start',
              );
              return;
            }
            // A restart is needed: announced to the client beforehand, then requested.
            const rebootAt = new Date(at.getTime() + REBOOT_NOTICE_MS);
            await updatePlanChange(tx, c.id, { reboot_announced_at: at, reboot_at: rebootAt });
            await scheduleDeadline(
              tx,
              { kind: PLAN_CHANGE_REBOOT, subjectType: 'plan_change', subjectId: c.id, dueAt: rebootAt },
              at,
            );
            const owner = await findRecipient(tx, c.account_id);
            if (owner)
              await deps.mail.send(tx, {
                to: owner.to,
                template: 'vps.plan_change_reboot',
                language: owner.language,
                vars: {
                  name: owner.name,
                  hostname: vps.hostname,
                  plan: c.to_plan_name,
                  rebootAt: mailDate(rebootAt, owner.language),
                  dueAt: mailDate(c.due_at ?? rebootAt, owner.language),
                },
                accountId: c.account_id,
                reason: 'R3.12 plan change: reboot announced',
              });
          });
          await audit.record(
            SYSTEM_ACTOR,
            'plan_change.resized',
            { type: 'plan_change', id: c.id },
            { ...result, reboot },
          );
          return;
        }
        if (c.reboot_action_id) {
          const a = await getVpsAction(db, c.reboot_action_id);
          if (a.state === 'done') {
            await inTransaction(db, async (tx) => {
              const fresh = await getChange(tx, c.id, { forUpdate: true });
              if (fresh.state === 'paid') await finishApplied(tx, fresh, vps, 'applied by a reboot');
            });
            await audit.record(
              SYSTEM_ACTOR,
              'plan_change.applied',
              { type: 'plan_change', id: c.id },
              { reboot: a.id },
            );
          } else if (a.state === 'failed') {
            await updatePlanChange(db, c.id, { reboot_action_id: null });
            throw new Error(`the reboot failed: ${a.error ?? 'unknown'}`);
          } else await scheduleRetry(db, c, REBOOT_POLL_MS);
        }
        // Otherwise: resized, the reboot announced and waiting for its deadline.
      } catch (e) {
        await recordFailure(c, vps, message(e));
      }
    },

    /** The announced reboot is due: through the power machinery (the vps.power job). */
    async onRebootDue(d: Deadline, at: { db: Db }): Promise<void> {
      const c = await getChange(at.db, d.subject_id, { forUpdate: true });
      if (c.state !== 'paid' || c.reboot_action_id) return;
      const vps = await getVps(at.db, SYSTEM_SCOPE, c.vps_id);
      if (vps.state === 'stopped') {
        // Stopped since: the new configuration takes effect at its next start.
        await finishApplied(at.db, c, vps, 'takes effect at the next start');
        return;
      }
      const r = await deps.vps.requestPower(SYSTEM_SCOPE, vps.id, 'reboot', {
        ...SYSTEM_ACTOR,
        label: 'plan change',
      });
      await updatePlanChange(at.db, c.id, { reboot_action_id: r.action.id });
      await ctx.queue.send(
        PLAN_CHANGE_JOB,
        { changeId: c.id },
        { db: at.db, singletonKey: `plan-change:${c.id}:reboot` },
      );
    },

    /** After a failure or while a reboot runs: the job is queued again. */
    async onRetryDue(d: Deadline, at: { db: Db }): Promise<void> {
      const c = await getChange(at.db, d.subject_id);
      if (c.state !== 'paid') return;
      await ctx.queue.send(
        PLAN_CHANGE_JOB,
        { changeId: c.id },
        { db: at.db, singletonKey: `plan-change:${c.id}:${d.id}` },
      );
    },

    /** The R3.12 deadline passed: a change still not applied is late (staff alerted; the console highlights it). */
    async onDue(d: Deadline, at: { db: Db; now: Date }): Promise<void> {
      const c = await getChange(at.db, d.subject_id, { forUpdate: true });
      if (c.state !== 'paid') return;
      await updatePlanChange(at.db, c.id, { late_at: at.now });
      // One more attempt now (a job lost after its retries is not lost for good).
      await ctx.queue.send(
        PLAN_CHANGE_JOB,
        { changeId: c.id },
        { db: at.db, singletonKey: `plan-change:${c.id}:due` },
      );
      const vps = await getVps(at.db, SYSTEM_SCOPE, c.vps_id);
      await raiseAlert(at.db, {
        at: at.now,
        kind: 'plan_change_late',
        subject_type: 'vps',
        subject_id: vps.id,
        message: `${vps.hostname}: plan change to ${c.to_plan_name} paid ${c.paid_at ? c.paid_at.toISOString() : ''} not applied by its deadline (R3.12)${c.last_error ? `: ${c.last_error}` : ''}`,
      });
    },

    /** The client (or staff) drops a change not paid yet: its invoice is voided (the number stays used). */
    async cancel(scope: Scope, vpsId: string, actor: AuditActor): Promise<PlanChangeView> {
      const row = await inTransaction(db, async (tx) => {
        await getVps(tx, scope, vpsId);
        const nothing = () =>
          conflict('plan_change.nothing_to_cancel', 'No plan change of this VPS is waiting for payment');
        const waiting = await awaitingChange(tx, { vpsId });
        if (!waiting) throw nothing();
        // The invoice before the change row: a payment holds the invoice, then the change.
        const inv = waiting.invoice_id
          ? await getInvoice(tx, SYSTEM_SCOPE, waiting.invoice_id, { forUpdate: true })
          : null;
        const c = await getChange(tx, waiting.id, { forUpdate: true });
        if (c.state !== 'awaiting_payment') throw nothing();
        if (c.invoice_id !== waiting.invoice_id) throw invoiceBusy(); // issued again meanwhile
        const at = now();
        if (inv) {
          transitionInvoice(inv.status, 'void');
          await setInvoiceStatus(tx, inv.id, {
            status: 'void',
            voided_at: at,
            void_reason: 'plan change cancelled',
          });
        }
        await recordVpsEvent(tx, vpsId, at, 'plan_change', {
          changeId: c.id,
          phase: 'cancelled',
          by: actor.label,
        });
        return updatePlanChange(tx, c.id, { state: 'cancelled', cancelled_at: at });
      });
      await audit.record(
        actor,
        'plan_change.cancel',
        { type: 'plan_change', id: row.id },
        { invoice: row.invoice_id },
      );
      return view(row);
    },

    /** Staff: try a paid change again now (audited). */
    async retry(changeId: string, actor: AuditActor): Promise<PlanChangeView> {
      const c = await inTransaction(db, async (tx) => {
        const c = await getChange(tx, changeId, { forUpdate: true });
        if (c.state !== 'paid')
          throw conflict('plan_change.not_pending', `This plan change is ${c.state}: nothing to retry`);
        await ctx.queue.send(
          PLAN_CHANGE_JOB,
          { changeId },
          { db: tx, singletonKey: `plan-change:${c.id}:retry:${now().getTime()}` },
        );
        return c;
      });
      await audit.record(actor, 'plan_change.retry', { type: 'plan_change', id: changeId }, {});
      return view(c);
    },
  };
  return service;
}
export type PlanChangesService = ReturnType<typeof createPlanChangesService>;
