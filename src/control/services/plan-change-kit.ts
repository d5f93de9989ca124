// Plan changes (R3.12): what every part of the service shares — constants, dependencies, the
// quote of a change, the refusals and the view. The service is services/plan-changes.ts (its
// header gives the steps and the lock order); ordering, paying and applying are modules of it.
import { MINUTE } from '../../domain/clock.ts';
import { deadlineStatus, prorate, type Proration } from '../../domain/plan-changes.ts';
import type { Db } from '../db/database.ts';
import type { MailService } from './mail.ts';
import type { ContractRow } from '../repositories/contracts.ts';
import { pendingChangeOfVps, type PlanChangeRow } from '../repositories/plan-changes.ts';
import type { VpsRow } from '../repositories/vps.ts';
import type { AuditService } from './audit.ts';
import type { ClientsService } from './clients.ts';
import type { ServiceContext } from './context.ts';
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
export const REBOOT_POLL_MS = MINUTE;

export const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export interface PlanChangeDeps {
  mail: MailService;
  clients: ClientsService;
  vps: VpsService;
  /** Renewal invoices re-issued at the new price (created after this service: a getter). */
  renewals: () => Pick<RenewalsService, 'reissueUnpaid'>;
}

/** Why a renewal invoice is issued again when a change is paid (void reason, mail, notice). */
export const REPRICED: ReissueWhy = {
  fr: 'votre changement d’offre est réglé, le mois suivant est donc facturé au prix de la nouvelle offre',
  en: 'your plan change is paid, so the next month is billed at the new plan’s price',
  reason: 'R3.12: plan change paid, the renewal is billed at the new price',
};
/** Why a change's invoice is issued again when a renewal was paid at the old price meanwhile. */
export const REQUOTED: ReissueWhy = {
  fr: 'le renouvellement de votre abonnement a été réglé à l’ancien prix, le changement d’offre facture donc aussi la différence pour le mois renouvelé',
  en: 'your subscription’s renewal was paid at the old price, so the plan change also bills the difference for the renewed month',
  reason: 'R3.12: renewal paid at the old price, the plan change bills the renewed month too',
};

/**
 * The proration of a change (src/domain/plan-changes.ts) from its order instant to the
 * contract's paid-through date as it stands: more months paid since the order, more to bill.
 */
export const quoteOf = (c: PlanChangeRow, contract: ContractRow): Proration =>
  prorate({
    oldMonthlyCents: c.from_monthly_price_cents,
    newMonthlyCents: c.to_monthly_price_cents,
    billingAnchor: contract.billing_anchor,
    paidThrough: contract.expires_at,
    at: c.ordered_at,
  });

/** Why no change is ordered now on this contract (past its expiry: an unpaid renewal's grace), or null. */
export function expiredRefusal(contract: ContractRow, at: Date): { code: string; message: string } | null {
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

export function createPlanChangeKit(ctx: ServiceContext, audit: AuditService, deps: PlanChangeDeps) {
  const { db, clock, log } = ctx;
  const now = () => clock.now();

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

  return { ctx, audit, deps, db, log, now, refusal, view };
}
export type PlanChangeKit = ReturnType<typeof createPlanChangeKit>;
export type PlanChangeView = ReturnType<PlanChangeKit['view']>;
