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
//
// The service is one object over four modules: plan-change-kit.ts (constants, quote, refusals,
// view), plan-change-ordering.ts (options, order, cancel, lists), plan-change-paying.ts (the
// invoice paid, re-issued after a renewal) and plan-change-applying.ts (the job, the reboot,
// retries, lateness).
import type { AuditService } from './audit.ts';
import type { ServiceContext } from './context.ts';
import { createPlanChangeApplying } from './plan-change-applying.ts';
import { createPlanChangeKit, type PlanChangeDeps } from './plan-change-kit.ts';
import { createPlanChangeOrdering } from './plan-change-ordering.ts';
import { createPlanChangePaying } from './plan-change-paying.ts';

export {
  PLAN_CHANGE_DUE,
  PLAN_CHANGE_JOB,
  PLAN_CHANGE_REBOOT,
  PLAN_CHANGE_RETRY,
  REBOOT_NOTICE_MS,
  RETRY_AFTER_MS,
  type PlanChangeDeps,
  type PlanChangeRow,
  type PlanChangeView,
} from './plan-change-kit.ts';

export function createPlanChangesService(ctx: ServiceContext, audit: AuditService, deps: PlanChangeDeps) {
  const kit = createPlanChangeKit(ctx, audit, deps);
  const paying = createPlanChangePaying(kit);
  return {
    ...createPlanChangeOrdering(kit, paying),
    /** Commerce's listener: the invoice of a change is paid (inside the paying transaction). */
    onInvoicePaid: paying.onInvoicePaid,
    /** Renewals' listener: a renewal paid moved the contract's paid-through date. */
    onContractRenewed: paying.onContractRenewed,
    ...createPlanChangeApplying(kit),
  };
}
export type PlanChangesService = ReturnType<typeof createPlanChangesService>;
