import { sql, type Kysely } from 'kysely';

// Power actions on VPSs: one row per start/stop/reboot/poweroff asked for, run by
// the `vps.power` job. At most one action in flight per VPS (partial unique index): a second
// request while one runs is a conflict, never a queue of contradicting orders.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('vps_actions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('action', 'text', (c) =>
      c.notNull().check(sql`action IN ('start','stop','reboot','poweroff')`),
    )
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state IN ('queued','running','done','failed')`))
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('result', 'jsonb')
    .addColumn('error', 'text')
    .execute();
  await db.schema
    .createIndex('vps_actions_one_in_flight')
    .on('vps_actions')
    .column('vps_id')
    .unique()
    .where(sql.ref('state'), 'in', ['queued', 'running'])
    .execute();
  await db.schema
    .createIndex('vps_actions_by_vps')
    .on('vps_actions')
    .columns(['vps_id', 'requested_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('vps_actions').execute();
}
