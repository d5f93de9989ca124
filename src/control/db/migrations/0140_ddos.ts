import { sql, type Kysely } from 'kysely';

// DDoS mitigations (R9.1, R9.3, R9.4, R9.6; docs/ddos.md): one row per automatic mitigation,
// with the attack that started it (signature, peaks) and its stored end date (`ends_at` =
// max(start + 26 h, last attack second + quiet period)): restarts keep it, nobody ends it before.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ddos_mitigations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id').onDelete('cascade'))
    .addColumn('host_id', 'uuid', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('automatic', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('tier', 'smallint', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`tier IN (1, 2)`),
    )
    .addColumn('signature', 'jsonb', (c) => c.notNull())
    .addColumn('peak_pps', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('peak_bps', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_attack_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .addColumn('dropped_packets', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('top_sources', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addCheckConstraint('ddos_mitigations_end_after_start', sql`ends_at >= started_at`)
    .execute();
  // one mitigation in force per VPS: a second detection extends it instead
  await sql`CREATE UNIQUE INDEX ddos_mitigations_active ON ddos_mitigations (vps_id) WHERE ended_at IS NULL`.execute(
    db,
  );
  await db.schema
    .createIndex('ddos_mitigations_started')
    .on('ddos_mitigations')
    .columns(['started_at', 'id'])
    .execute();
  await db.schema.createIndex('ddos_mitigations_host').on('ddos_mitigations').column('host_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ddos_mitigations').execute();
}
