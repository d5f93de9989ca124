import { sql, type Kysely } from 'kysely';

// Backups (R3.6, R3.7, R12.4): targets per datacenter (their endpoints sealed), one restic
// repository per VPS with its own sealed key, every backup run with its figures, restores with
// the client's monthly count. At most one backup running per VPS and one restore in flight per
// VPS (partial unique indexes): never two at once, even from two workers.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('backup_targets')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('rest','sftp')`))
    .addColumn('datacenter_id', 'uuid', (c) => c.notNull().references('datacenters.id'))
    .addColumn('append_url_sealed', 'text', (c) => c.notNull())
    .addColumn('admin_url_sealed', 'text', (c) => c.notNull())
    .addColumn('display_url', 'text', (c) => c.notNull())
    .addColumn('max_concurrent', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(4)
        .check(sql`max_concurrent > 0`),
    )
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('backup_repos')
    .addColumn('vps_id', 'uuid', (c) => c.primaryKey().references('vps.id'))
    .addColumn('target_id', 'uuid', (c) => c.notNull().references('backup_targets.id'))
    .addColumn('path_token', 'text', (c) => c.notNull().unique())
    .addColumn('key_sealed', 'text')
    .addColumn('initialized_at', 'timestamptz')
    .addColumn('last_check_at', 'timestamptz')
    .addColumn('last_check_ok', 'boolean')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await db.schema
    .createTable('backups')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('target_id', 'uuid', (c) => c.notNull().references('backup_targets.id'))
    .addColumn('host_id', 'uuid', (c) => c.references('hosts.id'))
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state IN ('running','succeeded','failed')`))
    .addColumn('trigger', 'text', (c) => c.notNull().check(sql`trigger IN ('schedule','staff')`))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addColumn('snapshot_id', 'text')
    .addColumn('consistency', 'text')
    .addColumn('crash_reason', 'text')
    .addColumn('freeze_ms', 'integer')
    .addColumn('bytes_read', 'int8')
    .addColumn('bytes_added', 'int8')
    .addColumn('duration_ms', 'integer')
    .addColumn('sha256', 'text')
    .addColumn('error', 'text')
    .addColumn('forgotten_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('backups_one_running')
    .on('backups')
    .column('vps_id')
    .unique()
    .where(sql.ref('state'), '=', 'running')
    .execute();
  await db.schema.createIndex('backups_by_vps').on('backups').columns(['vps_id', 'started_at']).execute();
  await db.schema
    .createTable('backup_restores')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('backup_id', 'uuid', (c) => c.notNull().references('backups.id'))
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('counted', 'boolean', (c) => c.notNull())
    .addColumn('paris_month', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state IN ('queued','running','done','failed')`))
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('result', 'jsonb')
    .addColumn('error', 'text')
    .execute();
  await db.schema
    .createIndex('backup_restores_one_in_flight')
    .on('backup_restores')
    .column('vps_id')
    .unique()
    .where(sql.ref('state'), 'in', ['queued', 'running'])
    .execute();
  await db.schema
    .createIndex('backup_restores_by_vps_month')
    .on('backup_restores')
    .columns(['vps_id', 'paris_month'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['backup_restores', 'backups', 'backup_repos', 'backup_targets'])
    await db.schema.dropTable(t).execute();
}
