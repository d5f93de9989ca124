// What each side reads of a ticket (R4.3, R3.10). The client sees its messages without the
// internal notes, the provider as a role ("provider", never a staff member's name), the minutes
// recorded and the month's balance; staff see everything, with who wrote and who spent what.
import type { PageRequest } from '../repositories/pagination.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import {
  getTicket,
  listAccountTickets,
  listAttachments,
  listMessages,
  userLabels,
  type TicketAttachmentRow,
  type TicketMessageRow,
  type TicketRow,
} from '../repositories/tickets.ts';
import type { TicketStatus } from '../../domain/tickets.ts';
import { notFound } from '../../domain/errors.ts';
import type { ServiceContext } from './context.ts';
import { quoteView, timeEntryView, type SupportLedger } from './support-ledger.ts';

export function ticketSummary(t: TicketRow) {
  return {
    id: t.id,
    number: Number(t.number),
    accountId: t.account_id,
    vpsId: t.vps_id,
    kind: t.kind,
    priority: t.priority,
    status: t.status,
    subject: t.subject,
    source: t.source,
    openedBy: t.opened_by_kind,
    providerCaused: t.provider_caused,
    incidentId: t.incident_id,
    createdAt: t.created_at.toISOString(),
    updatedAt: t.updated_at.toISOString(),
    firstResponseDueAt: t.first_response_due_at.toISOString(),
    resolutionDueAt: t.resolution_due_at.toISOString(),
    firstResponseAt: t.first_response_at?.toISOString() ?? null,
    resolvedAt: t.resolved_at?.toISOString() ?? null,
    closedAt: t.closed_at?.toISOString() ?? null,
  };
}

export function createTicketViews(ctx: ServiceContext, ledger: SupportLedger) {
  const db = ctx.db;

  const attachmentView = (a: TicketAttachmentRow) => ({
    id: a.id,
    fileName: a.file_name,
    contentType: a.content_type,
    size: a.size,
    uploadedBy: a.uploaded_by_kind,
    createdAt: a.created_at.toISOString(),
  });

  const messageView = (m: TicketMessageRow) => ({
    id: m.id,
    author: m.author_kind === 'staff' ? 'provider' : m.author_kind,
    internal: m.internal,
    body: m.body,
    via: m.via,
    createdAt: m.created_at.toISOString(),
  });

  return {
    attachmentView,

    async client(scope: Scope, id: string) {
      if (scope.kind !== 'client') throw notFound('ticket.not_found', 'No such ticket');
      const t = await getTicket(db, scope, id);
      const [messages, attachments, entries, quotes, balance] = await Promise.all([
        listMessages(db, t.id, { internal: false }),
        listAttachments(db, t.id),
        ledger.entries(db, t.id),
        ledger.quotes(db, t.id),
        ledger.maybeBalance(db, t),
      ]);
      return {
        ...ticketSummary(t),
        messages: messages.map(messageView),
        attachments: attachments.map(attachmentView),
        timeEntries: entries.map(timeEntryView),
        quotes: quotes.map(quoteView),
        balance,
      };
    },

    async staff(id: string) {
      const t = await getTicket(db, SYSTEM_SCOPE, id);
      const [messages, attachments, entries, quotes, balance] = await Promise.all([
        listMessages(db, t.id, { internal: true }),
        listAttachments(db, t.id),
        ledger.entries(db, t.id),
        ledger.quotes(db, t.id),
        ledger.maybeBalance(db, t),
      ]);
      const labels = await userLabels(db, [
        ...new Set(
          [...messages.map((m) => m.author_id), ...entries.map((e) => e.author_id), t.assignee_id].filter(
            (x): x is string => Boolean(x),
          ),
        ),
      ]);
      const label = (id: string | null) => (id ? (labels.get(id)?.email ?? null) : null);
      return {
        ...ticketSummary(t),
        assigneeId: t.assignee_id,
        assignee: label(t.assignee_id),
        messages: messages.map((m) => ({
          ...messageView(m),
          author: m.author_kind,
          authorEmail: label(m.author_id),
        })),
        attachments: attachments.map(attachmentView),
        timeEntries: entries.map((e) => ({
          ...timeEntryView(e),
          authorId: e.author_id,
          author: label(e.author_id),
        })),
        quotes: quotes.map(quoteView),
        balance,
      };
    },

    async clientList(scope: Scope, f: { status?: TicketStatus; vpsId?: string }, page: PageRequest) {
      if (scope.kind !== 'client') throw notFound('ticket.not_found', 'No such ticket');
      const p = await listAccountTickets(db, scope.accountId, f, page);
      return { items: p.items.map(ticketSummary), nextCursor: p.nextCursor };
    },
  };
}
