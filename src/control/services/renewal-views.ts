// What clients and staff read of term and renewal (R11.1, R11.2, R11.3): one contract's term,
// renewal invoice, deadlines and allowed actions; the console's renewals due. Part of
// services/renewals.ts.
import { DAY } from '../../domain/clock.ts';
import { isRunning, nextRenewalAt, type ContractState } from '../../domain/contracts.ts';
import { endsAtExpiry, renewalActions } from '../../domain/renewals.ts';
import type { Db } from '../db/database.ts';
import { CLIENT_TIME_ZONE } from '../mail/format.ts';
import { contractTimesOf, type ContractRow } from '../repositories/contracts.ts';
import { pendingDeadlines } from '../repositories/deadlines.ts';
import {
  liveRenewalsOf,
  openTermination,
  pendingContractDeadlines,
  renewalInvoiceFor,
  renewalsDue,
  warningsOf,
} from '../repositories/renewals.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { getVps } from '../repositories/vps.ts';
import type { ServiceContext } from './context.ts';
import { iso, RENEWAL_GRACE_END, RENEWAL_INVOICE, SUBJECT, TERM_WARNING } from './renewal-planning.ts';

export type Who = 'client' | 'support' | 'admin';
export const whoOf = (scope: Scope): Who => (scope.kind === 'client' ? 'client' : scope.role);

/** A contract's term and renewal, as `who` sees it at the clock's now. */
export async function contractView(ctx: ServiceContext, c: ContractRow, who: Who, db: Db = ctx.db) {
  const now = ctx.clock.now();
  const t = contractTimesOf(c);
  const [vps, live, deadlines, warnings, termination] = await Promise.all([
    getVps(db, SYSTEM_SCOPE, c.vps_id),
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

/** Staff: running contracts expiring within `days` (and those past their expiry, in grace), soonest first. */
export async function renewalsDueView(ctx: ServiceContext, days: number) {
  const now = ctx.clock.now();
  const rows = await renewalsDue(ctx.db, new Date(now.getTime() + days * DAY));
  const ids = rows.map((r) => r.id);
  const [invoices, grace] = await Promise.all([
    liveRenewalsOf(ctx.db, ids),
    pendingContractDeadlines(ctx.db, RENEWAL_GRACE_END, ids),
  ]);
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
}
