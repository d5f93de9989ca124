import { sql, type Kysely } from 'kysely';

// Datacenters, IP pools and addresses (R3.2), hosts (R2.1, R2.2), VPSs, network measures and
// traffic counting (R3.11, R3.13).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('datacenters')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('code', 'text', (c) =>
      c
        .notNull()
        .unique()
        .check(sql`code ~ '^[A-Z0-9-]{2,16}$'`),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('city', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull().check(sql`country ~ '^[A-Z]{2}$'`))
    .addColumn('region', 'text', (c) => c.notNull().check(sql`region ~ '^[A-Z]{2}-[A-Z0-9]{1,3}$'`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ip_pools')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('datacenter_id', 'uuid', (c) => c.notNull().references('datacenters.id'))
    .addColumn('cidr', sql`cidr`, (c) => c.notNull().check(sql`family(cidr) = 4`))
    .addColumn('gateway', sql`inet`, (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('ip_pools_gateway_inside', sql`gateway << cidr`)
    .execute();
  // No two pools overlap: the database refuses it, even under concurrent creation.
  await sql`ALTER TABLE ip_pools ADD CONSTRAINT ip_pools_no_overlap EXCLUDE USING gist (cidr inet_ops WITH &&)`.execute(
    db,
  );

  await db.schema
    .createTable('hosts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('datacenter_id', 'uuid', (c) => c.notNull().references('datacenters.id'))
    .addColumn('agent', 'text', (c) =>
      c
        .notNull()
        .defaultTo('local')
        .check(sql`agent IN ('local')`),
    )
    .addColumn('cpu_cores', 'integer', (c) => c.notNull().check(sql`cpu_cores > 0`))
    .addColumn('memory_mib', 'integer', (c) => c.notNull().check(sql`memory_mib > 0`))
    .addColumn('disk_gib', 'integer', (c) => c.notNull().check(sql`disk_gib > 0`))
    .addColumn('cpu_overcommit', 'real', (c) => c.notNull().check(sql`cpu_overcommit >= 1`))
    .addColumn('ram_overcommit', 'real', (c) => c.notNull().check(sql`ram_overcommit >= 1`))
    .addColumn('state', 'text', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(sql`state IN ('active','draining','down')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('vps')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('datacenter_id', 'uuid', (c) => c.notNull().references('datacenters.id'))
    .addColumn('host_id', 'uuid', (c) => c.references('hosts.id'))
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('vcpus', 'integer', (c) => c.notNull().check(sql`vcpus > 0`))
    .addColumn('memory_mib', 'integer', (c) => c.notNull().check(sql`memory_mib >= 128`))
    .addColumn('disk_gib', 'integer', (c) => c.notNull().check(sql`disk_gib > 0`))
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_reason', 'text')
    .addColumn('state_changed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ipv4', sql`inet`, (c) => c.unique())
    .addColumn('mac', 'text', (c) => c.unique())
    // The VPS's number on its host (names its shaping class): unique per host.
    .addColumn('net_slot', 'integer', (c) => c.check(sql`net_slot BETWEEN 1 AND 65000`))
    .addColumn('billing_anchor', 'timestamptz', (c) => c.notNull())
    .addColumn('client_username', 'text', (c) => c.notNull())
    .addColumn('root_password_enc', 'text')
    // The client's initial password, sealed, until the one-time link reveals it (then erased).
    .addColumn('initial_password_enc', 'text')
    .addColumn('provision_step', 'text')
    .addColumn('provision_percent', 'integer', (c) => c.notNull().defaultTo(0))
    // Errors raised by provisioning steps (a crash of the platform is not one).
    .addColumn('provision_errors', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('access_codes_sent_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('vps_account').on('vps').column('account_id').execute();
  await db.schema.createIndex('vps_host').on('vps').column('host_id').execute();
  await sql`CREATE UNIQUE INDEX vps_host_slot ON vps (host_id, net_slot) WHERE state <> 'destroyed'`.execute(
    db,
  );

  await db.schema
    .createTable('ip_addresses')
    .addColumn('address', sql`inet`, (c) => c.primaryKey())
    .addColumn('pool_id', 'uuid', (c) => c.notNull().references('ip_pools.id'))
    .addColumn('vps_id', 'uuid', (c) => c.references('vps.id'))
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state IN ('allocated','quarantined')`))
    .addColumn('allocated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('released_at', 'timestamptz')
    .addColumn('quarantine_until', 'timestamptz')
    .addCheckConstraint(
      'ip_addresses_shape',
      sql`(state = 'allocated' AND vps_id IS NOT NULL AND released_at IS NULL)
       OR (state = 'quarantined' AND released_at IS NOT NULL AND quarantine_until IS NOT NULL)`,
    )
    .execute();
  // A VPS holds at most one address at a time.
  await sql`CREATE UNIQUE INDEX ip_addresses_one_per_vps ON ip_addresses (vps_id) WHERE state = 'allocated'`.execute(
    db,
  );

  await db.schema
    .createTable('vps_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema.createIndex('vps_events_vps').on('vps_events').columns(['vps_id', 'at']).execute();

  await db.schema
    .createTable('vps_net_measures')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('isolate','block','throttle')`))
    .addColumn('protocol', 'text', (c) => c.check(sql`protocol IN ('tcp','udp','icmp','all')`))
    .addColumn('port', 'integer', (c) => c.check(sql`port BETWEEN 1 AND 65535`))
    .addColumn('direction', 'text', (c) => c.check(sql`direction IN ('in','out','both')`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('until', 'timestamptz')
    .addColumn('lifted_at', 'timestamptz')
    .addColumn('lifted_by', 'text')
    .addCheckConstraint(
      'vps_net_measures_block_shape',
      sql`kind <> 'block' OR (protocol IS NOT NULL AND direction IS NOT NULL)`,
    )
    .execute();
  await sql`CREATE INDEX vps_net_measures_live ON vps_net_measures (vps_id) WHERE lifted_at IS NULL`.execute(
    db,
  );

  // R3.1: the one-time link that reveals a VPS's initial password (single use, 72 h).
  await db.schema
    .createTable('access_links')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('used_ip', 'text')
    .execute();

  // Things staff must look at (a provisioning that failed for good, a host down...).
  await db.schema
    .createTable('staff_alerts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('acknowledged_at', 'timestamptz')
    .addColumn('acknowledged_by', 'text')
    .execute();

  await db.schema
    .createTable('traffic_counters')
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('counter_id', 'text', (c) => c.notNull())
    .addColumn('rx_bytes', sql`numeric(20,0)`, (c) => c.notNull())
    .addColumn('tx_bytes', sql`numeric(20,0)`, (c) => c.notNull())
    .addColumn('read_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('traffic_counters_pk', ['vps_id', 'source'])
    .execute();

  await db.schema
    .createTable('traffic_usage')
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('cycle_start', 'timestamptz', (c) => c.notNull())
    .addColumn('bytes_out', sql`numeric(20,0)`, (c) => c.notNull().defaultTo(0))
    .addColumn('bytes_in', sql`numeric(20,0)`, (c) => c.notNull().defaultTo(0))
    .addColumn('flagged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('traffic_usage_pk', ['vps_id', 'cycle_start'])
    .execute();
}
