import { sql, type Kysely } from 'kysely';

// Security review (roles, owned blocks, suspension):
// - a network measure may belong to an owner (a sanction, R5.1/R12.5, itself perhaps ordered by an
//   authority notice, R12.6): only its owner lifts it, so the host never loses a rule the sanction
//   still says is in force. Existing rows get their owner from the sanctions' `applied` lists.
// - a VPS-level suspension is recorded apart from the power state (`vps_holds`): a VPS suspended
//   while stopped stays suspended, and no one starts it until the hold is lifted by its owner.
// - uploads counted per object (R6.1 documents are rows already): sanction evidence and notice scans.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('vps_net_measures')
    .addColumn('owner_type', 'text', (c) => c.check(sql`owner_type IN ('sanction')`))
    .addColumn('owner_id', 'uuid')
    .execute();
  await sql`ALTER TABLE vps_net_measures ADD CONSTRAINT vps_net_measures_owner_both
    CHECK ((owner_type IS NULL) = (owner_id IS NULL))`.execute(db);
  await sql`UPDATE vps_net_measures n SET owner_type = 'sanction', owner_id = m.id
    FROM measures m
    WHERE m.applied -> 'netMeasureIds' @> to_jsonb(n.id::text)`.execute(db);

  await db.schema
    .createTable('vps_holds')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    // No foreign key: a sanction records its hold before its own row is written (it is applied first).
    .addColumn('owner_type', 'text', (c) => c.notNull().check(sql`owner_type IN ('sanction','termination')`))
    .addColumn('owner_id', 'uuid', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('lifted_at', 'timestamptz')
    .addColumn('lifted_by', 'text')
    .execute();
  await sql`CREATE UNIQUE INDEX vps_holds_one_per_owner ON vps_holds (vps_id, owner_type, owner_id)`.execute(
    db,
  );
  await sql`CREATE INDEX vps_holds_live ON vps_holds (vps_id) WHERE lifted_at IS NULL`.execute(db);
  // Suspensions in force today on a VPS (stopped or paused) become holds.
  await sql`INSERT INTO vps_holds (vps_id, owner_type, owner_id, reason, created_by, created_at)
    SELECT m.vps_id, 'sanction', m.id, m.reason, m.applied_by, m.applied_at
    FROM measures m
    WHERE m.rung = 'suspension' AND m.vps_id IS NOT NULL AND m.lifted_at IS NULL
    ON CONFLICT DO NOTHING`.execute(db);

  await db.schema
    .alterTable('measures')
    .addColumn('evidence_uploads', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`UPDATE measures SET evidence_uploads = 1 WHERE evidence_path IS NOT NULL`.execute(db);
  await db.schema
    .alterTable('authority_notices')
    .addColumn('scan_uploads', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`UPDATE authority_notices SET scan_uploads = 1 WHERE scan_path IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('authority_notices').dropColumn('scan_uploads').execute();
  await db.schema.alterTable('measures').dropColumn('evidence_uploads').execute();
  await db.schema.dropTable('vps_holds').execute();
  await sql`ALTER TABLE vps_net_measures DROP CONSTRAINT vps_net_measures_owner_both`.execute(db);
  await db.schema.alterTable('vps_net_measures').dropColumn('owner_id').dropColumn('owner_type').execute();
}
