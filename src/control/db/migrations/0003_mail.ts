import { sql, type Kysely } from 'kysely';

// Mail module (R3.1 and every client notice): completes the foundation's outbox and
// adds the hash-chained, append-only notices table.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The outbox: why each mail is sent, the relay's answer, and a Message-ID fixed at enqueue
  // (unique: a resend after a crash carries the same one and is recognisable).
  await sql`
    ALTER TABLE mail_outbox ADD COLUMN reason text NOT NULL DEFAULT '';
    ALTER TABLE mail_outbox ADD COLUMN smtp_response text;
    ALTER TABLE mail_outbox ALTER COLUMN message_id SET NOT NULL;
    ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_language CHECK (language IN ('fr','en'));
    CREATE UNIQUE INDEX mail_outbox_message_id ON mail_outbox (message_id);
    CREATE INDEX mail_outbox_status_created ON mail_outbox (status, created_at DESC);
  `.execute(db);

  await db.schema
    .createTable('mail_notices')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('account_id', 'uuid')
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull().check(sql`language IN ('fr','en')`))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('outbox_id', 'uuid', (c) => c.notNull())
    .addColumn('content_sha256', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('mail_notices_account_at')
    .on('mail_notices')
    .columns(['account_id', 'at'])
    .execute();
  await db.schema.createIndex('mail_notices_at').on('mail_notices').column('at').execute();
  // Append-only, like the audit log: the database refuses UPDATE and DELETE (and TRUNCATE).
  // Tests that tamper with a row disable this trigger first, as an attacker with DDL rights could.
  await sql`
    CREATE FUNCTION mail_notices_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'mail_notices is append-only'; END $$;
    CREATE TRIGGER mail_notices_no_change BEFORE UPDATE OR DELETE ON mail_notices
      FOR EACH ROW EXECUTE FUNCTION mail_notices_append_only();
    CREATE TRIGGER mail_notices_no_truncate BEFORE TRUNCATE ON mail_notices
      FOR EACH STATEMENT EXECUTE FUNCTION mail_notices_append_only();
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('0003_mail cannot be reverted');
}
