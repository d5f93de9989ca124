import { sql, type Kysely } from 'kysely';

// One-time secrets in mail (R3.1 access codes, R6.1 sign-up verification): the outbox keeps a
// redacted copy of each mail, each one-time link replaced by a marker; the links themselves are
// sealed (SecretBox, master key) in `secrets_sealed` until the relay accepts the mail or the
// links expire, then set to NULL. See src/control/services/mail.ts.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE mail_outbox ADD COLUMN secrets_sealed text;
    ALTER TABLE mail_outbox ADD COLUMN secrets_expire_at timestamptz;
    ALTER TABLE mail_outbox ADD COLUMN secrets_purged_at timestamptz;
    ALTER TABLE mail_outbox ADD COLUMN legacy_secret text
      CHECK (legacy_secret IN ('unchecked','spent','redacted'));
    -- A mail that carries secrets says until when; a sealed secret always has an end.
    ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_secrets_expire
      CHECK (secrets_sealed IS NULL OR secrets_expire_at IS NOT NULL);
    CREATE INDEX mail_outbox_secrets_sealed ON mail_outbox (secrets_expire_at) WHERE secrets_sealed IS NOT NULL;
    CREATE INDEX mail_outbox_legacy_unchecked ON mail_outbox (created_at) WHERE legacy_secret = 'unchecked';
  `.execute(db);
  await flagLegacySecretMails(db);
}

/**
 * Mails written before this migration by the two templates that carry one-time links hold the
 * link in clear: flag them. The platform's start (`mail.sealLegacySecrets`, which has the master
 * key and the clock) then redacts each link still usable and seals it if the mail is still to be
 * sent; a spent link (used or expired) is left as it was, so the notice's content hash still
 * verifies.
 */
export async function flagLegacySecretMails(db: Kysely<unknown>): Promise<void> {
  await sql`
    UPDATE mail_outbox SET legacy_secret = 'unchecked'
    WHERE template IN ('clients.signup_verify', 'vps.access_codes')
      AND legacy_secret IS NULL AND secrets_expire_at IS NULL
      AND body_text LIKE '%?token=%'
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('0012_mail_secrets cannot be reverted');
}
