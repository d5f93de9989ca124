import { sql, type Kysely } from 'kysely';

// Traffic counting and quota (R3.13), cut-off states (R5.1, R6.4): what the control plane
// stores beyond 0002's tables.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Usage is kept per counting source (the tap, or a real switch port over SNMP); the quota
  // reads the source its host is configured for.
  await sql`ALTER TABLE traffic_usage ADD COLUMN source text NOT NULL DEFAULT 'tap' CHECK (source IN ('tap','snmp'))`.execute(
    db,
  );
  await sql`ALTER TABLE traffic_usage DROP CONSTRAINT traffic_usage_pk`.execute(db);
  await sql`ALTER TABLE traffic_usage ADD CONSTRAINT traffic_usage_pk PRIMARY KEY (vps_id, source, cycle_start)`.execute(
    db,
  );
  await sql`ALTER TABLE hosts ADD COLUMN traffic_source text NOT NULL DEFAULT 'tap' CHECK (traffic_source IN ('tap','snmp'))`.execute(
    db,
  );

  // Daily buckets (UTC days) for the client's graph: one row per VPS, source and day.
  await db.schema
    .createTable('traffic_daily')
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('bytes_out', sql`numeric(20,0)`, (c) => c.notNull().defaultTo(0))
    .addColumn('bytes_in', sql`numeric(20,0)`, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('traffic_daily_pk', ['vps_id', 'source', 'day'])
    .execute();

  // Samples not counted (impossible rate, time going backwards): kept for staff review.
  await db.schema
    .createTable('traffic_flagged')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull().check(sql`direction IN ('out','in')`))
    .addColumn('sample_kind', 'text', (c) => c.notNull())
    .addColumn('flag', 'text', (c) => c.notNull())
    .addColumn('from_at', 'timestamptz')
    .addColumn('to_at', 'timestamptz', (c) => c.notNull())
    .addColumn('raw_delta', sql`numeric(20,0)`, (c) => c.notNull())
    .addColumn('counter_id', 'text', (c) => c.notNull())
    .addColumn('reviewed_at', 'timestamptz')
    .addColumn('reviewed_by', 'text')
    .execute();
  await db.schema
    .createIndex('traffic_flagged_vps')
    .on('traffic_flagged')
    .columns(['vps_id', 'to_at'])
    .execute();

  // The second counting source: the VPS's port on a real switch, read over SNMP (IF-MIB).
  await db.schema
    .createTable('snmp_port_mappings')
    .addColumn('vps_id', 'uuid', (c) => c.primaryKey().references('vps.id'))
    .addColumn('agent_host', 'text', (c) => c.notNull())
    .addColumn('agent_port', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(161)
        .check(sql`agent_port BETWEEN 1 AND 65535`),
    )
    /** Sealed with the master key (a community is a credential). */
    .addColumn('community_enc', 'text', (c) => c.notNull())
    .addColumn('if_index', 'integer', (c) => c.notNull().check(sql`if_index > 0`))
    .addColumn('vps_outbound', 'text', (c) =>
      c
        .notNull()
        .defaultTo('ifHCInOctets')
        .check(sql`vps_outbound IN ('ifHCInOctets','ifHCOutOctets')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();

  // R3.13: one quota throttle per VPS and billing cycle (its `until` is the cycle's end), so
  // a second collection, a second process or a restart never throttles (nor emails) twice.
  await sql`CREATE UNIQUE INDEX vps_net_measures_throttle_cycle ON vps_net_measures (vps_id, until) WHERE kind = 'throttle'`.execute(
    db,
  );
}
