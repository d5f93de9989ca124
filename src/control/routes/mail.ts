// Mail: the provider console's outbox (read what was sent or waits, retry a failed mail) and
// the notices chain (every email to a client, as proof: list, CSV export, chain check); the
// client's own notices. Another account's notice is 404 for a client (scoped in the repository).
// Bodies are the stored copy, one-time links withheld (src/control/services/mail.ts); each staff
// read of a mail's text is audited (`mail.read`).
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import type { NoticeWithDelivery, OutboxRow } from '../services/mail.ts';
import type { Scope } from '../services/context.ts';
import { authErrors, IdParams, Language, Page, PageQuery, Uuid } from './schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Status = Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')]);

const OutboxItem = Type.Object({
  id: Type.String(),
  createdAt: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  template: Type.String(),
  language: Language,
  accountId: Nullable(Type.String()),
  reason: Type.String(),
  status: Status,
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Type.String()),
  sentAt: Nullable(Type.String()),
  messageId: Type.String(),
  lastError: Nullable(Type.String()),
  smtpResponse: Nullable(Type.String()),
  /** The mail's one-time links: never shown; whether they are still held (sealed) for delivery. */
  oneTimeLinks: Nullable(
    Type.Object({
      held: Type.Boolean(),
      expiresAt: Type.String(),
      erasedAt: Nullable(Type.String()),
    }),
  ),
});
const OutboxDetail = Type.Object({
  ...OutboxItem.properties,
  bodyText: Type.String(),
  bodyHtml: Nullable(Type.String()),
});

const Notice = Type.Object({
  id: Type.String(),
  at: Type.String(),
  accountId: Nullable(Type.String()),
  recipient: Type.String(),
  template: Type.String(),
  language: Language,
  subject: Type.String(),
  messageId: Type.String(),
  reason: Type.String(),
  outboxId: Type.String(),
  contentSha256: Type.String(),
  prevHash: Type.String(),
  hash: Type.String(),
  /** Not part of the chained facts: it changes after the notice. */
  delivery: Type.Object({
    status: Nullable(Status),
    attempts: Nullable(Type.Integer()),
    sentAt: Nullable(Type.String()),
  }),
});
const NoticeDetail = Type.Object({ ...Notice.properties, bodyText: Nullable(Type.String()) });

const ChainReport = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  firstBadId: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  lastHash: Type.String(),
  contentUnchecked: Type.Integer(),
});

const period = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'notices at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'notices before' })),
};
const closed = { additionalProperties: false } as const;
const NoticeQuery = Type.Object({ accountId: Type.Optional(Uuid), ...period, ...PageQuery }, closed);
const ExportQuery = Type.Object({ accountId: Type.Optional(Uuid), ...period }, closed);
const ClientNoticeQuery = Type.Object({ ...period, ...PageQuery }, closed);
const NoticeIdParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9]+$' }) },
  { additionalProperties: false },
);

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function outboxItem(r: OutboxRow) {
  return {
    id: r.id,
    createdAt: iso(r.created_at)!,
    to: r.to_address,
    subject: r.subject,
    template: r.template,
    language: r.language,
    accountId: r.account_id,
    reason: r.reason,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    sentAt: iso(r.sent_at),
    messageId: r.message_id ?? '',
    lastError: r.last_error,
    smtpResponse: r.smtp_response,
    oneTimeLinks:
      r.secrets_expire_at === null
        ? null
        : {
            held: r.secrets_sealed !== null,
            expiresAt: iso(r.secrets_expire_at)!,
            erasedAt: iso(r.secrets_purged_at),
          },
  };
}

function notice(n: NoticeWithDelivery) {
  return {
    id: n.id,
    at: iso(n.at)!,
    accountId: n.account_id,
    recipient: n.recipient,
    template: n.template,
    language: n.language,
    subject: n.subject,
    messageId: n.message_id,
    reason: n.reason,
    outboxId: n.outbox_id,
    contentSha256: n.content_sha256,
    prevHash: n.prev_hash,
    hash: n.hash,
    delivery: { status: n.delivery_status, attempts: n.delivery_attempts, sentAt: iso(n.sent_at) },
  };
}

function noticeFilter(q: { accountId?: string; from?: string; to?: string }) {
  return {
    ...(q.accountId ? { accountId: q.accountId } : {}),
    ...(q.from ? { from: new Date(q.from) } : {}),
    ...(q.to ? { to: new Date(q.to) } : {}),
  };
}

/** A page of notices as the API serves it. */
async function noticesPage(
  s: Services,
  scope: Scope,
  q: { accountId?: string; from?: string; to?: string; limit?: number; cursor?: string },
) {
  const page = await s.mail.notices(scope, noticeFilter(q), { limit: q.limit, cursor: q.cursor });
  return { items: page.items.map(notice), nextCursor: page.nextCursor };
}

