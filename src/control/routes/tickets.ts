// The support desk's API (R4.3, R3.10): clients open, list, read, answer and attach on their own
// tickets (another account's ticket, or a ticket on another account's VPS, is 404), read their
// support balance and accept or decline quotes; staff work the queue (filters, full-text
// search), answer, write internal notes, record and correct minutes, assign, set statuses,
// propose quotes, keep canned replies and read a client's ledger history.
import multipart from '@fastify/multipart';
import type { FastifyReply } from 'fastify';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Type, type TSchema } from 'typebox';
import { isDomainError } from '../../domain/errors.ts';
import { ticketKinds, ticketPriorities, ticketStatuses } from '../../domain/tickets.ts';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_TICKET } from '../services/tickets.ts';
import { authErrors, ErrorSchema, IdParams, Language, Page, PageQuery, Uuid } from './schemas.ts';

const Str = Type.String;
const NullStr = Type.Union([Type.String(), Type.Null()]);
const Int = Type.Integer;
const lit = <const T extends readonly string[]>(xs: T) =>
  Type.Unsafe<T[number]>(Type.Union(xs.map((x) => Type.Literal(x))));
const tags = ['tickets'];
const Kind = lit(ticketKinds);
const Priority = lit(ticketPriorities);
const Status = lit(ticketStatuses);
const Minutes = Int({ minimum: 1, maximum: 480, description: 'R3.10: whole minutes, 1 to 480' });
const Body = Str({ minLength: 1, maxLength: 100_000 });
const TicketIdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
const obj = <P extends Record<string, TSchema>>(p: P) => Type.Object(p, { additionalProperties: false });

const Balance = Type.Object({
  contractId: Str(),
  includedMinutes: Int(),
  usedMinutes: Int(),
  leftMinutes: Int(),
  monthStart: Str(),
  resetsAt: Str(),
  text: Type.Object({ fr: Str(), en: Str() }),
});
const Summary = {
  id: Str(),
  number: Int(),
  accountId: Str(),
  vpsId: NullStr,
  kind: Str(),
  priority: Str(),
  status: Str(),
  subject: Str(),
  source: Str(),
  openedBy: Str(),
  providerCaused: Type.Boolean(),
  incidentId: NullStr,
  createdAt: Str(),
  updatedAt: Str(),
  firstResponseDueAt: Str(),
  resolutionDueAt: Str(),
  firstResponseAt: NullStr,
  resolvedAt: NullStr,
  closedAt: NullStr,
};
const TicketSummary = Type.Object(Summary, { $id: 'TicketSummary' });
const QueueItem = Type.Object({ ...Summary, accountName: Str(), hostname: NullStr, assignee: NullStr });
const Message = {
  id: Str(),
  author: Str(),
  internal: Type.Boolean(),
  body: Str(),
  via: Str(),
  createdAt: Str(),
};
const Attachment = Type.Object({
  id: Str(),
  fileName: Str(),
  contentType: Str(),
  size: Int(),
  uploadedBy: Str(),
  createdAt: Str(),
});
const Entry = {
  id: Str(),
  messageId: NullStr,
  action: Str(),
  minutes: Int(),
  includedMinutes: Int(),
  quotedMinutes: Int(),
  at: Str(),
  editedAt: NullStr,
};
const Quote = Type.Object({
  id: Str(),
  minutes: Int(),
  hourlyRateCents: Int(),
  netCents: Int(),
  totalCents: Int(),
  description: Str(),
  status: Str(),
  proposedAt: Str(),
  decidedAt: NullStr,
  invoiceId: NullStr,
});
const ClientTicket = Type.Object({
  ...Summary,
  messages: Type.Array(Type.Object(Message)),
  attachments: Type.Array(Attachment),
  timeEntries: Type.Array(Type.Object(Entry)),
  quotes: Type.Array(Quote),
  balance: Type.Union([Balance, Type.Null()]),
});
const StaffTicket = Type.Object({
  ...Summary,
  assigneeId: NullStr,
  assignee: NullStr,
  messages: Type.Array(Type.Object({ ...Message, authorEmail: NullStr })),
  attachments: Type.Array(Attachment),
  timeEntries: Type.Array(Type.Object({ ...Entry, authorId: Str(), author: NullStr })),
  quotes: Type.Array(Quote),
  balance: Type.Union([Balance, Type.Null()]),
});
const LedgerRow = Type.Object({
  ...Entry,
  ticketId: Str(),
  ticketNumber: Int(),
  ticketSubject: Str(),
  author: Str(),
  monthStart: NullStr,
});
const Canned = Type.Object({ id: Str(), title: Str(), language: Str(), body: Str(), createdAt: Str() });
const conflictErrors = { ...authErrors, 409: ErrorSchema };

