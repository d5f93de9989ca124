// Scheduling a deadline is a row; services call these inside their own transactions so the
// deadline exists exactly when the fact that causes it does. jobs/scheduler.ts acts on them.
import type { Db } from '../db/database.ts';
import type { Deadline } from '../db/schema.ts';

export interface DeadlineSpec {
  kind: string;
  subjectType: string;
  subjectId: string;
  dueAt: Date;
  payload?: Record<string, unknown>;
}

/** Sets (or moves) the one pending deadline of this kind for this subject. */
export async function scheduleDeadline(db: Db, spec: DeadlineSpec, now: Date): Promise<Deadline> {
  return db
    .insertInto('deadlines')
    .values({
      kind: spec.kind,
      subject_type: spec.subjectType,
      subject_id: spec.subjectId,
      due_at: spec.dueAt,
      payload: JSON.stringify(spec.payload ?? {}),
      created_at: now,
      status: 'pending',
    })
    .onConflict((oc) =>
      oc
        .columns(['kind', 'subject_type', 'subject_id'])
        .where('status', '=', 'pending')
        .doUpdateSet({ due_at: spec.dueAt, payload: JSON.stringify(spec.payload ?? {}) }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function cancelDeadline(
  db: Db,
  kind: string,
  subjectType: string,
  subjectId: string,
  now: Date,
): Promise<boolean> {
  const r = await db
    .updateTable('deadlines')
    .set({ status: 'cancelled', done_at: now })
    .where('kind', '=', kind)
    .where('subject_type', '=', subjectType)
    .where('subject_id', '=', subjectId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export function pendingDeadlines(db: Db, subjectType: string, subjectId: string): Promise<Deadline[]> {
  return db
    .selectFrom('deadlines')
    .selectAll()
    .where('subject_type', '=', subjectType)
    .where('subject_id', '=', subjectId)
    .where('status', '=', 'pending')
    .orderBy('due_at')
    .execute();
}

/**
 * The earliest pending deadline due at `now`, locked for the caller's transaction; rows another
 * scheduler holds are skipped (SKIP LOCKED), so several processes may tick at once.
 */
export function claimDueDeadline(tx: Db, now: Date): Promise<Deadline | undefined> {
  return tx
    .selectFrom('deadlines')
    .selectAll()
    .where('status', '=', 'pending')
    .where('due_at', '<=', now)
    .orderBy('due_at')
    .limit(1)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
}

/** A claimed deadline is done (before its handler runs: the handler may schedule the next one). */
export async function markDeadlineDone(tx: Db, id: string, now: Date, attempts: number): Promise<void> {
  await tx
    .updateTable('deadlines')
    .set({ status: 'done', done_at: now, attempts })
    .where('id', '=', id)
    .execute();
}

/** A claimed deadline's handler failed: pending again at `retryAt`, or failed for good (retryAt null). */
export async function markDeadlineFailed(
  tx: Db,
  id: string,
  f: { attempts: number; error: string; retryAt: Date | null },
): Promise<void> {
  await tx
    .updateTable('deadlines')
    .set({
      attempts: f.attempts,
      last_error: f.error.slice(0, 1000),
      status: f.retryAt ? 'pending' : 'failed',
      ...(f.retryAt ? { due_at: f.retryAt } : {}),
    })
    .where('id', '=', id)
    .execute();
}
