import { sql, type Kysely } from 'kysely';

// Anti-spam on port 25 (R7.1–R7.6). Only numbers are stored: an identification keeps the rule
// crossed and the statistics that crossed it, never anything of a message (R7.6).
// - spam_rules: the provider's identification rules (empty = the documented defaults);
// - spam_identifications: one row per identification, with its statistics;
// - spam_blocks: the port-25 block it caused, its rung on the ladder (R7.4), its minimum end,
//   and the unblock request and staff decision (R7.3, R7.5); at most one unfinished per VPS;
// - network_blocks may now belong to a spam block (owner_type 'spam_block'): only it lifts it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE network_blocks DROP CONSTRAINT IF EXISTS vps_net_measures_owner_type_check`.execute(
    db,
  );
  await sql`ALTER TABLE network_blocks DROP CONSTRAINT IF EXISTS network_blocks_owner_type_check`.execute(db);
  await sql`ALTER TABLE network_blocks ADD CONSTRAINT network_blocks_owner_type_check
    CHECK (owner_type IN ('sanction', 'spam_block'))`.execute(db);

  await db.schema
    .createTable('spam_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('signal', 'text', (c) => c.notNull())
    .addColumn('threshold', 'double precision', (c) => c.notNull())
    .addColumn('min_messages', 'integer')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('spam_identifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('signal', 'text', (c) => c.notNull())
    .addColumn('threshold', 'double precision', (c) => c.notNull())
    .addColumn('observed', 'double precision', (c) => c.notNull())
    .addColumn('stats', 'jsonb', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX spam_identifications_vps ON spam_identifications (vps_id, created_at DESC, id)`.execute(
    db,
  );
  await sql`CREATE INDEX spam_identifications_created ON spam_identifications (created_at DESC, id)`.execute(
    db,
  );

  await db.schema
    .createTable('spam_blocks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('identification_id', 'uuid', (c) => c.notNull().references('spam_identifications.id'))
    .addColumn('network_block_id', 'uuid', (c) => c.references('network_blocks.id'))
    .addColumn('rung', 'integer', (c) => c.notNull().check(sql`rung >= 1`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('min_until', 'timestamptz', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state IN ('in_force', 'unblock_requested', 'lifted', 'refused')`),
    )
    .addColumn('requested_at', 'timestamptz')
    .addColumn('requested_by', 'text')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('decided_by', 'text')
    .addColumn('refusal_reason', 'text')
    .addColumn('lifted_at', 'timestamptz')
    .addColumn('lifted_by', 'text')
    .execute();
  // One unfinished block per VPS: two identifications at once never stack two blocks.
  await sql`CREATE UNIQUE INDEX spam_blocks_one_open ON spam_blocks (vps_id)
    WHERE state IN ('in_force', 'unblock_requested', 'refused')`.execute(db);
  await sql`CREATE INDEX spam_blocks_vps ON spam_blocks (vps_id, created_at DESC, id)`.execute(db);
  await sql`CREATE INDEX spam_blocks_state ON spam_blocks (state, created_at DESC, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('spam_blocks').execute();
  await db.schema.dropTable('spam_identifications').execute();
  await db.schema.dropTable('spam_rules').execute();
  await sql`ALTER TABLE network_blocks DROP CONSTRAINT IF EXISTS network_blocks_owner_type_check`.execute(db);
  await sql`ALTER TABLE network_blocks ADD CONSTRAINT network_blocks_owner_type_check
    CHECK (owner_type IN ('sanction'))`.execute(db);
}
