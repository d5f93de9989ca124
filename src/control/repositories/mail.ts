// The mail outbox: one row per email, written in the caller's transaction, delivered later by
// the mail service (claimed with SKIP LOCKED so two workers never hold the same row).
import { sql, type Kysely, type Selectable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { Database, MailOutboxTable } from '../db/schema.ts';
import type { MailOutboxExtraColumns } from '../db/tables/mail.ts';
import { byCreated, pageOf, type Page, type PageRequest } from './pagination.ts';

/** The outbox as the mail module sees it: the foundation's columns and those 0003_mail adds. */
type MailDb = Kysely<Database & { mail_outbox: MailOutboxTable & MailOutboxExtraColumns }>;
export type OutboxRow = Selectable<MailOutboxTable & MailOutboxExtraColumns>;
export type OutboxStatus = OutboxRow['status'];

const mailDb = (db: Db): MailDb =>
  db.withTables<{ mail_outbox: MailOutboxExtraColumns }>() as unknown as MailDb;

export interface NewOutboxRow {
  id: string;
  createdAt: Date;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  template: string;
  language: 'fr' | 'en';
  accountId: string | null;
  reason: string;
  messageId: string;
  /** The mail's one-time secrets, sealed; null when it has none. */
  secretsSealed: string | null;
  /** When those secrets stop being usable (and are purged); null when it has none. */
  secretsExpireAt: Date | null;
  /** Threading of ticket mails (R4.3): Reply-To and In-Reply-To/References; absent for others. */
  replyTo?: string | null;
  inReplyTo?: string | null;
}

export async function insertOutbox(db: Db, m: NewOutboxRow): Promise<OutboxRow> {
  return mailDb(db)
    .insertInto('mail_outbox')
    .values({
      id: m.id,
      created_at: m.createdAt,
      to_address: m.to,
      subject: m.subject,
      body_text: m.text,
      body_html: m.html,
      template: m.template,
      language: m.language,
      account_id: m.accountId,
      reason: m.reason,
      message_id: m.messageId,
      secrets_sealed: m.secretsSealed,
      secrets_expire_at: m.secretsExpireAt,
      ...(m.replyTo ? { reply_to: m.replyTo } : {}),
      ...(m.inReplyTo ? { in_reply_to: m.inReplyTo } : {}),
      status: 'pending',
      next_attempt_at: m.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getOutbox(db: Db, id: string): Promise<OutboxRow> {
  const r = await mailDb(db).selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) throw notFound('mail.not_found', 'No such mail in the outbox');
  return r;
}

/** The outbox, newest first, one page at a time. */
export function listOutbox(
  db: Db,
  filter: { status?: OutboxStatus; accountId?: string },
  page: PageRequest,
): Promise<Page<OutboxRow>> {
  let q = mailDb(db).selectFrom('mail_outbox').selectAll();
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  return pageOf(q, byCreated('outbox', 'desc'), page);
}

/**
 * Claims up to `limit` pending rows due at `now`: each gets its attempt counted and its next
 * attempt moved to `leaseUntil`, in one statement over rows locked with SKIP LOCKED. A second
 * worker skips them (locked now, not due after the commit); a worker that dies holding a claim
 * leaves the row to be retried when the lease ends.
 */
export async function claimDue(db: Db, now: Date, leaseUntil: Date, limit: number): Promise<OutboxRow[]> {
  const r = await sql<OutboxRow>`
    UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = ${leaseUntil}
    WHERE id IN (
      SELECT id FROM mail_outbox
      WHERE status = 'pending' AND next_attempt_at <= ${now}
      ORDER BY next_attempt_at, created_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING *`.execute(db);
  return r.rows;
}

/** The relay accepted the mail: sent, and its sealed secrets erased in the same statement. */
export async function markSent(db: Db, id: string, at: Date, smtpResponse: string): Promise<void> {
  await mailDb(db)
    .updateTable('mail_outbox')
    .set((eb) => ({
      status: 'sent',
      sent_at: at,
      smtp_response: smtpResponse.slice(0, 1000),
      last_error: null,
      secrets_sealed: null,
      secrets_purged_at: eb
        .case()
        .when('secrets_sealed', 'is not', null)
        .then(at)
        .else(eb.ref('secrets_purged_at'))
        .end(),
    }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/**
 * A mail that cannot go out as written (its secrets expired before delivery, so its links no
 * longer work, or they do not open): nothing is sent, the mail is failed with the reason, and
 * the sealed secrets are erased.
 */
export async function failUnsendable(db: Db, id: string, at: Date, error: string): Promise<void> {
  await mailDb(db)
    .updateTable('mail_outbox')
    .set((eb) => ({
      status: 'failed',
      last_error: error.slice(0, 1000),
      secrets_sealed: null,
      secrets_purged_at: eb.fn.coalesce('secrets_purged_at', eb.val(at)),
    }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/** Erases every sealed secret whose links have expired (whatever the mail's status). Returns how many. */
export async function purgeExpiredSecrets(db: Db, now: Date): Promise<number> {
  const r = await mailDb(db)
    .updateTable('mail_outbox')
    .set({ secrets_sealed: null, secrets_purged_at: now })
    .where('secrets_sealed', 'is not', null)
    .where('secrets_expire_at', '<=', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Rows flagged by 0012 (written before it with a link in clear), oldest first. */
export function legacyUnchecked(db: Db, limit: number): Promise<OutboxRow[]> {
  return mailDb(db)
    .selectFrom('mail_outbox')
    .selectAll()
    .where('legacy_secret', '=', 'unchecked')
    .orderBy('created_at')
    .limit(limit)
    .execute();
}

/**
 * When a one-time token still works (not used, not expired at `now`): the expiry of the sign-up
 * verification or access link it belongs to, else null. Looked up by its sha256, the only
 * form those tables keep. (Read here only to clean the rows 0012 flagged.)
 */
export async function liveTokenExpiry(db: Db, hash: string, now: Date): Promise<Date | null> {
  const r = await sql<{ expires_at: Date }>`
    SELECT expires_at FROM email_verifications
      WHERE token_hash = ${hash} AND used_at IS NULL AND expires_at > ${now}
    UNION ALL
    SELECT expires_at FROM access_links
      WHERE token_hash = ${hash} AND used_at IS NULL AND expires_at > ${now}
    LIMIT 1`.execute(db);
  return r.rows[0] ? new Date(r.rows[0].expires_at) : null;
}

/** A flagged row's outcome: left as written (spent link) or redacted (and sealed if still to send). */
export async function resolveLegacy(
  db: Db,
  id: string,
  outcome:
    | { state: 'spent' }
    | {
        state: 'redacted';
        text: string;
        html: string | null;
        secretsSealed: string | null;
        secretsExpireAt: Date;
        purgedAt: Date | null;
      },
): Promise<void> {
  await mailDb(db)
    .updateTable('mail_outbox')
    .set(
      outcome.state === 'spent'
        ? { legacy_secret: 'spent' }
        : {
            legacy_secret: 'redacted',
            body_text: outcome.text,
            body_html: outcome.html,
            secrets_sealed: outcome.secretsSealed,
            secrets_expire_at: outcome.secretsExpireAt,
            secrets_purged_at: outcome.purgedAt,
          },
    )
    .where('id', '=', id)
    .where('legacy_secret', '=', 'unchecked')
    .execute();
}

export async function markAttemptFailed(db: Db, id: string, error: string, next: Date | null): Promise<void> {
  await mailDb(db)
    .updateTable('mail_outbox')
    .set({ last_error: error.slice(0, 1000), ...(next ? { next_attempt_at: next } : { status: 'failed' }) })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/**
 * Staff retry: a failed (or waiting) mail is due again at `now`, with a fresh count of attempts.
 * (A mail being sent at that very moment may then go twice: delivery is at-least-once.)
 */
export async function requeue(db: Db, id: string, now: Date): Promise<OutboxRow | undefined> {
  return mailDb(db)
    .updateTable('mail_outbox')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now })
    .where('id', '=', id)
    .where('status', 'in', ['failed', 'pending'])
    .returningAll()
    .executeTakeFirst();
}

export async function countOutbox(db: Db): Promise<Record<OutboxStatus, number>> {
  const rows = await mailDb(db)
    .selectFrom('mail_outbox')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('status')
    .execute();
  const out: Record<OutboxStatus, number> = { pending: 0, sent: 0, failed: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}
