// The support desk (R4.3, R3.10; R3.8's and R4.1's tickets): tickets opened by a client (panel,
// API, mail), by staff for a client, or by the platform (`openForPlatform`: supervision, host
// incidents, planned works — linked to their record by `incidentId`); messages (internal notes
// staff-only), attachments (uploads store: type by content, size capped), status by the domain's
// machine (domain/tickets.ts), assignment, first-response and resolution timers, auto-close after
// INFOGERE_TICKET_AUTO_CLOSE_DAYS without answer. Every write locks the ticket row first; the
// minutes of staff work go through the R3.10 ledger (services/support-ledger.ts) in the same
// transaction, and every message the client should read is mailed through the outbox in it
// (services/ticket-mail.ts: FR/EN, threaded, signed reply address).
import type { Readable } from 'node:stream';
import { conflict, invalidData, notFound } from '../../domain/errors.ts';
import {
  defaultPriority,
  minutesRequired,
  responseDeadlines,
  staffSetStatus,
  statusAfterMessage,
  type TicketKind,
  type TicketParty,
  type TicketPriority,
  type TicketSource,
  type TicketStatus,
} from '../../domain/tickets.ts';
import type { Db } from '../db/database.ts';
import { contractOfVps } from '../repositories/contracts.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import {
  activeStaff,
  countAttachments,
  getAttachment,
  getTicket,
  insertAttachment,
  insertCannedReply,
  insertMessage,
  listCannedReplies,
  insertTicket,
  staleTicketIds,
  staffQueue,
  ticketsOfIncident,
  updateTicket,
  type CannedReplyRow,
  type QueueFilter,
  type TicketRow,
} from '../repositories/tickets.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { getAccount } from '../repositories/users.ts';
import { getVps } from '../repositories/vps.ts';
import { createUploadsStore } from '../storage/uploads.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';
import type { MailService } from './mail.ts';
import { createSupportLedger } from './support-ledger.ts';
import { createTicketMail } from './ticket-mail.ts';
import { createTicketViews, ticketSummary } from './ticket-views.ts';

/** Attachments: at most this size each, and this many per ticket (R4.3 "size capped"). */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const MAX_ATTACHMENTS_PER_TICKET = 20;

export interface OpenTicketInput {
  kind: TicketKind;
  subject: string;
  body: string;
  vpsId?: string | undefined;
  priority?: TicketPriority | undefined;
}

/** What the platform (supervision R3.8, incidents R4.1, works R4.2) opens a ticket with. */
export interface PlatformTicketInput extends OpenTicketInput {
  accountId: string;
  source: Extract<TicketSource, 'supervision' | 'incident' | 'works'>;
  /** The external record it belongs to (a host incident's id). */
  incidentId?: string | undefined;
  /** Caused by the provider: its time never consumes the client's included minutes (R3.10). Default true. */
  providerCaused?: boolean;
}

export interface StaffMessageInput {
  body: string;
  internal?: boolean | undefined;
  /** R3.10: mandatory on an admin request (1 to 480). */
  minutes?: number | undefined;
  /** The status after the reply (default: waiting for the client; a note leaves it). */
  status?: TicketStatus | undefined;
}

const clean = (s: string, field: string, max: number) => {
  const v = s.trim();
  if (!v) throw invalidData(`validation.${field}`, `The ${field} is empty`, { field });
  if (v.length > max)
    throw invalidData(`validation.${field}`, `The ${field} is too long (at most ${max})`, { field });
  return v;
};

