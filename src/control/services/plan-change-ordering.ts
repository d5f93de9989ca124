// Plan changes (R3.12), ordering: the plans a VPS can move to with their quote, the order (its
// invoice, or paid at once when nothing is owed), the change dropped before payment, the lists.
// Lock order: the header of services/plan-changes.ts.
import { conflict } from '../../domain/errors.ts';
import { termText, transitionInvoice } from '../../domain/invoices.ts';
import { formatCents, totalsOf } from '../../domain/money.ts';
import { checkPlanChange, prorate } from '../../domain/plan-changes.ts';
import { CURRENT_TERMS } from '../../domain/terms.ts';
import { contractOfVps } from '../repositories/contracts.ts';
import { getInvoice, invoiceBusy, setInvoiceStatus } from '../repositories/invoices.ts';
import { lockUnpaidRenewals } from '../repositories/renewals.ts';
import { getPlan, isSoldIn, listPlans } from '../repositories/plans.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import {
  awaitingChange,
  getPlanChange,
  insertPlanChange,
  listChangesForStaff,
  listChangesOfVps,
  updatePlanChange,
} from '../repositories/plan-changes.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { getVps, getVpsForUpdate, recordVpsEvent } from '../repositories/vps.ts';
import { findRecipient } from '../mail/recipients.ts';
import type { AuditActor } from './context.ts';
import { expiredRefusal, type PlanChangeKit, type PlanChangeView } from './plan-change-kit.ts';
import type { PlanChangePaying } from './plan-change-paying.ts';

export function createPlanChangeOrdering(
  kit: PlanChangeKit,
  paying: Pick<PlanChangePaying, 'insertChangeInvoice' | 'markPaid'>,
) {
  const { ctx, audit, deps, db, now, refusal, view } = kit;
  const { insertChangeInvoice, markPaid } = paying;
  const getChange = getPlanChange;

  return {
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
  };
}
