// The mail service: how every other module tells a client something (the contract's "the
// client is told": an email, French by default, English available, with a tamper-evident
// record of what was sent, when and why; R3.1 access codes are one of them). Templates,
// rendering, recipients and formats are `src/control/mail/`, which imports no service.
//
//   send(db, msg)  renders a registered template in the client's language, writes the outbox
//                  row, its notice and a `mail.deliver` job with `db` (the caller's
//                  transaction: no mail for a rolled-back fact, no fact without its mail); the
//                  job runs after the commit. A sweep on every scheduler tick picks up anything
//                  missed (retries due, mail queued while the process was down).
//   deliverDue(now) sends what is due through the SMTP relay (nodemailer); none configured:
//                  mail stays pending, readable in the console. Retries with exponential
//                  backoff on the injected clock, then `failed`; staff can retry.
//
// Delivery is at-least-once: a row is claimed (attempt counted, lease set) before the SMTP
// conversation, and marked sent after the relay accepted it. A crash between the relay's
// "250" and that mark sends the mail again when the lease ends. We accept that over losing
// a notice (at-most-once); the Message-ID is fixed at enqueue, so a resend carries the same
// one and the recipient's mail system (and anyone reading the logs) recognises it.
//
// One-time secrets (R3.1, R6.1): the outbox never holds a usable link. A template names its
// secret variables (render.ts `secretVars`); the row keeps the redacted copy (each link a
// ⟦withheld:name⟧ marker) — what staff read in the console, what the notice's content hash
// covers — and the links sealed with the master key in `secrets_sealed`, bound to the row's id
// and recipient. Delivery opens them and fills the markers into the message it hands to the
// relay; the relay's acceptance erases them in the same statement that marks the mail sent.
// Links that expire first are erased by the sweep, and such a mail fails instead of carrying a
// dead link. So a usable link exists in clear only in the client's mailbox.
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { HOUR, MINUTE } from '../../domain/clock.ts';
import { conflict, invalidData } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import {
  claimDue,
  countOutbox,
  failUnsendable,
  getOutbox,
  insertOutbox,
  legacyUnchecked,
  listOutbox,
  liveTokenExpiry,
  markAttemptFailed,
  markSent,
  purgeExpiredSecrets,
  requeue,
  resolveLegacy,
  type OutboxRow,
  type OutboxStatus,
} from '../repositories/mail.ts';
import { tokenHash } from '../security/tokens.ts';
import {
  appendNotice,
  contentHash,
  getNotice,
  listNotices,
  exportNotices,
  verifyNoticeChain,
  type NoticeFilter,
  type NoticeWithDelivery,
} from '../repositories/notices.ts';
import type { Scope } from '../repositories/scope.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';
import {
  fillSecrets,
  markersIn,
  renderForStorage,
  renderTemplate,
  secretMarker,
  TemplateRegistry,
  type MailLanguage,
  type MailTemplate,
  type MailVars,
  type RenderedMail,
} from '../mail/render.ts';
import { templates } from '../mail/templates/index.ts';
import type { PageRequest } from '../repositories/pagination.ts';

/** An outbox row and a notice with its delivery, as routes show them. */
export type { NoticeWithDelivery, OutboxRow };

export type { MailLanguage, MailTemplate, MailVars, RenderedMail } from '../mail/render.ts';

/** Attempts before a mail is `failed` (then only a staff retry sends it). */
export const MAX_ATTEMPTS = 10;
/** How long a claimed row is held by the worker sending it; a dead worker's claim ends then. */
export const CLAIM_LEASE_MS = 5 * MINUTE;
// One row per claim: a claim's lease covers one SMTP conversation (bounded by the timeouts
// below), never a queue of them.
const BATCH = 1;
/** The pg-boss job that delivers what is due (sent with each mail, in its transaction). */
export const MAIL_DELIVER_JOB = 'mail.deliver';

/** Wait after the n-th failed attempt (1-based): 1 min, 2, 4, … capped at 1 h. */
export function retryDelayMs(attempts: number): number {
  return Math.min(HOUR, MINUTE * 2 ** Math.max(0, attempts - 1));
}

export interface MailMessage {
  to: string;
  /** A registered template's name (src/control/mail/templates/). */
  template: string;
  language: MailLanguage;
  vars: MailVars;
  /** The client account told (its notices); null for mail to no account. */
  accountId: string | null;
  /** Why: the clause and the fact, e.g. 'R3.1 access codes'. Recorded in the notice. */
  reason: string;
  /**
   * Required when the template has secret variables: when its links stop working. The sealed
   * secrets are erased then if the mail has not been delivered.
   */
  secretsExpireAt?: Date;
  /** Ticket mails (R4.3): where replies go (the ticket's signed address) and the thread they belong to. */
  replyTo?: string;
  inReplyTo?: string;
}

