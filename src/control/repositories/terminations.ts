// Terminations and deletion records (R12.1–R12.4): every query of the terminations service and
// of the deletion workflow. Row types from db/tables.
import { sql, type Insertable, type Selectable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { DeletedItem, DeletionRecordsTable, TerminationsTable } from '../db/tables/terminations.ts';
import type { Scope } from './scope.ts';

export type TerminationRow = Selectable<TerminationsTable>;
export type DeletionRecordRow = Selectable<DeletionRecordsTable>;
export type NewTermination = Omit<
  Insertable<TerminationsTable>,
  | 'id'
  | 'cancelled_at'
  | 'cancelled_by'
  | 'cancel_reason'
  | 'deletion_step'
  | 'deletion_errors'
  | 'last_error'
  | 'done_at'
>;

/** Lists are bounded: staff pages show the first 1000. */
const LIST_LIMIT = 1000;

export function insertTermination(db: Db, t: NewTermination): Promise<TerminationRow> {
  return db.insertInto('terminations').values(t).returningAll().executeTakeFirstOrThrow();
}

export function findTermination(db: Db, id: string): Promise<TerminationRow | undefined> {
  return db.selectFrom('terminations').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A termination by id (not found: 404), locked until the transaction ends with `forUpdate`. */
export async function getTermination(
  db: Db,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<TerminationRow> {
  let q = db.selectFrom('terminations').selectAll().where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  const t = await q.executeTakeFirst();
  if (!t) throw notFound('termination.not_found', 'No such termination');
  return t;
}

/** The contract's termination in force (any state but cancelled: one per contract). */
export function activeTerminationOfContract(db: Db, contractId: string): Promise<TerminationRow | undefined> {
  return db
    .selectFrom('terminations')
    .selectAll()
    .where('contract_id', '=', contractId)
    .where('state', '!=', 'cancelled')
    .executeTakeFirst();
}

/** The termination in force of a VPS's contract; a client's scope sees only its account's. */
export function activeTerminationOfVps(
  db: Db,
  scope: Scope,
  vpsId: string,
): Promise<TerminationRow | undefined> {
  let q = db
    .selectFrom('terminations')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .where('state', '!=', 'cancelled');
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  return q.executeTakeFirst();
}

export function listTerminations(
  db: Db,
  filter: { states?: TerminationRow['state'][] } = {},
): Promise<TerminationRow[]> {
  let q = db.selectFrom('terminations').selectAll().orderBy('effective_at').orderBy('id');
  if (filter.states?.length) q = q.where('state', 'in', filter.states);
  return q.limit(LIST_LIMIT).execute();
}

export function cancelTermination(
  db: Db,
  id: string,
  c: { at: Date; by: string; reason: string },
): Promise<TerminationRow> {
  return db
    .updateTable('terminations')
    .set({ state: 'cancelled', cancelled_at: c.at, cancelled_by: c.by, cancel_reason: c.reason })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Scheduled → executing, in one statement; the id, or undefined when cancelled or executing already. */
export async function startExecuting(db: Db, id: string): Promise<string | undefined> {
  const r = await db
    .updateTable('terminations')
    .set({ state: 'executing' })
    .where('id', '=', id)
    .where('state', '=', 'scheduled')
    .returning('id')
    .executeTakeFirst();
  return r?.id;
}

/** The deletion's last completed step. */
export async function setDeletionStep(db: Db, id: string, step: string): Promise<void> {
  await db.updateTable('terminations').set({ deletion_step: step }).where('id', '=', id).execute();
}

/** Counts one more failed deletion step with its reason, in one statement; the new count. */
export async function countDeletionError(db: Db, id: string, reason: string): Promise<number> {
  const r = await db
    .updateTable('terminations')
    .set((eb) => ({ deletion_errors: eb('deletion_errors', '+', 1), last_error: reason.slice(0, 1000) }))
    .where('id', '=', id)
    .returning('deletion_errors')
    .executeTakeFirstOrThrow();
  return r.deletion_errors;
}

/** The deletion is over: the termination done (its last step `finish`) and its record completed. */
export async function completeTermination(db: Db, id: string, now: Date): Promise<void> {
  await db
    .updateTable('terminations')
    .set({ state: 'done', done_at: now, deletion_step: 'finish', last_error: null })
    .where('id', '=', id)
    .execute();
  await db
    .updateTable('deletion_records')
    .set({ completed_at: now })
    .where('termination_id', '=', id)
    .execute();
}

/** The termination's deletion record, created once (a resumed deletion keeps the first). */
export async function startDeletionRecord(
  db: Db,
  r: Pick<
    DeletionRecordRow,
    'termination_id' | 'contract_id' | 'vps_id' | 'hostname' | 'cause' | 'started_at'
  >,
): Promise<void> {
  await db
    .insertInto('deletion_records')
    .values({ ...r, deleted: JSON.stringify([]) })
    .onConflict((oc) => oc.column('termination_id').doNothing())
    .execute();
}

/** Appends deleted items to a deletion record. */
export async function appendDeleted(db: Db, terminationId: string, items: DeletedItem[]): Promise<void> {
  await db
    .updateTable('deletion_records')
    .set({ deleted: sql`deleted || ${JSON.stringify(items)}::jsonb` })
    .where('termination_id', '=', terminationId)
    .execute();
}

export function listDeletionRecords(
  db: Db,
  filter: { contractId?: string } = {},
): Promise<DeletionRecordRow[]> {
  let q = db.selectFrom('deletion_records').selectAll().orderBy('started_at', 'desc').orderBy('id');
  if (filter.contractId) q = q.where('contract_id', '=', filter.contractId);
  return q.limit(LIST_LIMIT).execute();
}
