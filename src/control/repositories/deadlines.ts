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
