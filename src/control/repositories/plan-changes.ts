// Plan changes (R3.12): the change rows, read and written in the caller's transaction.
import type { Insertable, Selectable, Updateable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { PlanChangesTable } from '../db/tables/plan-changes.ts';

export type PlanChangeRow = Selectable<PlanChangesTable>;

export async function getPlanChange(
  db: Db,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<PlanChangeRow> {
  let q = db.selectFrom('plan_changes').selectAll().where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  const c = await q.executeTakeFirst();
  if (!c) throw notFound('plan_change.not_found', 'No such plan change');
  return c;
}

/** The VPS's change waiting for payment or paid and not applied, if any. */
export function pendingChangeOfVps(db: Db, vpsId: string) {
  return db
    .selectFrom('plan_changes')
    .select('id')
    .where('vps_id', '=', vpsId)
    .where('state', 'in', ['awaiting_payment', 'paid'])
    .executeTakeFirst();
}

/** The change waiting for payment, of a VPS or of a contract. */
export function awaitingChange(db: Db, by: { vpsId: string } | { contractId: string }) {
  let q = db.selectFrom('plan_changes').selectAll().where('state', '=', 'awaiting_payment');
  q = 'vpsId' in by ? q.where('vps_id', '=', by.vpsId) : q.where('contract_id', '=', by.contractId);
  return q.executeTakeFirst();
}

/** The change an invoice bills, locked. */
export function changeOfInvoiceForUpdate(tx: Db, invoiceId: string) {
  return tx
    .selectFrom('plan_changes')
    .selectAll()
    .where('invoice_id', '=', invoiceId)
    .forUpdate()
    .executeTakeFirst();
}

export function insertPlanChange(tx: Db, c: Insertable<PlanChangesTable>): Promise<PlanChangeRow> {
  return tx.insertInto('plan_changes').values(c).returningAll().executeTakeFirstOrThrow();
}

export function updatePlanChange(
  db: Db,
  id: string,
  patch: Updateable<PlanChangesTable>,
): Promise<PlanChangeRow> {
  return db
    .updateTable('plan_changes')
    .set(patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A VPS's changes, newest first. */
export function listChangesOfVps(db: Db, vpsId: string, limit = 100): Promise<PlanChangeRow[]> {
  return db
    .selectFrom('plan_changes')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .orderBy('ordered_at', 'desc')
    .limit(limit)
    .execute();
}

/** Staff: changes (pending only unless `all`), soonest deadline first, with hostname and account name. */
export function listChangesForStaff(db: Db, opts: { all?: boolean } = {}, limit = 500) {
  let q = db
    .selectFrom('plan_changes as c')
    .innerJoin('vps as v', 'v.id', 'c.vps_id')
    .innerJoin('accounts as a', 'a.id', 'c.account_id')
    .selectAll('c')
    .select(['v.hostname as hostname', 'a.name as account_name'])
    .orderBy('c.due_at', 'asc')
    .orderBy('c.ordered_at', 'desc')
    .limit(limit);
  if (!opts.all) q = q.where('c.state', 'in', ['awaiting_payment', 'paid']);
  return q.execute();
}