export function ticketRoutes(app: App, s: Services): void {
  const scopeOf = (req: Parameters<typeof principalOf>[0]) => principalOf(req).scope;

  // ---- client ----------------------------------------------------------------------------
  app.post(
    '/v1/tickets',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary:
          'Open a ticket (R4.3): an admin request names its VPS (R3.10: its contract’s included time); a VPS of another account is 404',
        body: obj({
          kind: Kind,
          subject: Str({ minLength: 1, maxLength: 200 }),
          body: Body,
          vpsId: Type.Optional(Uuid),
          priority: Type.Optional(Priority),
        }),
        response: { 201: ClientTicket, ...authErrors },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(await s.tickets.openByClient(auditActorOf(req), scopeOf(req), { ...req.body, via: 'panel' })),
  );

  app.get(
    '/v1/tickets',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary: 'The client’s tickets, newest first',
        querystring: obj({ ...PageQuery, status: Type.Optional(Status), vpsId: Type.Optional(Uuid) }),
        response: { 200: Page(TicketSummary), ...authErrors },
      },
    },
    async (req) => {
      const { limit, cursor, status, vpsId } = req.query;
      return s.tickets.clientList(
        scopeOf(req),
        { ...(status ? { status } : {}), ...(vpsId ? { vpsId } : {}) },
        { limit, cursor },
      );
    },
  );

  app.get(
    '/v1/tickets/:id',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary:
          'A ticket: messages (no internal notes), attachments, minutes recorded, quotes and the month’s balance (R3.10)',
        params: TicketIdParams,
        response: { 200: ClientTicket, ...authErrors },
      },
    },
    async (req) => s.tickets.clientView(scopeOf(req), req.params.id),
  );

  app.post(
    '/v1/tickets/:id/messages',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary:
          'Answer a ticket; a resolved one or one waiting for you reopens (409 ticket.closed once closed for good)',
        params: TicketIdParams,
        body: obj({ body: Body }),
        response: { 201: ClientTicket, ...conflictErrors },
      },
    },
    async (req, reply) => {
      const scope = scopeOf(req);
      await s.tickets.clientReply(auditActorOf(req), scope, req.params.id, {
        body: req.body.body,
        via: 'panel',
      });
      return reply.status(201).send(await s.tickets.clientView(scope, req.params.id));
    },
  );

  app.post(
    '/v1/tickets/:id/quotes/:quoteId/:decision',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary: 'R3.10: accept (an invoice is issued) or decline a quote for work beyond the included time',
        params: obj({ id: Uuid, quoteId: Uuid, decision: lit(['accept', 'decline'] as const) }),
        response: { 200: Quote, ...conflictErrors },
      },
    },
    async (req) =>
      s.tickets.ledger.decideQuote(
        auditActorOf(req),
        scopeOf(req),
        req.params.id,
        req.params.quoteId,
        req.params.decision,
      ),
  );

  app.get(
    '/v1/vps/:id/support-balance',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary:
          'R3.10: the included support time of the VPS’s contract this billing month: used, left, when it resets',
        params: IdParams,
        response: { 200: Balance, ...authErrors },
      },
    },
    async (req) => s.tickets.ledger.balanceForVps(scopeOf(req), req.params.id),
  );

  for (const [prefix, access] of [
    ['/v1/tickets', 'client'],
    ['/v1/admin/tickets', 'staff'],
  ] as const)
    app.get(
      `${prefix}/:id/attachments/:attachmentId`,
      {
        config: { access },
        schema: {
          tags,
          summary: 'Download a ticket’s attachment',
          params: obj({ id: Uuid, attachmentId: Uuid }),
          response: { 200: Str({ format: 'binary' }), ...authErrors },
        },
      },
      async (req, reply) =>
        sendFile(reply, await s.tickets.attachmentFile(scopeOf(req), req.params.id, req.params.attachmentId)),
    );

  // ---- staff -----------------------------------------------------------------------------
  app.get(
    '/v1/admin/tickets',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'The queue, newest first: filter unassigned, mine, waiting (for the provider), breaching (first response or resolution late), open (default) or all; full-text search q over subjects and messages',
        querystring: obj({
          ...PageQuery,
          filter: Type.Optional(lit(['unassigned', 'mine', 'waiting', 'breaching', 'open', 'all'] as const)),
          status: Type.Optional(Status),
          kind: Type.Optional(Kind),
          accountId: Type.Optional(Uuid),
          incidentId: Type.Optional(Uuid),
          q: Type.Optional(Str({ minLength: 1, maxLength: 200 })),
        }),
        response: { 200: Page(QueueItem), ...authErrors },
      },
    },
    async (req) => {
      const { limit, cursor, ...f } = req.query;
      return s.tickets.queue(scopeOf(req), f, { limit, cursor });
    },
  );

  app.post(
    '/v1/admin/tickets',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Open a ticket for a client (minutes already spent optional, R3.10)',
        body: obj({
          accountId: Uuid,
          kind: Kind,
          subject: Str({ minLength: 1, maxLength: 200 }),
          body: Body,
          vpsId: Type.Optional(Uuid),
          priority: Type.Optional(Priority),
          minutes: Type.Optional(Minutes),
        }),
        response: { 201: StaffTicket, ...conflictErrors },
      },
    },
    async (req, reply) => reply.status(201).send(await s.tickets.openForClient(auditActorOf(req), req.body)),
  );

  app.get(
    '/v1/admin/tickets/:id',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'A ticket with its internal notes, who wrote and who spent what, quotes and the balance',
        params: TicketIdParams,
        response: { 200: StaffTicket, ...authErrors },
      },
    },
    async (req) => s.tickets.staffView(req.params.id),
  );

  app.post(
    '/v1/admin/tickets/:id/messages',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'Answer (mailed to the client) or write an internal note; minutes mandatory on an admin request (R3.10: 422-like 400 ticket.minutes_required), 409 ticket.overage_needs_quote beyond the included time without an accepted quote',
        params: TicketIdParams,
        body: obj({
          body: Body,
          internal: Type.Optional(Type.Boolean()),
          minutes: Type.Optional(Minutes),
          status: Type.Optional(Status),
        }),
        response: { 201: StaffTicket, ...conflictErrors },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await s.tickets.staffMessage(auditActorOf(req), req.params.id, req.body)),
  );

  app.post(
    '/v1/admin/tickets/:id/status',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Set a ticket’s status (the domain’s machine: 409 ticket.bad_transition); minutes optional',
        params: TicketIdParams,
        body: obj({ status: Status, minutes: Type.Optional(Minutes) }),
        response: { 200: StaffTicket, ...conflictErrors },
      },
    },
    async (req) => s.tickets.setStatus(auditActorOf(req), req.params.id, req.body),
  );

  app.post(
    '/v1/admin/tickets/:id/assign',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Assign a ticket to a staff member (or to nobody: null)',
        params: TicketIdParams,
        body: obj({ assigneeId: Type.Union([Uuid, Type.Null()]) }),
        response: { 200: StaffTicket, ...authErrors },
      },
    },
    async (req) => s.tickets.assign(auditActorOf(req), req.params.id, req.body.assigneeId),
  );

  app.patch(
    '/v1/admin/tickets/:id/time/:entryId',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'R3.10: correct a time entry (its author, the same day; audited)',
        params: obj({ id: Uuid, entryId: Uuid }),
        body: obj({ minutes: Minutes }),
        response: { 200: Type.Object(Entry), ...conflictErrors },
      },
    },
    async (req) =>
      s.tickets.ledger.editEntry(auditActorOf(req), req.params.id, req.params.entryId, req.body.minutes),
  );

  app.post(
    '/v1/admin/tickets/:id/quotes',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'R3.10: propose a quote for work beyond the included time (hourly-rate setting); mailed to the client',
        params: TicketIdParams,
        body: obj({
          minutes: Int({ minimum: 1, maximum: 4800 }),
          description: Str({ minLength: 3, maxLength: 1000 }),
        }),
        response: { 201: Quote, ...conflictErrors },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await s.tickets.ledger.proposeQuote(auditActorOf(req), req.params.id, req.body)),
  );

  app.get(
    '/v1/admin/accounts/:id/support-ledger',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'R3.10: a client’s time entries, newest first (its ledger history)',
        params: IdParams,
        querystring: obj({ ...PageQuery }),
        response: { 200: Page(LedgerRow), ...authErrors },
      },
    },
    async (req) => s.tickets.ledger.history(req.params.id, req.query),
  );

  app.get(
    '/v1/admin/canned-replies',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Canned replies, newest first',
        querystring: obj({ ...PageQuery }),
        response: { 200: Page(Canned), ...authErrors },
      },
    },
    async (req) => s.tickets.cannedReplies(req.query),
  );

  app.post(
    '/v1/admin/canned-replies',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Add a canned reply',
        body: obj({
          title: Str({ minLength: 1, maxLength: 200 }),
          language: Language,
          body: Str({ minLength: 1, maxLength: 20_000 }),
        }),
        response: { 201: Canned, ...authErrors },
      },
    },
    async (req, reply) => reply.status(201).send(await s.tickets.addCannedReply(auditActorOf(req), req.body)),
  );

  // Uploads: multipart in this encapsulated scope only (the rest of the API is JSON).
  void app.register(async (child) => {
    const scoped = child as unknown as App;
    await scoped.register(multipart, {
      limits: { fileSize: MAX_ATTACHMENT_BYTES + 1, files: 1, fields: 0, parts: 1, fieldSize: 1024 },
    });
    for (const [prefix, access] of [
      ['/v1/tickets', 'client'],
      ['/v1/admin/tickets', 'staff'],
    ] as const)
      scoped.post(
        `${prefix}/:id/attachments`,
        {
          config: { access },
          schema: {
            tags,
            summary: `Attach a file to a ticket (multipart field "file"; PDF, JPEG or PNG by content — executables and the rest refused; at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB, ${MAX_ATTACHMENTS_PER_TICKET} files per ticket: 413 beyond)`,
            consumes: ['multipart/form-data'],
            params: TicketIdParams,
            response: { 201: Attachment, ...conflictErrors, 406: ErrorSchema, 413: ErrorSchema },
          },
        },
        async (req, reply) => {
          const file = await req.file();
          if (!file)
            return reply.status(400).send({
              code: 'upload.missing',
              message: 'Send the file in a multipart field named "file"',
              field: 'file',
            });
          try {
            const out = await s.tickets.attach(auditActorOf(req), scopeOf(req), req.params.id, {
              stream: file.file as Readable,
              fileName: file.filename,
            });
            return reply.status(201).send(out);
          } catch (e) {
            if (isDomainError(e) && (e.code === 'upload.too_large' || e.code === 'upload.too_many'))
              return reply.status(413).send({ code: e.code, message: e.message, field: 'file' });
            throw e;
          }
        },
      );
  });
}

async function sendFile(
  reply: FastifyReply,
  f: { path: string; contentType: string; fileName: string; size: number },
) {
  const stream = createReadStream(f.path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  }).catch(() => {
    throw Object.assign(new Error('file missing'), { statusCode: 500 });
  });
  return reply
    .header('content-type', f.contentType)
    .header('content-length', String(f.size))
    .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(f.fileName)}`)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'private, no-store')
    .send(stream as unknown as string);
}
