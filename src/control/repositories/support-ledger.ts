// The R3.10 ledger: time entries per staff reply or action, the included minutes used per
// contract and billing month, and quotes for work beyond them. Sums are read under the
// contract's advisory lock (services/support-ledger.ts), so two replies at once cannot both
// take the last included minutes.
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { TicketQuotesTable, TicketTimeEntriesTable } from '../db/tables/tickets.ts';
import { byCreated, pageOf, type Page, type PageRequest } from './pagination.ts';

export type TimeEntryRow = Selectable<TicketTimeEntriesTable>;
export type QuoteRow = Selectable<TicketQuotesTable>;

export function insertTimeEntry(db: Db, e: Insertable<TicketTimeEntriesTable>): Promise<TimeEntryRow> {
  return db.insertInto('ticket_time_entries').values(e).returningAll().executeTakeFirstOrThrow();
}

export async function getTimeEntry(db: Db, ticketId: string, id: string, opts: { forUpdate?: boolean } = {}) {
  let q = db
    .selectFrom('ticket_time_entries')
    .selectAll()
    .where('ticket_id', '=', ticketId)
    .where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  const e = await q.executeTakeFirst();
  if (!e) throw notFound('ticket.time_entry_not_found', 'No such time entry');
  return e;
}

export function updateTimeEntry(db: Db, id: string, patch: Updateable<TicketTimeEntriesTable>) {
  return db
    .updateTable('ticket_time_entries')
    .set(patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function timeEntriesOfTicket(db: Db, ticketId: string): Promise<TimeEntryRow[]> {
  return db
    .selectFrom('ticket_time_entries')
    .selectAll()
    .where('ticket_id', '=', ticketId)
    .orderBy('created_at')
    .orderBy('id')
    .limit(1000)
    .execute();
}

/** Included minutes a contract used in the billing month starting at `monthStart`. */
export async function includedMinutesUsed(db: Db, contractId: string, monthStart: Date): Promise<number> {
  const r = await db
    .selectFrom('ticket_time_entries')
    .select(sql<string>`coalesce(sum(included_minutes), 0)`.as('n'))
    .where('contract_id', '=', contractId)
    .where('month_start', '=', monthStart)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Minutes of the ticket's accepted quotes not yet spent, per quote, oldest first. */
export async function quotedMinutesLeft(
  db: Db,
  ticketId: string,
): Promise<{ quoteId: string; left: number }[]> {
  const rows = await db
    .selectFrom('ticket_quotes as q')
    .leftJoin('ticket_time_entries as e', 'e.quote_id', 'q.id')
    .select(['q.id', 'q.minutes', sql<string>`coalesce(sum(e.quoted_minutes), 0)`.as('spent')])
    .where('q.ticket_id', '=', ticketId)
    .where('q.status', '=', 'accepted')
    .groupBy(['q.id', 'q.minutes', 'q.proposed_at'])
    .orderBy('q.proposed_at')
    .execute();
  return rows.map((r) => ({ quoteId: r.id, left: r.minutes - Number(r.spent) })).filter((r) => r.left > 0);
}

/** An account's time entries, newest first, with the ticket they belong to (staff ledger history). */
export function accountLedger(
  db: Db,
  accountId: string,
  page: PageRequest,
): Promise<Page<TimeEntryRow & { ticket_number: string; ticket_subject: string; author_email: string }>> {
  const q = db
    .selectFrom('ticket_time_entries as e')
    .innerJoin('tickets as t', 't.id', 'e.ticket_id')
    .innerJoin('users as u', 'u.id', 'e.author_id')
    .selectAll('e')
    .select(['t.number as ticket_number', 't.subject as ticket_subject', 'u.email as author_email'])
    .where('e.account_id', '=', accountId);
  return pageOf(q, byCreated('support-ledger', 'desc', 'e'), page);
}

export function insertQuote(db: Db, q: Insertable<TicketQuotesTable>): Promise<QuoteRow> {
  return db.insertInto('ticket_quotes').values(q).returningAll().executeTakeFirstOrThrow();
}

export async function getQuote(db: Db, ticketId: string, id: string, opts: { forUpdate?: boolean } = {}) {
  let q = db.selectFrom('ticket_quotes').selectAll().where('ticket_id', '=', ticketId).where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  if (!r) throw notFound('ticket.quote_not_found', 'No such quote');
  return r;
}

export function updateQuote(db: Db, id: string, patch: Updateable<TicketQuotesTable>) {
  return db
    .updateTable('ticket_quotes')
    .set(patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function quotesOfTicket(db: Db, ticketId: string): Promise<QuoteRow[]> {
  return db
    .selectFrom('ticket_quotes')
    .selectAll()
    .where('ticket_id', '=', ticketId)
    .orderBy('proposed_at')
    .limit(100)
    .execute();
}
