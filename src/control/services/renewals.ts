// Term and renewal over time (R11.1, R11.2, R11.3), driven by deadlines on the injected clock.
// Every contract's deadlines (subject `contract`, one pending row per kind) are set by one
// function, `plan`, from the contract's facts, each time they change: at opening (commerce's
// validation), at a switch, a stop, a resume, a renewal paid, and after each handler. The rules themselves are pure: src/domain/contracts.ts (dates) and
// src/domain/renewals.ts (warnings, invoice date, grace, allowed actions).
//
// This file is the one service other modules see; its parts: renewal-planning.ts (the deadline
// kinds, `plan`), renewal-invoicing.ts (renewal invoices, their re-issue), renewal-deadlines.ts
// (the handlers below), renewal-views.ts (what clients and staff read). Here: the clients' and
// staff's actions, and commerce's listeners.
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
import {
  isRunning,
  renew,
  resumeRenewal,
  stopRenewal,
  switchToSubscription,
  type ContractState,
} from '../../domain/contracts.ts';
import { conflict } from '../../domain/errors.ts';
import { checkResume, checkStop, checkSwitch, type RenewalSettings } from '../../domain/renewals.ts';
import { termsFor } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import {
  contractTimesOf,
  contractTimesPatch,
  getContract,
  updateContract,
  type ContractRow,
} from '../repositories/contracts.ts';
import {
  contractsNeverPlanned,
  lockUnpaidRenewals,
  openTermination,
  renewalOfInvoice,
} from '../repositories/renewals.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { inTransaction } from '../repositories/transactions.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';
import type { MailService } from './mail.ts';
import { createRenewalDeadlines, type TerminationPort } from './renewal-deadlines.ts';
import { createRenewalInvoicing, voidRenewal } from './renewal-invoicing.ts';
import { plan, RENEWAL_DEADLINES } from './renewal-planning.ts';
import { contractView, renewalsDueView, whoOf } from './renewal-views.ts';

export {
  CONTRACT_EXPIRY,
  RENEWAL_DEADLINES,
  RENEWAL_GRACE_END,
  RENEWAL_INVOICE,
  TERM_WARNING,
} from './renewal-planning.ts';
export type { TerminationPort } from './renewal-deadlines.ts';
export type { ReissueWhy } from './renewal-invoicing.ts';

export interface RenewalsDeps {
  mail: MailService;
  terminations: TerminationPort;
}

export function createRenewalsService(ctx: ServiceContext, audit: AuditService, deps: RenewalsDeps) {
  const settings: RenewalSettings = {
    termWarningDays: ctx.config.termWarningDays,
    renewalInvoiceDaysAhead: ctx.config.renewalInvoiceDaysAhead,
    renewalGraceDays: ctx.config.renewalGraceDays,
  };
  const invoicing = createRenewalInvoicing(ctx, settings, deps.mail);
  const handlers = createRenewalDeadlines(settings, invoicing, deps);
  /** Called in the paying transaction once a renewal paid moved a contract's expiry (plan changes re-quote: R3.12). */
  const renewedListeners: ((tx: Db, c: ContractRow, now: Date) => Promise<void>)[] = [];

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
    const c = await inTransaction(ctx.db, async (tx) => {
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
      await plan(tx, settings, next, now);
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
    return contractView(ctx, c, whoOf(scope));
  }

  return {
    /** Sets every deadline of a contract from its facts at `now` (in the caller's transaction). */
    plan: (tx: Db, c: ContractRow, now: Date) => plan(tx, settings, c, now),
    ...handlers,

    /** Commerce's validation opened a contract (its transaction): its deadlines are set. */
    onContractOpened: (tx: Db, c: ContractRow) => plan(tx, settings, c, ctx.clock.now()),

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
      await plan(tx, settings, next, now);
      for (const listener of renewedListeners) await listener(tx, next, now);
    },

    /** Subscribes to renewals paid (in the paying transaction, after the expiry moved). */
    onRenewed(listener: (tx: Db, c: ContractRow, now: Date) => Promise<void>): void {
      renewedListeners.push(listener);
    },

    reissueUnpaid: invoicing.reissueUnpaid,

    /** Plans the contracts opened before this module existed (at start; idempotent). */
    async planUnplanned(): Promise<number> {
      const rows = await contractsNeverPlanned(ctx.db, RENEWAL_DEADLINES);
      for (const c of rows)
        await inTransaction(ctx.db, async (tx) =>
          plan(tx, settings, await getContract(tx, SYSTEM_SCOPE, c.id, { forUpdate: true }), ctx.clock.now()),
        );
      return rows.length;
    },

    /** A contract's term and renewal, as its client or staff see it. */
    async view(scope: Scope, id: string) {
      return contractView(ctx, await getContract(ctx.db, scope, id), whoOf(scope));
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
    due: (days: number) => renewalsDueView(ctx, days),
  };
}

export type RenewalsService = ReturnType<typeof createRenewalsService>;
