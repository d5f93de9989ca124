import { sql, type Kysely } from 'kysely';

// Auth hardening (docs/security.md):
// - a login attempt is recorded before the password is checked (success NULL = in flight, it
//   counts as a failure until decided), so concurrent guesses cannot all pass the throttle;
// - the owner of an account that sees repeated failed logins is mailed once per window
//   (users.login_alert_at, claimed with one conditional UPDATE);
// - API tokens expire and carry a role no wider than their owner's.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE login_attempts ALTER COLUMN success DROP NOT NULL`.execute(db);

  await db.schema.alterTable('users').addColumn('login_alert_at', 'timestamptz').execute();

  await db.schema.alterTable('api_tokens').addColumn('expires_at', 'timestamptz').execute();
  await db.schema.alterTable('api_tokens').addColumn('role', 'text').execute();
  // Tokens made before expiry existed: 90 days from their creation, but at least 14 days from
  // the upgrade so their owners can replace them; their role is their owner's.
  await sql`
    UPDATE api_tokens t
       SET expires_at = greatest(t.created_at + interval '90 days', now() + interval '14 days'),
           role = u.role
      FROM users u
     WHERE u.id = t.user_id`.execute(db);
  await sql`ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL`.execute(db);
  await sql`ALTER TABLE api_tokens ALTER COLUMN role SET NOT NULL`.execute(db);
  await sql`ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role CHECK (role IN ('admin','support','client'))`.execute(
    db,
  );
}
