// Notices: the proof of every email the platform sent a client (the contract's "the client is
// told": what was sent, when and why; R3.1 access codes among them). Append-only (a trigger
// refuses UPDATE, DELETE and TRUNCATE) and hash-chained like the audit log: each row's hash
// covers its facts and the previous row's hash, so a changed or removed row breaks the chain
// at that point. The mail's content is proven by `content_sha256` (the text stays in the
// outbox): verify recomputes it from the outbox too.
//
// What it hashes (0012): the copy the outbox keeps, i.e. subject and bodies with each one-time
// link replaced by its ⟦withheld:name⟧ marker (src/control/mail/render.ts). The delivered mail
// is that copy with the markers filled, so the hash proves every word the client was told, and
// the link's presence, but not the link itself, which the platform keeps only sealed until
// delivery. To check a mail the client produces: put the markers back in place of its links
// and hash. Mails written before 0012 hashed their link in clear: those whose link was still
// usable at the upgrade were redacted (`legacy_secret = 'redacted'`), their content can no
// longer be recomputed and verify counts them apart (`contentUnchecked`); chain and facts are
// still checked.
//
// When: a notice is appended at enqueue, in the caller's transaction, with the Message-ID
// fixed then. So the fact that caused the mail, the mail and its notice commit or roll back
// together (no notice for a mail never queued, no mail without its notice), and the chain
// records the provider's act of telling the client with the exact content and reason. Whether
// and when the relay accepted it is a later, changing status (pending → sent/failed, retries,
// a staff retry): it is kept on the outbox row with the relay's answer and shown next to the
// notice, never hashed. The Message-ID ties the notice to the relay's logs and to the copy the
// client received.
//
// Limitation (as for the audit log): removing the newest rows is not detected without an
// external anchor; exporting the chain (its last hash) regularly gives one.
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { Database, MailOutboxTable } from '../db/schema.ts';
import type { MailNoticesTable } from '../db/tables/mail.ts';
import type { Scope } from './scope.ts';
import { bySerial, pageOf, type Page, type PageRequest } from './pagination.ts';

export const NOTICE_GENESIS_HASH = '0'.repeat(64);
const CHAIN_LOCK = 0x6d61696c; // advisory lock key ("mail"): one transaction appends at a time

export type NoticeRow = Selectable<MailNoticesTable>;
export type NoticeWithDelivery = NoticeRow & {
  delivery_status: Selectable<MailOutboxTable>['status'] | null;
  delivery_attempts: number | null;
  sent_at: Date | null;
};

export interface NoticeFacts {
  at: Date;
  accountId: string | null;
  recipient: string;
  template: string;
  language: 'fr' | 'en';
  subject: string;
  messageId: string;
  reason: string;
  outboxId: string;
  contentSha256: string;
}

/** What proves the content of a mail: sha256 over the canonical JSON of subject and bodies (the stored, redacted copy). */
export function contentHash(m: { subject: string; text: string; html: string | null }): string {
  return createHash('sha256')
    .update(canonicalJson({ subject: m.subject, text: m.text, html: m.html }))
    .digest('hex');
}

type ChainedColumns = Omit<NoticeRow, 'id' | 'prev_hash' | 'hash'>;

function rowFacts(r: ChainedColumns) {
  return {
    at: new Date(r.at).toISOString(),
    account_id: r.account_id,
    recipient: r.recipient,
    template: r.template,
    language: r.language,
    subject: r.subject,
    message_id: r.message_id,
    reason: r.reason,
    outbox_id: r.outbox_id,
    content_sha256: r.content_sha256,
  };
}

export function noticeHash(prevHash: string, r: ChainedColumns): string {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalJson(rowFacts(r)))
    .digest('hex');
}

/**
 * Appends a notice using `db` as given: inside the caller's transaction, it commits or rolls
 * back with it. The chain lock is a transaction-level advisory lock, held until that
 * transaction ends, so mail-sending transactions append one after the other (keep them short).
 * Callers run at READ COMMITTED (PostgreSQL's default) so the last hash read after the lock is
 * the latest committed one.
 */
