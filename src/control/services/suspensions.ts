// Account suspensions (R6.1, and the causes other modules bring: unpaid bills, sanctions,
// authority orders). A suspension has a cause and a reference; several may hold at once, and
// the account is suspended while any does.
//
// For other modules (through `services.clients`):
//   isSuspended(db, accountId), activeSuspensions(accountId[, db]), allActiveSuspensions()
//   suspend({accountId, cause, referenceId, reason}, actor) / lift({...}, actor)
//   onSuspensionChange(listener)  called after the commit, once per change, with
//                                 {accountId, suspended, cause, referenceId, suspensionId}.
//   Listeners run in the process that made the change; a process that stops between the
//   commit and a listener misses that call, so a reacting module should also reconcile from
//   allActiveSuspensions() when it starts.
import type { Db } from '../db/database.ts';
import {
  activeSuspensions,
  allActiveSuspensions,
  hasActiveSuspension,
  insertSuspension,
  liftSuspensions,
  type SuspensionRow,
} from '../repositories/clients.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';

export interface SuspensionChange {
  accountId: string;
  suspended: boolean;
  cause: string;
  referenceId: string | null;
  suspensionId: string;
}
export type SuspensionListener = (change: SuspensionChange) => void | Promise<void>;

export interface SuspensionView {
  id: string;
  cause: string;
  referenceId: string | null;
  reason: string;
  startedAt: string;
  liftedAt: string | null;
  liftedBy: string | null;
  liftReason: string | null;
}

export const suspensionView = (s: SuspensionRow): SuspensionView => ({
  id: s.id,
  cause: s.cause,
  referenceId: s.reference_id,
  reason: s.reason,
  startedAt: s.started_at.toISOString(),
  liftedAt: s.lifted_at?.toISOString() ?? null,
  liftedBy: s.lifted_by,
  liftReason: s.lift_reason,
});

export function createSuspensions(ctx: ServiceContext, audit: AuditService) {
  const listeners = new Set<SuspensionListener>();

  /** Calls the listeners after a commit; a failing listener is logged and does not stop the others. */
  async function emit(changes: SuspensionChange[]): Promise<void> {
    for (const change of changes)
      for (const l of listeners) {
        try {
          await l(change);
        } catch (e) {
          ctx.log.error({ err: e, change }, 'suspension listener failed');
        }
      }
  }

  const changeOf = (s: SuspensionRow, suspended: boolean): SuspensionChange => ({
    accountId: s.account_id,
    suspended,
    cause: s.cause,
    referenceId: s.reference_id,
    suspensionId: s.id,
  });

  /** Audits committed suspension changes, then tells the listeners. */
  async function recordChanges(actor: AuditActor, rows: SuspensionRow[], suspended: boolean): Promise<void> {
    await auditSuspensions(actor, rows, suspended);
    await emit(rows.map((s) => changeOf(s, suspended)));
  }

  async function auditSuspensions(
    actor: AuditActor,
    rows: SuspensionRow[],
    suspended: boolean,
  ): Promise<void> {
    for (const s of rows)
      await audit.record(
        actor,
        suspended ? 'account.suspend' : 'account.suspension_lift',
        { type: 'account', id: s.account_id },
        {
          suspensionId: s.id,
          cause: s.cause,
          referenceId: s.reference_id,
          reason: suspended ? s.reason : s.lift_reason,
        },
      );
  }

  return {
    /** Whether the account has any active suspension (any cause). Usable in another module's transaction. */
    isSuspended: (db: Db, accountId: string) => hasActiveSuspension(db, accountId),
    activeSuspensions: (accountId: string, db: Db = ctx.db) => activeSuspensions(db, accountId),
    allActiveSuspensions: (db: Db = ctx.db) => allActiveSuspensions(db),

    /** Calls `listener` after each committed suspension change; returns a function that removes it. */
    onSuspensionChange(listener: SuspensionListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Suspends an account for a cause (idempotent per cause and reference); listeners run after the commit. */
    async suspend(
      p: { accountId: string; cause: string; referenceId: string | null; reason: string },
      actor: AuditActor,
    ) {
      const row = await insertSuspension(ctx.db, { ...p, at: ctx.clock.now() });
      if (row) await recordChanges(actor, [row], true);
      return row;
    },

    /** Lifts the matching active suspensions; listeners run after the commit. */
    async lift(
      m: { accountId: string; cause?: string; referenceId?: string; id?: string },
      reason: string,
      actor: AuditActor,
    ) {
      const rows = await liftSuspensions(ctx.db, m, { at: ctx.clock.now(), by: actor.label, reason });
      await recordChanges(actor, rows, false);
      return rows;
    },

    /** For the modules that suspend or lift in their own transaction: audit and listeners, after the commit. */
    recordChanges,
  };
}

export type Suspensions = ReturnType<typeof createSuspensions>;
