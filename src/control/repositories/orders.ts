// Orders. Client-reachable reads take a Scope and filter by account here.
import type { Insertable, Selectable, Updateable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { OrdersTable } from '../db/tables/commerce.ts';
import { byCreated, pageOf, type Page, type PageRequest } from './pagination.ts';
import type { Scope } from './scope.ts';

export type OrderRow = Selectable<OrdersTable>;

export function insertOrder(db: Db, o: Insertable<OrdersTable>): Promise<OrderRow> {
  return db.insertInto('orders').values(o).returningAll().executeTakeFirstOrThrow();
}

/** An order the caller may see (another account's is not found); `forUpdate` locks it in the caller's transaction. */
export async function getOrder(
  db: Db,
  scope: Scope,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<OrderRow> {
  let q = db.selectFrom('orders').selectAll().where('id', '=', id);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  if (opts.forUpdate) q = q.forUpdate();
  const o = await q.executeTakeFirst();
  if (!o) throw notFound('order.not_found', 'No such order');
  return o;
}

/** A page of the orders the scope sees, newest first. */
export function listOrders(
  db: Db,
  scope: Scope,
  filter: { accountId?: string; states?: readonly OrderRow['state'][] },
  page: PageRequest,
): Promise<Page<OrderRow>> {
  let q = db.selectFrom('orders').selectAll();
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  else if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.states?.length) q = q.where('state', 'in', filter.states);
  return pageOf(q, byCreated('desc'), page) as Promise<Page<OrderRow>>;
}

export async function updateOrder(db: Db, id: string, patch: Updateable<OrdersTable>): Promise<OrderRow> {
  return db.updateTable('orders').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Who placed an order (the user told about its contract); null when unknown. */
export async function orderedBy(db: Db, id: string): Promise<string | null> {
  const o = await db.selectFrom('orders').select('user_id').where('id', '=', id).executeTakeFirst();
  return o?.user_id ?? null;
}