export async function appendNotice(db: Db, f: NoticeFacts): Promise<NoticeRow> {
  await sql`SELECT pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(db);
  const last = await db
    .selectFrom('mail_notices')
    .select('hash')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const prev = last?.hash ?? NOTICE_GENESIS_HASH;
  const row: ChainedColumns = {
    at: f.at,
    account_id: f.accountId,
    recipient: f.recipient,
    template: f.template,
    language: f.language,
    subject: f.subject,
    message_id: f.messageId,
    reason: f.reason,
    outbox_id: f.outboxId,
    content_sha256: f.contentSha256,
  };
  const hash = noticeHash(prev, row);
  return db
    .insertInto('mail_notices')
    .values({ ...row, prev_hash: prev, hash })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface NoticeFilter {
  accountId?: string;
  from?: Date;
  to?: Date;
}

function withDelivery(db: Db) {
  return (db as Kysely<Database>)
    .selectFrom('mail_notices as n')
    .leftJoin('mail_outbox as o', 'o.id', 'n.outbox_id')
    .selectAll('n')
    .select(['o.status as delivery_status', 'o.attempts as delivery_attempts', 'o.sent_at as sent_at']);
}

function noticesOf(db: Db, scope: Scope, f: NoticeFilter) {
  let q = withDelivery(db);
  if (scope.kind === 'client') q = q.where('n.account_id', '=', scope.accountId);
  if (f.accountId) q = q.where('n.account_id', '=', f.accountId);
  if (f.from) q = q.where('n.at', '>=', f.from);
  if (f.to) q = q.where('n.at', '<', f.to);
  return q;
}

/** Notices newest first, a page at a time. A client scope sees its own account's only, whatever it asks for. */
export async function listNotices(
  db: Db,
  scope: Scope,
  f: NoticeFilter,
  page: PageRequest,
): Promise<Page<NoticeWithDelivery>> {
  return pageOf(noticesOf(db, scope, f), bySerial('notices', 'desc', 'n.id'), page);
}

/**
 * Every notice of the filter, newest first (the CSV export: a file asked for with a period, not
 * a list on a page), read in chunks of `chunk` rows.
 */
export async function* exportNotices(
  db: Db,
  scope: Scope,
  f: NoticeFilter,
  chunk = 1000,
): AsyncGenerator<NoticeWithDelivery[]> {
  let before: string | undefined;
  for (;;) {
    let q = noticesOf(db, scope, f).orderBy('n.id', 'desc').limit(chunk);
    if (before !== undefined) q = q.where('n.id', '<', before);
    const rows = await q.execute();
    if (rows.length) yield rows;
    if (rows.length < chunk) return;
    before = rows.at(-1)!.id;
  }
}

/** One notice; another account's is "not found" for a client. */
export async function getNotice(
  db: Db,
  scope: Scope,
  id: string,
): Promise<NoticeWithDelivery & { body_text: string | null }> {
  let q = withDelivery(db).select('o.body_text as body_text').where('n.id', '=', id);
  if (scope.kind === 'client') q = q.where('n.account_id', '=', scope.accountId);
  const r = await q.executeTakeFirst();
  if (!r) throw notFound('notice.not_found', 'No such notice');
  return r;
}

export interface NoticeChainReport {
  ok: boolean;
  checked: number;
  /** The first notice whose hash, link or content does not match, if any. */
  firstBadId: string | null;
  reason: string | null;
  /** The newest hash: keep it elsewhere to anchor the chain. */
  lastHash: string;
  /** Notices whose mail text could not be recomputed: a usable link in clear redacted at the 0012 upgrade. */
  contentUnchecked: number;
}

/** Walks the whole chain in id order, in pages; checks each notice's content against its outbox row. */
export async function verifyNoticeChain(db: Db): Promise<NoticeChainReport> {
  let prev = NOTICE_GENESIS_HASH;
  let checked = 0;
  let contentUnchecked = 0;
  let after = '0';
  for (;;) {
    const page = await db
      .selectFrom('mail_notices as n')
      .leftJoin('mail_outbox as o', 'o.id', 'n.outbox_id')
      .selectAll('n')
      .select(['o.subject as o_subject', 'o.body_text as o_text', 'o.body_html as o_html', 'o.id as o_id'])
      // A column 0012 adds (typed in tables/mail.ts, outside the foundation's outbox type).
      .select(sql<string | null>`o.legacy_secret`.as('o_legacy'))
      .where('n.id', '>', after)
      .orderBy('n.id')
      .limit(1000)
      .execute();
    if (page.length === 0)
      return { ok: true, checked, firstBadId: null, reason: null, lastHash: prev, contentUnchecked };
    for (const r of page) {
      const bad = (reason: string) => ({
        ok: false,
        checked,
        firstBadId: r.id,
        reason,
        lastHash: prev,
        contentUnchecked,
      });
      if (r.prev_hash !== prev) return bad('link to the previous notice broken (notice removed or inserted)');
      if (noticeHash(prev, r) !== r.hash) return bad('notice does not match its hash (notice changed)');
      if (r.o_id !== null && r.o_legacy === 'redacted') contentUnchecked++;
      else if (
        r.o_id !== null &&
        contentHash({ subject: r.o_subject!, text: r.o_text!, html: r.o_html }) !== r.content_sha256
      )
        return bad('the outbox copy of this mail does not match the content hash (mail text changed)');
      prev = r.hash;
      checked++;
      after = r.id;
    }
  }
}