export interface DeliveryReport {
  sent: number;
  retrying: number;
  failed: number;
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/** The domain of the Message-IDs: the sender's. */
export function messageIdDomain(mailFrom: string): string {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(mailFrom.trim());
  return m ? m[1]!.toLowerCase() : 'infogere.invalid';
}

/** What is sealed for a mail: its secrets, bound to the row and recipient they belong to. */
interface SealedSecrets {
  outboxId: string;
  to: string;
  secrets: Record<string, string>;
}

/** The one-time links in a mail written before 0012 (per template: its secret variable, the link's shape). */
const LEGACY_LINKS: Record<string, { variable: string; link: RegExp }> = {
  'clients.signup_verify': { variable: 'verifyUrl', link: /\S+\/verify\?token=([A-Za-z0-9_%-]+)/ },
  'vps.access_codes': { variable: 'revealUrl', link: /\S+\/access\?token=([A-Za-z0-9_%-]+)/ },
};

export function createMailService(ctx: ServiceContext, audit: AuditService) {
  const registry = new TemplateRegistry();
  for (const t of templates) registry.register(t);
  const idDomain = messageIdDomain(ctx.config.mailFrom);
  let transporter: ReturnType<typeof nodemailer.createTransport> | undefined;

  function transport() {
    // The URL may hold the relay's credentials: it is never logged.
    transporter ??= nodemailer.createTransport({
      url: ctx.config.smtpUrl!,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 60_000,
    });
    return transporter;
  }

  async function enqueue(db: Db, msg: MailMessage): Promise<{ outboxId: string; messageId: string }> {
    const t = registry.get(msg.template);
    if (msg.language !== 'fr' && msg.language !== 'en')
      throw invalidData('mail.language', 'Language must be fr or en');
    const { redacted: rendered, secrets } = renderForStorage(t, msg.language, msg.vars);
    const to = msg.to.trim();
    if (!EMAIL.test(to) || to.length > 254)
      throw invalidData('mail.invalid_recipient', `Not an email address: ${to}`);
    if (!msg.reason.trim()) throw invalidData('mail.reason_required', 'Every mail states why it is sent');
    const hasSecrets = Object.keys(secrets).length > 0;
    if (hasSecrets && !msg.secretsExpireAt)
      throw new Error(
        `mail template ${t.name} carries one-time secrets: the sender must give secretsExpireAt`,
      );
    const id = randomUUID();
    const messageId = `<${id}@${idDomain}>`;
    const now = ctx.clock.now();
    const sealed: SealedSecrets = { outboxId: id, to, secrets };
    await insertOutbox(db, {
      secretsSealed: hasSecrets ? ctx.secrets.seal(JSON.stringify(sealed)) : null,
      secretsExpireAt: hasSecrets ? msg.secretsExpireAt! : null,
      id,
      createdAt: now,
      to,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      template: t.name,
      language: msg.language,
      accountId: msg.accountId,
      reason: msg.reason,
      messageId,
      ...(msg.replyTo ? { replyTo: msg.replyTo } : {}),
      ...(msg.inReplyTo ? { inReplyTo: msg.inReplyTo } : {}),
    });
    await appendNotice(db, {
      at: now,
      accountId: msg.accountId,
      recipient: to,
      template: t.name,
      language: msg.language,
      subject: rendered.subject,
      messageId,
      reason: msg.reason,
      outboxId: id,
      contentSha256: contentHash(rendered),
    });
    return { outboxId: id, messageId };
  }

  /** The secrets sealed for a row, checked to be this row's (a sealed value copied onto another row is refused). */
  function openSecrets(row: OutboxRow): Record<string, string> {
    // Fixed messages only: an error that quoted the opened text would put the link in
    // last_error and the logs.
    let s: SealedSecrets;
    try {
      s = JSON.parse(ctx.secrets.open(row.secrets_sealed!)) as SealedSecrets;
    } catch {
      throw new Error('the sealed secrets of this mail do not open (altered, or another key)');
    }
    if (s.outboxId !== row.id || s.to !== row.to_address)
      throw new Error('the sealed secrets of this mail belong to another mail');
    return s.secrets;
  }

  /**
   * The message the relay gets for a row: the stored copy with its secrets put back. Null when
   * the mail needs secrets that are gone (expired before delivery).
   */
  function composeForRelay(row: OutboxRow, now: Date): RenderedMail | null {
    const stored = { subject: row.subject, text: row.body_text, html: row.body_html };
    if (markersIn(stored).length === 0) return stored;
    if (!row.secrets_sealed || (row.secrets_expire_at && new Date(row.secrets_expire_at) <= now)) return null;
    return fillSecrets(stored, openSecrets(row));
  }

  async function deliverOne(row: OutboxRow, now: Date): Promise<keyof DeliveryReport> {
    let message: RenderedMail | null;
    try {
      message = composeForRelay(row, now);
    } catch (e) {
      // Sealed secrets that do not open, or belong to another mail (a database tampered with):
      // this mail can never go out as written; it fails for good, the others go on.
      const error = `mail.secret_unreadable: ${(e as Error).message}`;
      await failUnsendable(ctx.db, row.id, ctx.clock.now(), error);
      ctx.log.error(
        { outboxId: row.id, template: row.template, error },
        'mail not sent: its one-time link is unreadable',
      );
      return 'failed';
    }
    if (!message) {
      const error = 'mail.secret_expired: its one-time link expired before delivery; nothing was sent';
      await failUnsendable(ctx.db, row.id, ctx.clock.now(), error);
      ctx.log.warn({ outboxId: row.id, template: row.template }, 'mail not sent: its one-time link expired');
      return 'failed';
    }
    try {
      const info = (await transport().sendMail({
        from: ctx.config.mailFrom,
        to: row.to_address,
        subject: message.subject,
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
        messageId: row.message_id!,
        date: new Date(row.created_at),
        headers: { 'Content-Language': row.language, 'X-Infogere-Template': row.template },
        ...(row.reply_to ? { replyTo: row.reply_to } : {}),
        ...(row.in_reply_to ? { inReplyTo: row.in_reply_to, references: row.in_reply_to } : {}),
      })) as { response?: string };
      await markSent(ctx.db, row.id, ctx.clock.now(), info.response ?? '');
      ctx.log.info(
        { outboxId: row.id, messageId: row.message_id, template: row.template },
        'mail accepted by the relay',
      );
      return 'sent';
    } catch (e) {
      const error = (e as Error).message || String(e);
      const giveUp = row.attempts >= MAX_ATTEMPTS;
      await markAttemptFailed(
        ctx.db,
        row.id,
        error,
        giveUp ? null : new Date(now.getTime() + retryDelayMs(row.attempts)),
      );
      ctx.log.warn(
        { outboxId: row.id, attempts: row.attempts, giveUp, error },
        'mail not accepted by the relay',
      );
      return giveUp ? 'failed' : 'retrying';
    }
  }

  /**
   * Sends every pending mail due at `now`. No relay configured: nothing leaves, nothing is
   * counted. Either way, secrets expired at `now` are erased first.
   */
  async function deliverDue(now: Date = ctx.clock.now()): Promise<DeliveryReport> {
    const report: DeliveryReport = { sent: 0, retrying: 0, failed: 0 };
    const purged = await purgeExpiredSecrets(ctx.db, now);
    if (purged) ctx.log.info({ mails: purged }, 'expired one-time links erased from the outbox');
    if (!ctx.config.smtpUrl) return report;
    for (;;) {
      const batch = await claimDue(ctx.db, now, new Date(now.getTime() + CLAIM_LEASE_MS), BATCH);
      if (batch.length === 0) return report;
      for (const row of batch) report[await deliverOne(row, now)]++;
    }
  }

  /**
   * Mails written before 0012 with a link in clear (flagged by the migration): a link that no
   * longer works is left as written (its notice still verifies); a usable one is replaced by its
   * marker and, while the mail is still to be sent, sealed until the link's expiry. Run at start.
   */
  async function sealLegacySecrets(): Promise<{ spent: number; redacted: number }> {
    const out = { spent: 0, redacted: 0 };
    for (;;) {
      const rows = await legacyUnchecked(ctx.db, 100);
      if (rows.length === 0) return out;
      const now = ctx.clock.now();
      for (const row of rows) {
        const shape = LEGACY_LINKS[row.template];
        const found = shape ? shape.link.exec(row.body_text) : null;
        const expiry = found
          ? await liveTokenExpiry(ctx.db, tokenHash(decodeURIComponent(found[1]!)), now)
          : null;
        if (!shape || !found || !expiry) {
          await resolveLegacy(ctx.db, row.id, { state: 'spent' });
          out.spent++;
          continue;
        }
        const link = found[0];
        const marker = secretMarker(shape.variable);
        const toSend = row.status !== 'sent';
        const sealed: SealedSecrets = {
          outboxId: row.id,
          to: row.to_address,
          secrets: { [shape.variable]: link },
        };
        await resolveLegacy(ctx.db, row.id, {
          state: 'redacted',
          text: row.body_text.split(link).join(marker),
          html: row.body_html === null ? null : row.body_html.split(link).join(marker),
          secretsSealed: toSend ? ctx.secrets.seal(JSON.stringify(sealed)) : null,
          secretsExpireAt: expiry,
          purgedAt: toSend ? null : now,
        });
        out.redacted++;
      }
    }
  }

  async function send(db: Db, msg: MailMessage): Promise<{ outboxId: string; messageId: string }> {
    if (!db.isTransaction) return db.transaction().execute((tx) => send(tx, msg));
    const r = await enqueue(db, msg);
    // The delivery job is inserted in the same transaction: it exists iff the mail does, and
    // it runs after the commit.
    await ctx.queue.send(MAIL_DELIVER_JOB, { outboxId: r.outboxId }, { db });
    return r;
  }

  return {
    /**
     * Queues a mail in `db`'s transaction (see the module comment). It takes the notices
     * chain's lock until that transaction ends: call it last in the transaction, after the
     * row locks the fact needs, and keep the transaction short.
     */
    send,
    registerTemplate(t: MailTemplate): void {
      registry.register(t);
    },
    templates(): MailTemplate[] {
      return registry.all();
    },
    /** Renders without sending (golden tests, previews). */
    render(template: string, language: MailLanguage, vars: MailVars): RenderedMail {
      return renderTemplate(registry.get(template), language, vars);
    },
    deliverDue,
    /**
     * The message the relay would get for a mail now, one-time links included (delivery's own
     * composition; tests read links through it). Never exposed by a route.
     */
    async deliverable(id: string): Promise<RenderedMail> {
      const m = composeForRelay(await getOutbox(ctx.db, id), ctx.clock.now());
      if (!m) throw conflict('mail.secret_gone', 'The one-time link of this mail is no longer held');
      return m;
    },
    sealLegacySecrets,
    /** Staff: a failed (or waiting) mail is sent again now, with a fresh count of attempts. */
    async retry(id: string, actor: AuditActor): Promise<OutboxRow> {
      const current = await getOutbox(ctx.db, id);
      let sendable = true;
      try {
        sendable = current.status === 'sent' || composeForRelay(current, ctx.clock.now()) !== null;
      } catch {
        throw conflict(
          'mail.secret_unreadable',
          'The one-time link of this mail cannot be read: it cannot be sent',
        );
      }
      if (!sendable)
        throw conflict(
          'mail.secret_gone',
          'The one-time link of this mail is no longer held (expired, or unreadable, then erased): sending it again would be useless; the client can ask for a new one',
        );
      const row = await requeue(ctx.db, id, ctx.clock.now());
      if (!row) {
        const existing = await getOutbox(ctx.db, id);
        throw conflict('mail.already_sent', 'This mail was already accepted by the relay', {
          status: existing.status,
        });
      }
      await audit.record(
        actor,
        'mail.retry',
        { type: 'mail', id },
        { to: row.to_address, template: row.template },
      );
      await ctx.queue.send(MAIL_DELIVER_JOB, { outboxId: id });
      return row;
    },
    outbox(filter: { status?: OutboxStatus; accountId?: string }, page: PageRequest) {
      return listOutbox(ctx.db, filter, page);
    },
    /** One mail (code and tests; a staff read goes through readOutboxItem). */
    outboxItem(id: string) {
      return getOutbox(ctx.db, id);
    },
    /** Staff: one mail with its (redacted) text; each read is audited (who read which client's mail). */
    async readOutboxItem(id: string, actor: AuditActor): Promise<OutboxRow> {
      const row = await getOutbox(ctx.db, id);
      await audit.record(
        actor,
        'mail.read',
        { type: 'mail', id },
        { to: row.to_address, template: row.template, accountId: row.account_id },
      );
      return row;
    },
    outboxCounts() {
      return countOutbox(ctx.db);
    },
    notices(scope: Scope, filter: NoticeFilter, page: PageRequest) {
      return listNotices(ctx.db, scope, filter, page);
    },
    /** Every notice of the filter, in chunks (the CSV export). */
    exportNotices(scope: Scope, filter: NoticeFilter) {
      return exportNotices(ctx.db, scope, filter);
    },
    notice(scope: Scope, id: string) {
      return getNotice(ctx.db, scope, id);
    },
    verifyNotices() {
      return verifyNoticeChain(ctx.db);
    },
    /** Whether a relay is configured (the console says so when not). */
    relayConfigured(): boolean {
      return Boolean(ctx.config.smtpUrl);
    },
    /** Closes the relay connection (the platform's stop). */
    close(): void {
      transporter?.close();
    },
  };
}

export type MailService = ReturnType<typeof createMailService>;
