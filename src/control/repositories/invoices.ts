// Invoices: gap-free numbering and reads. Client-reachable reads take a Scope.
//
// The next number comes from the `invoice_counters` row of the year, incremented with an
// upsert that locks that row until the issuing transaction ends: concurrent issuers queue on
// it, and a rolled-back issue also rolls back its increment, so committed numbers are 1..N
// with no gap (a database sequence would leave one for every rollback).
import type { Insertable, Selectable } from 'kysely';
import { sql } from 'kysely';
import { conflict, notFound } from '../../domain/errors.ts';
import { formatInvoiceNumber } from '../../domain/invoices.ts';
import type { Db } from '../db/database.ts';
import type { InvoiceLinesTable, InvoicesTable } from '../db/tables/commerce.ts';
import { pageOf, type Keyset, type Page, type PageRequest } from './pagination.ts';
import type { Scope } from './scope.ts';

export type InvoiceRow = Selectable<InvoicesTable>;
export type InvoiceLineRow = Selectable<InvoiceLinesTable>;
export type InvoiceWithLines = InvoiceRow & { lines: InvoiceLineRow[] };

/** Takes the next number of a year's series; `db` must be the issuing transaction. */
export async function nextInvoiceNumber(
  db: Db,
  year: number,
): Promise<{ year: number; seq: number; number: string }> {
  if (!db.isTransaction) throw new Error('invoice numbers are taken inside the issuing transaction');
  const r = await sql<{ last_seq: number }>`
    INSERT INTO invoice_counters (year, last_seq) VALUES (${year}, 1)
    ON CONFLICT (year) DO UPDATE SET last_seq = invoice_counters.last_seq + 1
    RETURNING last_seq`.execute(db);
  const seq = r.rows[0]!.last_seq;
  return { year, seq, number: formatInvoiceNumber(year, seq) };
}

export async function insertInvoice(
  db: Db,
  inv: Omit<Insertable<InvoicesTable>, 'number' | 'year' | 'seq'>,
  lines: readonly Omit<InvoiceLinesTable, 'invoice_id' | 'position'>[],
  year: number,
): Promise<InvoiceWithLines> {
  const n = await nextInvoiceNumber(db, year);
  const row = await db
    .insertInto('invoices')
    .values({ ...inv, number: n.number, year: n.year, seq: n.seq })
    .returningAll()
    .executeTakeFirstOrThrow();
  const inserted = lines.length
    ? await db
        .insertInto('invoice_lines')
        .values(lines.map((l, i) => ({ ...l, invoice_id: row.id, position: i + 1 })))
        .returningAll()
        .execute()
    : [];
  return { ...row, lines: inserted };
}

export async function getInvoice(
  db: Db,
  scope: Scope,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<InvoiceRow> {
  let q = db.selectFrom('invoices').selectAll().where('id', '=', id);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  if (opts.forUpdate) q = q.forUpdate();
  const i = await q.executeTakeFirst();
  if (!i) throw notFound('invoice.not_found', 'No such invoice');
  return i;
}

/**
 * Locks an invoice without waiting. For a transaction already holding another invoice's row
 * (a payment's listener), so two payments of one contract never wait on each other: the one
 * that finds the row busy is refused (409 `invoice.busy`, nothing written) and is retried.
 */
export async function lockInvoiceNoWait(db: Db, id: string): Promise<InvoiceRow> {
  try {
    const i = await db
      .selectFrom('invoices')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .noWait()
      .executeTakeFirst();
    if (!i) throw notFound('invoice.not_found', 'No such invoice');
    return i;
  } catch (e) {
    if ((e as { code?: string }).code === '55P03') throw invoiceBusy();
    throw e;
  }
}

/** A payment of a contract's invoice met another being recorded: nothing was written, try again. */
export const invoiceBusy = () =>
  conflict(
    'invoice.busy',
    'Another payment of this contract is being recorded at this moment: nothing was recorded, try again',
  );

export async function getInvoiceByNumber(
  db: Db,
  scope: Scope,
  number: string,
  opts: { forUpdate?: boolean } = {},
): Promise<InvoiceRow> {
  let q = db.selectFrom('invoices').selectAll().where('number', '=', number);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  if (opts.forUpdate) q = q.forUpdate();
  const i = await q.executeTakeFirst();
  if (!i) throw notFound('invoice.not_found', 'No such invoice');
  return i;
}

export async function getInvoiceWithLines(db: Db, scope: Scope, id: string): Promise<InvoiceWithLines> {
  const inv = await getInvoice(db, scope, id);
  const lines = await db
    .selectFrom('invoice_lines')
    .selectAll()
    .where('invoice_id', '=', id)
    .orderBy('position')
    .execute();
  return { ...inv, lines };
}

/** The first invoice of an order (scope-checked through the invoice's account). */
export async function invoiceOfOrder(
  db: Db,
  scope: Scope,
  orderId: string,
  opts: { forUpdate?: boolean } = {},
): Promise<InvoiceRow> {
  let q = db.selectFrom('invoices').selectAll().where('order_id', '=', orderId);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  if (opts.forUpdate) q = q.forUpdate();
  const i = await q.executeTakeFirst();
  if (!i) throw notFound('invoice.not_found', 'No invoice for this order');
  return i;
}

/** A page of the invoices the scope sees, by number, newest first. */
export function listInvoices(
  db: Db,
  scope: Scope,
  filter: { accountId?: string; status?: InvoiceRow['status'] },
  page: PageRequest,
): Promise<Page<InvoiceRow>> {
  let q = db.selectFrom('invoices').selectAll();
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  else if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.status) q = q.where('status', '=', filter.status);
  return pageOf(q, BY_NUMBER, page);
}

const BY_NUMBER: Keyset<{ year: number; seq: number }> = {
  list: 'invoices',
  columns: ['year', 'seq'],
  kinds: ['int', 'int'],
  direction: 'desc',
  of: (r) => [r.year, r.seq],
};

export async function setInvoiceStatus(
  db: Db,
  id: string,
  patch: { status: 'paid'; paid_at: Date } | { status: 'void'; voided_at: Date; void_reason: string },
): Promise<InvoiceRow> {
  return db.updateTable('invoices').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}
