// Tickets, their messages and attachments (R4.3). Client-reachable reads take a Scope: a ticket
// of another account is "not found" here, whatever the route forgot. The staff queue filters
// (unassigned, mine, waiting, breaching) and the full-text search (PostgreSQL `simple` text
// search over subjects and messages, GIN indexes) are queries of this file.
import { sql, type Insertable, type Selectable, type SqlBool, type Updateable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { TicketKind, TicketStatus } from '../../domain/tickets.ts';
import type { Db } from '../db/database.ts';
import type {
  CannedRepliesTable,
  TicketAttachmentsTable,
  TicketMessagesTable,
  TicketsTable,
} from '../db/tables/tickets.ts';
import { byCreated, pageOf, type Page, type PageRequest } from './pagination.ts';
import type { Scope } from './scope.ts';

export type TicketRow = Selectable<TicketsTable>;
export type TicketMessageRow = Selectable<TicketMessagesTable>;
export type TicketAttachmentRow = Selectable<TicketAttachmentsTable>;
export type CannedReplyRow = Selectable<CannedRepliesTable>;

const ticketNotFound = () => notFound('ticket.not_found', 'No such ticket');

export function insertTicket(db: Db, t: Insertable<TicketsTable>): Promise<TicketRow> {
  return db.insertInto('tickets').values(t).returningAll().executeTakeFirstOrThrow();
}

/** A ticket the scope may see; `forUpdate` locks its row (every write to a ticket takes it first). */
export async function getTicket(
  db: Db,
  scope: Scope,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<TicketRow> {
  let q = db.selectFrom('tickets').selectAll().where('id', '=', id);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  if (opts.forUpdate) q = q.forUpdate();
  const t = await q.executeTakeFirst();
  if (!t) throw ticketNotFound();
  return t;
}

export async function updateTicket(db: Db, id: string, patch: Updateable<TicketsTable>): Promise<TicketRow> {
  return db.updateTable('tickets').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** The client's tickets, newest first. */
export function listAccountTickets(
  db: Db,
  accountId: string,
  f: { status?: TicketStatus; vpsId?: string },
  page: PageRequest,
): Promise<Page<TicketRow>> {
  let q = db.selectFrom('tickets').selectAll().where('account_id', '=', accountId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.vpsId) q = q.where('vps_id', '=', f.vpsId);
  return pageOf(q, byCreated('tickets', 'desc'), page);
}

export type QueueFilter = 'unassigned' | 'mine' | 'waiting' | 'breaching' | 'open' | 'all';

export interface QueueQuery {
  filter: QueueFilter;
  userId: string;
  now: Date;
  status?: TicketStatus | undefined;
  kind?: TicketKind | undefined;
  accountId?: string | undefined;
  incidentId?: string | undefined;
  /** Full-text search over subjects and messages (internal notes included: staff only). */
  q?: string | undefined;
}

export type QueueRow = TicketRow & {
  account_name: string;
  hostname: string | null;
  assignee_email: string | null;
};

const LIVE: readonly TicketStatus[] = ['new', 'open', 'waiting_client', 'waiting_provider'];

/** The staff queue, newest first. */
export function staffQueue(db: Db, f: QueueQuery, page: PageRequest): Promise<Page<QueueRow>> {
  let q = db
    .selectFrom('tickets as t')
    .innerJoin('accounts as a', 'a.id', 't.account_id')
    .leftJoin('vps as v', 'v.id', 't.vps_id')
    .leftJoin('users as u', 'u.id', 't.assignee_id')
    .selectAll('t')
    .select(['a.name as account_name', 'v.hostname as hostname', 'u.email as assignee_email']);
  switch (f.filter) {
    case 'unassigned':
      q = q.where('t.assignee_id', 'is', null).where('t.status', 'in', LIVE);
      break;
    case 'mine':
      q = q.where('t.assignee_id', '=', f.userId).where('t.status', 'in', LIVE);
      break;
    case 'waiting':
      // Waiting for the provider: the client's turn is over (new tickets and client replies).
      q = q.where('t.status', 'in', ['new', 'waiting_provider']);
      break;
    case 'breaching':
      q = q.where((eb) =>
        eb.or([
          eb.and([eb('t.first_response_at', 'is', null), eb('t.first_response_due_at', '<', f.now)]),
          eb.and([eb('t.resolution_due_at', '<', f.now), eb('t.resolved_at', 'is', null)]),
        ]),
      );
      q = q.where('t.status', 'in', LIVE);
      break;
    case 'open':
      q = q.where('t.status', 'in', LIVE);
      break;
    case 'all':
      break;
  }
  if (f.status) q = q.where('t.status', '=', f.status);
  if (f.kind) q = q.where('t.kind', '=', f.kind);
  if (f.accountId) q = q.where('t.account_id', '=', f.accountId);
  if (f.incidentId) q = q.where('t.incident_id', '=', f.incidentId);
  if (f.q) {
    const tsq = sql`websearch_to_tsquery('simple', ${f.q})`;
    q = q.where(
      sql<SqlBool>`t.id IN (SELECT id FROM tickets WHERE search @@ ${tsq}
        UNION SELECT ticket_id FROM ticket_messages WHERE search @@ ${tsq})`,
    );
  }
  return pageOf(q, byCreated('ticket-queue', 'desc', 't'), page) as Promise<Page<QueueRow>>;
}

export function insertMessage(db: Db, m: Insertable<TicketMessagesTable>): Promise<TicketMessageRow> {
  return db.insertInto('ticket_messages').values(m).returningAll().executeTakeFirstOrThrow();
}

/** An inbound mail already stored on this ticket (the sender's server handed it over twice). */
export async function hasMailMessage(db: Db, ticketId: string, mailMessageId: string): Promise<boolean> {
  const r = await db
    .selectFrom('ticket_messages')
    .select('id')
    .where('ticket_id', '=', ticketId)
    .where('mail_message_id', '=', mailMessageId)
    .executeTakeFirst();
  return Boolean(r);
}

/** A ticket's messages, oldest first; internal notes only when asked (staff). */
export function listMessages(
  db: Db,
  ticketId: string,
  opts: { internal: boolean },
): Promise<TicketMessageRow[]> {
  let q = db.selectFrom('ticket_messages').selectAll().where('ticket_id', '=', ticketId);
  if (!opts.internal) q = q.where('internal', '=', false);
  return q.orderBy('created_at').orderBy('id').limit(1000).execute();
}

/** Who wrote what: staff emails and names by id (staff views only). */
export async function userLabels(
  db: Db,
  ids: readonly string[],
): Promise<Map<string, { email: string; name: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'email', 'name'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, { email: r.email, name: r.name }]));
}

