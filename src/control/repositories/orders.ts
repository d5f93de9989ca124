// Orders. Client-reachable reads take a Scope and filter by account here.
import type { Insertable, Selectable, SelectQueryBuilder, Updateable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import type { OrdersTable } from '../db/tables/commerce.ts';
import {
  byCreated,
  encodeCursor,
  pageFrom,
  pageQuery,
  pageSize,
  type Page,
  type PageRequest,
} from './pagination.ts';
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

/** What an order links to (R11.1, R11.2): its invoice and, once validated, its contract (and VPS). */
export interface OrderWithLinks {
  order: OrderRow;
  invoice: { id: string; number: string; total_cents: number } | null;
  contract: { id: string; vps_id: string } | null;
}

/** Each order of `orders` with its links: its one invoice and one contract (unique indexes), of its account. */
function withLinks(db: Db, orders: SelectQueryBuilder<Database, 'orders', OrderRow>) {
  return db
    .selectFrom(orders.as('o'))
    .leftJoin('invoices as i', (j) =>
      j.onRef('i.order_id', '=', 'o.id').onRef('i.account_id', '=', 'o.account_id'),
    )
    .leftJoin('contracts as c', (j) =>
      j.onRef('c.order_id', '=', 'o.id').onRef('c.account_id', '=', 'o.account_id'),
    )
    .selectAll('o')
    .select([
      'i.id as link_invoice_id',
      'i.number as link_invoice_number',
      'i.total_cents as link_invoice_total_cents',
      'c.id as link_contract_id',
      'c.vps_id as link_contract_vps_id',
    ]);
}

/** The orders the scope sees. */
function scoped(db: Db, scope: Scope) {
  let q = db.selectFrom('orders').selectAll();
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  return q;
}

type LinkedRow = OrderRow & {
  link_invoice_id: string | null;
  link_invoice_number: string | null;
  link_invoice_total_cents: number | null;
  link_contract_id: string | null;
  link_contract_vps_id: string | null;
};

function splitLinks(r: LinkedRow): OrderWithLinks {
  const {
    link_invoice_id,
    link_invoice_number,
    link_invoice_total_cents,
    link_contract_id,
    link_contract_vps_id,
    ...order
  } = r;
  return {
    order,
    invoice:
      link_invoice_id !== null && link_invoice_number !== null && link_invoice_total_cents !== null
        ? { id: link_invoice_id, number: link_invoice_number, total_cents: link_invoice_total_cents }
        : null,
    contract:
      link_contract_id !== null && link_contract_vps_id !== null
        ? { id: link_contract_id, vps_id: link_contract_vps_id }
        : null,
  };
}

/** An order the caller may see with its links (another account's is not found). */
export async function getOrderWithLinks(db: Db, scope: Scope, id: string): Promise<OrderWithLinks> {
  const r = await withLinks(db, scoped(db, scope).where('id', '=', id)).executeTakeFirst();
  if (!r) throw notFound('order.not_found', 'No such order');
  return splitLinks(r);
}

const NEWEST_FIRST = byCreated('orders', 'desc');

/**
 * A page of the orders the scope sees, newest first, each with its links, in one query: the
 * page is a subquery and only its rows are joined (joining first would join every order, then
 * sort them all, for 50 kept).
 */
export async function listOrdersWithLinks(
  db: Db,
  scope: Scope,
  filter: { accountId?: string; states?: readonly OrderRow['state'][] },
  page: PageRequest,
): Promise<Page<OrderWithLinks>> {
  let q = scoped(db, scope);
  if (scope.kind !== 'client' && filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.states?.length) q = q.where('state', 'in', filter.states);
  const rows = await withLinks(db, pageQuery(q, NEWEST_FIRST, page))
    .orderBy('o.created_at', 'desc')
    .orderBy('o.id', 'desc')
    .execute();
  const p = pageFrom(rows, pageSize(page), (last) =>
    encodeCursor(NEWEST_FIRST.list, NEWEST_FIRST.kinds, NEWEST_FIRST.of(last)),
  );
  return { items: p.items.map(splitLinks), nextCursor: p.nextCursor };
}

export async function updateOrder(db: Db, id: string, patch: Updateable<OrdersTable>): Promise<OrderRow> {
  return db.updateTable('orders').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Who placed an order (the user told about its contract); null when unknown. */
export async function orderedBy(db: Db, id: string): Promise<string | null> {
  const o = await db.selectFrom('orders').select('user_id').where('id', '=', id).executeTakeFirst();
  return o?.user_id ?? null;
}
