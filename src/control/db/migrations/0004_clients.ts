import { sql, type Kysely } from 'kysely';

// Clients module (R6.1): sign-up and email verification, identity data, proof
// requests and their documents, account suspensions.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('client_identities')
    .addColumn('account_id', 'uuid', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('organisation', 'text')
    .addColumn('address_line1', 'text', (c) => c.notNull())
    .addColumn('address_line2', 'text')
    .addColumn('postal_code', 'text', (c) => c.notNull())
    .addColumn('city', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull().check(sql`country ~ '^[A-Z]{2}$'`))
    .addColumn('phone', 'text', (c) => c.notNull().check(sql`phone ~ '^\\+[1-9][0-9]{3,14}$'`))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('client_signups')
    .addColumn('account_id', 'uuid', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('verified_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('email_verifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('email_verifications_user')
    .on('email_verifications')
    .columns(['user_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('signup_attempts')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('signup_attempts_ip').on('signup_attempts').columns(['ip', 'at']).execute();

  await db.schema
    .createTable('identity_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind IN ('identity','sites','identity_and_sites')`),
    )
    .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('requested_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('terms_version', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c
        .notNull()
        .defaultTo('open')
        .check(sql`state IN ('open','approved','cancelled')`),
    )
    .addColumn('last_decision', 'text', (c) =>
      c.check(sql`last_decision IN ('approved','rejected','cancelled')`),
    )
    .addColumn('decided_at', 'timestamptz')
    .addColumn('decided_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('decision_reason', 'text')
    .addCheckConstraint('identity_requests_due_after', sql`due_at > requested_at`)
    .execute();
  await db.schema
    .createIndex('identity_requests_account')
    .on('identity_requests')
    .columns(['account_id', 'requested_at'])
    .execute();
  await sql`CREATE INDEX identity_requests_open_due ON identity_requests (due_at) WHERE state = 'open'`.execute(
    db,
  );

  await db.schema
    .createTable('identity_documents')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('request_id', 'uuid', (c) =>
      c.notNull().references('identity_requests.id').onDelete('cascade'),
    )
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) =>
      c.notNull().check(sql`content_type IN ('application/pdf','image/jpeg','image/png')`),
    )
    .addColumn('size_bytes', 'integer', (c) => c.notNull().check(sql`size_bytes > 0`))
    .addColumn('sha256', 'text', (c) => c.notNull().check(sql`sha256 ~ '^[0-9a-f]{64}$'`))
    .addColumn('storage_path', 'text', (c) => c.notNull().unique())
    .addColumn('uploaded_by', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('uploaded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('submitted')
        .check(sql`status IN ('submitted','accepted','rejected')`),
    )
    .execute();
  await db.schema
    .createIndex('identity_documents_request')
    .on('identity_documents')
    .column('request_id')
    .execute();

  await db.schema
    .createTable('account_suspensions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('cause', 'text', (c) => c.notNull().check(sql`cause ~ '^[a-z][a-z0-9_]*$'`))
    .addColumn('reference_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('lifted_at', 'timestamptz')
    .addColumn('lifted_by', 'text')
    .addColumn('lift_reason', 'text')
    .addCheckConstraint('account_suspensions_lift', sql`lifted_at IS NULL OR lifted_at >= started_at`)
    .execute();
  // One active suspension per cause and reference: suspending twice for the same fact is a no-op.
  await sql`CREATE UNIQUE INDEX account_suspensions_one_active ON account_suspensions (account_id, cause, coalesce(reference_id, '')) WHERE lifted_at IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX account_suspensions_active ON account_suspensions (account_id) WHERE lifted_at IS NULL`.execute(
    db,
  );
}

export async function down(): Promise<void> {
  throw new Error('0004_clients cannot be reverted');
}