const CSV_COLUMNS = [
  'id',
  'at',
  'account_id',
  'recipient',
  'template',
  'language',
  'subject',
  'message_id',
  'reason',
  'outbox_id',
  'content_sha256',
  'prev_hash',
  'hash',
  'delivery_status',
  'sent_at',
] as const;

/** RFC 4180 quoting; a cell a spreadsheet would run as a formula is prefixed with a quote. */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function noticesCsv(rows: NoticeWithDelivery[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const rec: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      id: r.id,
      at: iso(r.at),
      account_id: r.account_id,
      recipient: r.recipient,
      template: r.template,
      language: r.language,
      subject: r.subject,
      message_id: r.message_id,
      reason: r.reason,
      outbox_id: r.outbox_id,
      content_sha256: r.content_sha256,
      prev_hash: r.prev_hash,
      hash: r.hash,
      delivery_status: r.delivery_status,
      sent_at: iso(r.sent_at),
    };
    lines.push(CSV_COLUMNS.map((c) => csvCell(rec[c])).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export function mailRoutes(app: App, s: Services): void {
  // Provider console: the outbox.
  app.get(
    '/v1/admin/outbox',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'The mail outbox, newest first (with no SMTP relay configured, mail waits here)',
        querystring: Type.Object(
          {
            status: Type.Optional(Status),
            accountId: Type.Optional(Uuid),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            relayConfigured: Type.Boolean(),
            counts: Type.Object({ pending: Type.Integer(), sent: Type.Integer(), failed: Type.Integer() }),
            items: Type.Array(OutboxItem),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...authErrors,
        },
      },
    },
    async (req) => {
      const { status, accountId, limit, cursor } = req.query;
      const page = await s.mail.outbox(
        { ...(status ? { status } : {}), ...(accountId ? { accountId } : {}) },
        { limit, cursor },
      );
      return {
        relayConfigured: s.mail.relayConfigured(),
        counts: await s.mail.outboxCounts(),
        items: page.items.map(outboxItem),
        nextCursor: page.nextCursor,
      };
    },
  );
  app.get(
    '/v1/admin/outbox/:id',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'One mail of the outbox, with its text (one-time links withheld); each read is audited',
        params: IdParams,
        response: { 200: OutboxDetail, ...authErrors },
      },
    },
    async (req) => {
      const r = await s.mail.readOutboxItem(req.params.id, auditActorOf(req));
      return { ...outboxItem(r), bodyText: r.body_text, bodyHtml: r.body_html };
    },
  );
  app.post(
    '/v1/admin/outbox/:id/retry',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Send a failed (or waiting) mail again now',
        params: IdParams,
        response: { 200: OutboxItem, ...authErrors },
      },
    },
    async (req) => outboxItem(await s.mail.retry(req.params.id, auditActorOf(req))),
  );

  // Provider console: the notices, as proof.
  app.get(
    '/v1/admin/notices',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'Every email sent to clients (the notices chain), newest first',
        querystring: NoticeQuery,
        response: { 200: Page(Notice), ...authErrors },
      },
    },
    async (req) => noticesPage(s, principalOf(req).scope, req.query),
  );
  app.get(
    '/v1/admin/notices/export.csv',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'The notices as CSV (same filters), with their hashes',
        querystring: ExportQuery,
        response: {
          200: {
            description: 'CSV, one notice per line',
            content: { 'text/csv': { schema: Type.String() } },
          },
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      const rows: NoticeWithDelivery[] = [];
      for await (const chunk of s.mail.exportNotices(principalOf(req).scope, noticeFilter(req.query)))
        rows.push(...chunk);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="notices.csv"')
        .send(noticesCsv(rows));
    },
  );
  app.get(
    '/v1/admin/notices/verify',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'Check the notices hash chain and the content of each mail',
        response: { 200: ChainReport, ...authErrors },
      },
    },
    async () => s.mail.verifyNotices(),
  );

  // Client: its own notices.
  app.get(
    '/v1/notices',
    {
      config: { access: 'client' },
      schema: {
        tags: ['notices'],
        summary: 'The emails sent to my account, newest first',
        querystring: ClientNoticeQuery,
        response: { 200: Page(Notice), ...authErrors },
      },
    },
    async (req) => noticesPage(s, principalOf(req).scope, req.query),
  );
  app.get(
    '/v1/notices/:id',
    {
      config: { access: 'client' },
      schema: {
        tags: ['notices'],
        summary: 'One email sent to my account, with its text',
        params: NoticeIdParams,
        response: { 200: NoticeDetail, ...authErrors },
      },
    },
    async (req) => {
      const n = await s.mail.notice(principalOf(req).scope, req.params.id);
      return { ...notice(n), bodyText: n.body_text };
    },
  );
}