export function createTicketsService(ctx: ServiceContext, audit: AuditService, deps: { mail: MailService }) {
  const db = ctx.db;
  const now = () => ctx.clock.now();
  const uploads = createUploadsStore(ctx.config.dataDir);
  const ledger = createSupportLedger(ctx, audit, deps);
  const mails = createTicketMail(ctx, deps.mail);
  const views = createTicketViews(ctx, ledger);

  /** Inserts a ticket and its first message in `tx`, and mails the client. */
  async function open(
    tx: Db,
    p: OpenTicketInput & {
      accountId: string;
      source: TicketSource;
      openedBy: { kind: TicketParty; userId: string | null };
      via: 'panel' | 'api' | 'email' | 'platform';
      providerCaused?: boolean;
      incidentId?: string | null;
      mailMessageId?: string | null;
    },
  ): Promise<TicketRow> {
    const subject = clean(p.subject, 'subject', 200);
    const body = clean(p.body, 'body', 100_000);
    await getAccount(tx, SYSTEM_SCOPE, p.accountId);
    let contractId: string | null = null;
    if (p.vpsId) {
      // A VPS of another account is "not found" (tenancy), whoever asks.
      const vps = await getVps(tx, SYSTEM_SCOPE, p.vpsId);
      if (vps.account_id !== p.accountId) throw notFound('vps.not_found', 'No such VPS');
      contractId = (await contractOfVps(tx, SYSTEM_SCOPE, vps.id).catch(() => undefined))?.id ?? null;
    } else if (p.kind === 'admin_request')
      // R3.10: the included time belongs to a VPS's contract: an admin request names its VPS.
      throw invalidData('ticket.vps_required', 'An admin request names the VPS it is about', {
        field: 'vpsId',
      });
    const at = now();
    const priority = p.priority ?? defaultPriority(p.kind);
    const due = responseDeadlines(priority, at);
    const ticket = await insertTicket(tx, {
      account_id: p.accountId,
      vps_id: p.vpsId ?? null,
      contract_id: contractId,
      kind: p.kind,
      priority,
      status: 'new',
      subject,
      source: p.source,
      opened_by_kind: p.openedBy.kind,
      opened_by: p.openedBy.userId,
      provider_caused: p.providerCaused ?? false,
      incident_id: p.incidentId ?? null,
      created_at: at,
      updated_at: at,
      status_changed_at: at,
      first_response_due_at: due.firstResponseDue,
      resolution_due_at: due.resolutionDue,
    });
    await insertMessage(tx, {
      ticket_id: ticket.id,
      author_kind: p.openedBy.kind,
      author_id: p.openedBy.userId,
      body,
      via: p.via,
      mail_message_id: p.mailMessageId ?? null,
      created_at: at,
    });
    const threadId = await mails.opened(tx, ticket, body);
    return updateTicket(tx, ticket.id, { thread_message_id: threadId });
  }

  const service = {
    ledger,
    /** Ticket mails: reply addresses (signed), their check, refusals (services/ticket-mail.ts). */
    mail: mails,
    replyAddress: mails.replyAddress,

    /** A client opens a ticket (panel or API). */
    async openByClient(actor: AuditActor, scope: Scope, p: OpenTicketInput & { via?: 'panel' | 'api' }) {
      if (scope.kind !== 'client') throw conflict('ticket.client_only', 'Staff open tickets for a client');
      const t = await inTransaction(db, (tx) =>
        open(tx, {
          ...p,
          accountId: scope.accountId,
          source: p.via ?? 'panel',
          via: p.via ?? 'panel',
          openedBy: { kind: 'client', userId: scope.userId },
        }),
      );
      await audit.record(
        actor,
        'ticket.open',
        { type: 'ticket', id: t.id },
        { kind: t.kind, number: t.number },
      );
      return views.client(scope, t.id);
    },

    /** Staff open a ticket for a client (and may record the minutes already spent, R3.10). */
    async openForClient(
      actor: AuditActor,
      p: OpenTicketInput & { accountId: string; minutes?: number | undefined },
    ) {
      const t = await inTransaction(db, async (tx) => {
        const t = await open(tx, {
          ...p,
          source: 'staff',
          via: 'panel',
          openedBy: { kind: 'staff', userId: actor.userId },
        });
        if (p.minutes !== undefined)
          await ledger.record(tx, t, { authorId: actor.userId!, action: 'open', minutes: p.minutes });
        return t;
      });
      await audit.record(
        actor,
        'ticket.open_for_client',
        { type: 'ticket', id: t.id },
        { accountId: p.accountId },
      );
      return views.staff(t.id);
    },

    /**
     * The platform opens a ticket for a client (R3.8 supervision, R4.1 host incidents, R4.2 works),
     * in the caller's transaction when `tx` is one. Provider-caused by default: its work never
     * consumes the client's included minutes (R3.10). Returns the ticket row.
     */
    openForPlatform(tx: Db, p: PlatformTicketInput): Promise<TicketRow> {
      return inTransaction(tx, (t) =>
        open(t, {
          ...p,
          via: 'platform',
          openedBy: { kind: 'platform', userId: null },
          providerCaused: p.providerCaused ?? true,
          incidentId: p.incidentId ?? null,
        }),
      );
    },

    /**
     * The platform adds a message to a ticket it opened (an incident's update or resolution),
     * mailed to the client; optionally resolves it.
     */
    async postPlatformMessage(tx: Db, ticketId: string, body: string, opts: { resolve?: boolean } = {}) {
      return inTransaction(tx, async (t) => {
        const ticket = await getTicket(t, SYSTEM_SCOPE, ticketId, { forUpdate: true });
        const text = clean(body, 'body', 100_000);
        statusAfterMessage(ticket.status, 'platform');
        const m = await insertMessage(t, {
          ticket_id: ticket.id,
          author_kind: 'platform',
          author_id: null,
          body: text,
          via: 'platform',
          created_at: now(),
        });
        const status =
          opts.resolve && ticket.status !== 'resolved'
            ? staffSetStatus(ticket.status, 'resolved')
            : ticket.status;
        const updated = await updateTicket(t, ticket.id, statusPatch(ticket, status, now()));
        await mails.reply(t, updated, text, null);
        return m;
      });
    },

    /** The tickets linked to an external record (a host incident, R4.1). */
    ofIncident: (incidentId: string) =>
      ticketsOfIncident(db, incidentId).then((r) => r.map((t) => ticketSummary(t))),

    /** A client (or, by mail, one of the account's users) writes on its ticket; reopens it by reply. */
    async clientReply(
      actor: AuditActor,
      scope: Scope,
      ticketId: string,
      p: { body: string; via?: 'panel' | 'api' | 'email'; mailMessageId?: string | null },
    ) {
      if (scope.kind !== 'client')
        throw conflict('ticket.client_only', 'Staff reply through the staff routes');
      const body = clean(p.body, 'body', 100_000);
      const m = await inTransaction(db, async (tx) => {
        const ticket = await getTicket(tx, scope, ticketId, { forUpdate: true });
        const status = statusAfterMessage(ticket.status, 'client');
        const at = now();
        const m = await insertMessage(tx, {
          ticket_id: ticket.id,
          author_kind: 'client',
          author_id: scope.userId,
          body,
          via: p.via ?? 'panel',
          mail_message_id: p.mailMessageId ?? null,
          created_at: at,
        });
        const updated = await updateTicket(tx, ticket.id, statusPatch(ticket, status, at));
        await mails.clientReplied(tx, updated, body);
        return m;
      });
      await audit.record(
        actor,
        'ticket.reply',
        { type: 'ticket', id: ticketId },
        { messageId: m.id, via: p.via ?? 'panel' },
      );
      return m;
    },

    /** Staff reply (mailed to the client) or write an internal note (never shown, never mailed). */
    async staffMessage(actor: AuditActor, ticketId: string, p: StaffMessageInput) {
      const body = clean(p.body, 'body', 100_000);
      const r = await inTransaction(db, async (tx) => {
        const ticket = await getTicket(tx, SYSTEM_SCOPE, ticketId, { forUpdate: true });
        if (minutesRequired(ticket.kind) && p.minutes === undefined)
          throw invalidData(
            'ticket.minutes_required',
            'Record the minutes this took: every staff reply or action on an admin request counts (R3.10)',
            { field: 'minutes' },
          );
        const status = statusAfterMessage(ticket.status, 'staff', {
          internal: p.internal ?? false,
          ...(p.status ? { staffStatus: p.status } : {}),
        });
        const at = now();
        const m = await insertMessage(tx, {
          ticket_id: ticket.id,
          author_kind: 'staff',
          author_id: actor.userId,
          internal: p.internal ?? false,
          body,
          via: 'panel',
          created_at: at,
        });
        const entry =
          p.minutes !== undefined
            ? await ledger.record(tx, ticket, {
                authorId: actor.userId!,
                action: p.internal ? 'note' : 'reply',
                minutes: p.minutes,
                messageId: m.id,
              })
            : null;
        const updated = await updateTicket(tx, ticket.id, {
          ...statusPatch(ticket, status, at),
          ...(!p.internal && !ticket.first_response_at ? { first_response_at: at } : {}),
        });
        if (!p.internal) await mails.reply(tx, updated, body, await ledger.maybeBalance(tx, updated));
        return { m, entry };
      });
      await audit.record(
        actor,
        p.internal ? 'ticket.note' : 'ticket.staff_reply',
        { type: 'ticket', id: ticketId },
        {
          messageId: r.m.id,
          minutes: p.minutes ?? null,
        },
      );
      return views.staff(ticketId);
    },

    /** Staff set a status by hand (minutes optional; recorded in the ledger when given). */
    async setStatus(
      actor: AuditActor,
      ticketId: string,
      p: { status: TicketStatus; minutes?: number | undefined },
    ) {
      await inTransaction(db, async (tx) => {
        const ticket = await getTicket(tx, SYSTEM_SCOPE, ticketId, { forUpdate: true });
        const status = staffSetStatus(ticket.status, p.status);
        if (p.minutes !== undefined)
          await ledger.record(tx, ticket, {
            authorId: actor.userId!,
            action: `status:${status}`,
            minutes: p.minutes,
          });
        await updateTicket(tx, ticket.id, statusPatch(ticket, status, now()));
      });
      await audit.record(actor, 'ticket.status', { type: 'ticket', id: ticketId }, { status: p.status });
      return views.staff(ticketId);
    },

    /** Staff assign a ticket (to a staff member, or to nobody). */
    async assign(actor: AuditActor, ticketId: string, assigneeId: string | null) {
      await inTransaction(db, async (tx) => {
        const ticket = await getTicket(tx, SYSTEM_SCOPE, ticketId, { forUpdate: true });
        if (assigneeId && !(await activeStaff(tx, assigneeId)))
          throw invalidData('ticket.assignee', 'Tickets are assigned to active staff members', {
            field: 'assigneeId',
          });
        await updateTicket(tx, ticket.id, {
          assignee_id: assigneeId,
          updated_at: now(),
          ...(ticket.status === 'new' && assigneeId ? statusPatch(ticket, 'open', now()) : {}),
        });
      });
      await audit.record(actor, 'ticket.assign', { type: 'ticket', id: ticketId }, { assigneeId });
      return views.staff(ticketId);
    },

    /** Either side attaches a file (PDF, JPEG, PNG by content; capped in size and number). */
    async attach(
      actor: AuditActor,
      scope: Scope,
      ticketId: string,
      file: { stream: Readable; fileName: string | undefined },
    ) {
      const ticket = await getTicket(db, scope, ticketId).catch((e: unknown) => {
        file.stream.resume();
        throw e;
      });
      if (ticket.status === 'closed') {
        file.stream.resume();
        throw conflict('ticket.closed', 'This ticket is closed for good: open a new ticket');
      }
      if ((await countAttachments(db, ticket.id)) >= MAX_ATTACHMENTS_PER_TICKET) {
        file.stream.resume();
        throw conflict('upload.too_many', `At most ${MAX_ATTACHMENTS_PER_TICKET} files per ticket`);
      }
      const stored = await uploads.store('tickets', ticket.account_id, file, {
        maxBytes: MAX_ATTACHMENT_BYTES,
      });
      const row = await insertAttachment(db, {
        id: stored.id,
        ticket_id: ticket.id,
        account_id: ticket.account_id,
        uploaded_by_kind: scope.kind === 'client' ? 'client' : 'staff',
        uploaded_by: actor.userId,
        path: stored.relativePath,
        file_name: stored.fileName,
        content_type: stored.type,
        size: stored.size,
        sha256: stored.sha256,
        created_at: now(),
      }).catch(async (e: unknown) => {
        await uploads.remove(stored.path);
        throw e;
      });
      await audit.record(
        actor,
        'ticket.attach',
        { type: 'ticket', id: ticket.id },
        { sha256: stored.sha256, size: stored.size },
      );
      return views.attachmentView(row);
    },

    async attachmentFile(scope: Scope, ticketId: string, attachmentId: string) {
      const ticket = await getTicket(db, scope, ticketId);
      const a = await getAttachment(db, ticket.id, attachmentId);
      return {
        path: uploads.pathOf(a.path),
        contentType: a.content_type,
        fileName: a.file_name,
        size: a.size,
      };
    },

    clientView: (scope: Scope, id: string) => views.client(scope, id),
    staffView: (id: string) => views.staff(id),
    clientList: (scope: Scope, f: { status?: TicketStatus; vpsId?: string }, page: PageRequest) =>
      views.clientList(scope, f, page),

    /** The staff queue: unassigned, mine, waiting (for the provider), breaching (timers), open, all; with search. */
    async queue(
      scope: Scope,
      f: {
        filter?: QueueFilter;
        status?: TicketStatus;
        kind?: TicketKind;
        accountId?: string;
        q?: string;
        incidentId?: string;
      },
      page: PageRequest,
    ) {
      const p = await staffQueue(
        db,
        { ...f, filter: f.filter ?? 'open', userId: scope.userId, now: now() },
        page,
      );
      return {
        items: p.items.map((t) => ({
          ...ticketSummary(t),
          accountName: t.account_name,
          hostname: t.hostname,
          assignee: t.assignee_email,
        })),
        nextCursor: p.nextCursor,
      };
    },

    async cannedReplies(page: PageRequest) {
      const p = await listCannedReplies(db, page);
      return { items: p.items.map(cannedView), nextCursor: p.nextCursor };
    },

    async addCannedReply(actor: AuditActor, c: { title: string; language: 'fr' | 'en'; body: string }) {
      const row = await insertCannedReply(db, {
        title: clean(c.title, 'title', 200),
        language: c.language,
        body: clean(c.body, 'body', 20_000),
        created_by: actor.userId!,
        created_at: now(),
      });
      await audit.record(actor, 'ticket.canned_reply', { type: 'canned_reply', id: row.id });
      return cannedView(row);
    },

    /** Closes tickets waiting for the client (or resolved) without answer for the configured days. */
    async closeStale(at: Date = now()): Promise<number> {
      const days = ctx.config.ticketAutoCloseDays;
      const before = new Date(at.getTime() - days * 86_400_000);
      let closed = 0;
      for (const { id } of await staleTicketIds(db, before, 500)) {
        await inTransaction(db, async (tx) => {
          const t = await getTicket(tx, SYSTEM_SCOPE, id, { forUpdate: true });
          if (t.status !== 'waiting_client' && t.status !== 'resolved') return;
          if (t.status_changed_at.getTime() > before.getTime()) return;
          const updated = await updateTicket(tx, t.id, statusPatch(t, 'closed', at));
          await mails.closed(tx, updated, days);
          closed++;
        });
      }
      return closed;
    },
  };
  return service;
}

const cannedView = (c: CannedReplyRow) => ({
  id: c.id,
  title: c.title,
  language: c.language,
  body: c.body,
  createdAt: c.created_at.toISOString(),
});

/** The columns a status change sets (timers: resolution, closing). */
function statusPatch(t: TicketRow, status: TicketStatus, at: Date) {
  return {
    status,
    updated_at: at,
    ...(status !== t.status ? { status_changed_at: at } : {}),
    ...(status === 'resolved' && t.status !== 'resolved' ? { resolved_at: at } : {}),
    ...(status !== 'resolved' && status !== 'closed' && t.resolved_at ? { resolved_at: null } : {}),
    ...(status === 'closed' ? { closed_at: at } : {}),
  };
}

export type TicketsService = ReturnType<typeof createTicketsService>;
