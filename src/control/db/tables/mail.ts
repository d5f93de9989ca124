// Tables of the mail module: the notices chain (access codes by email, R3.1; the
// contract's "every notice" rule: what was sent to a client, when and why, tamper-evident),
// and the columns the mail module adds to the foundation's `mail_outbox` (0003_mail).
import type { Generated } from 'kysely';
import type { Timestamp } from '../column-types.ts';

/**
 * One row per email the platform sends: appended in the same transaction as the outbox row
 * (so a rolled-back fact leaves neither), append-only (trigger) and hash-chained (sha256 over
 * the previous hash and the canonical JSON of the facts below). Delivery status is not a
 * chained fact: it changes later and lives on the outbox row.
 */
export interface MailNoticesTable {
  id: Generated<string>;
  at: Timestamp;
  /** The client account told; null for mail to no account (e.g. staff). No foreign key: proof outlives the account. */
  account_id: string | null;
  recipient: string;
  template: string;
  language: 'fr' | 'en';
  subject: string;
  /** The Message-ID header, fixed at enqueue: a resend carries the same one. */
  message_id: string;
  /** Why the client was told: a clause and a fact ("R3.1 access codes", …). */
  reason: string;
  outbox_id: string;
  /** sha256 of the canonical JSON of {subject, text, html}: proves what was sent; the outbox keeps the text. */
  content_sha256: string;
  prev_hash: string;
  hash: string;
}

/** Columns 0003_mail adds to `mail_outbox` (the foundation's table, typed in schema.ts). */
export interface MailOutboxExtraColumns {
  /** Why the mail is sent (copied into the notice). */
  reason: Generated<string>;
  /** The relay's answer when it accepted the message ("250 OK: queued as …"). */
  smtp_response: string | null;
  // 0012_mail_secrets: the bodies above are the redacted copy; one-time links live only here.
  /**
   * The mail's one-time secrets (its links), sealed with the master key together with the
   * outbox id and recipient they belong to; NULL when the mail has none, and set to NULL once
   * the relay accepted the mail or the secrets expired.
   */
  secrets_sealed: string | null;
  /** Set iff the mail carries one-time secrets: when they stop being usable (and are purged). */
  secrets_expire_at: Timestamp | null;
  /** When `secrets_sealed` was emptied (delivered or expired). */
  secrets_purged_at: Timestamp | null;
  /**
   * Rows written before 0012: `unchecked` (flagged by the migration), then `spent` (its link was
   * no longer usable: left as written) or `redacted` (a usable link was removed, sealed while the
   * mail was still to be sent; its content can no longer be rechecked against its notice).
   */
  legacy_secret: 'unchecked' | 'spent' | 'redacted' | null;
  // 0100_tickets: ticket mails thread (R4.3): replies go to the ticket's signed address.
  /** Reply-To header (a ticket's signed reply address), or null. */
  reply_to: Generated<string | null>;
  /** In-Reply-To and References header (the thread's first Message-ID), or null. */
  in_reply_to: Generated<string | null>;
}

export interface MailTables {
  mail_notices: MailNoticesTable;
}