export function insertAttachment(
  db: Db,
  a: Insertable<TicketAttachmentsTable>,
): Promise<TicketAttachmentRow> {
  return db.insertInto('ticket_attachments').values(a).returningAll().executeTakeFirstOrThrow();
}

export function listAttachments(db: Db, ticketId: string): Promise<TicketAttachmentRow[]> {
  return db
    .selectFrom('ticket_attachments')
    .selectAll()
    .where('ticket_id', '=', ticketId)
    .orderBy('created_at')
    .limit(200)
    .execute();
}

export async function countAttachments(db: Db, ticketId: string): Promise<number> {
  const r = await db
    .selectFrom('ticket_attachments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('ticket_id', '=', ticketId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function getAttachment(db: Db, ticketId: string, id: string): Promise<TicketAttachmentRow> {
  const a = await db
    .selectFrom('ticket_attachments')
    .selectAll()
    .where('ticket_id', '=', ticketId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!a) throw notFound('ticket.attachment_not_found', 'No such attachment');
  return a;
}

/** Tickets waiting for the client, or resolved, with no change since `before` (auto-close). */
export function staleTicketIds(db: Db, before: Date, limit: number): Promise<{ id: string }[]> {
  return db
    .selectFrom('tickets')
    .select('id')
    .where('status', 'in', ['waiting_client', 'resolved'])
    .where('status_changed_at', '<=', before)
    .orderBy('status_changed_at')
    .limit(limit)
    .execute();
}

/** Tickets linked to an external record (a host incident, R4.1). */
export function ticketsOfIncident(db: Db, incidentId: string): Promise<TicketRow[]> {
  return db
    .selectFrom('tickets')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .orderBy('created_at')
    .execute();
}

/** The active client user of an account with this address (inbound mail: who is writing). */
export function clientUserByEmail(
  db: Db,
  accountId: string,
  email: string,
): Promise<{ id: string; email: string; name: string; language: 'fr' | 'en' } | undefined> {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'language'])
    .where('account_id', '=', accountId)
    .where('kind', '=', 'client')
    .where('disabled_at', 'is', null)
    .where(sql<SqlBool>`lower(email) = lower(${email})`)
    .executeTakeFirst();
}

/** An active staff user by id (assignment target). */
export function activeStaff(db: Db, id: string): Promise<{ id: string; email: string } | undefined> {
  return db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('id', '=', id)
    .where('kind', '=', 'staff')
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
}

export function listCannedReplies(db: Db, page: PageRequest): Promise<Page<CannedReplyRow>> {
  return pageOf(db.selectFrom('canned_replies').selectAll(), byCreated('canned-replies', 'desc'), page);
}

export function insertCannedReply(db: Db, c: Insertable<CannedRepliesTable>): Promise<CannedReplyRow> {
  return db.insertInto('canned_replies').values(c).returningAll().executeTakeFirstOrThrow();
}
