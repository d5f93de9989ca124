import { sql, type Kysely } from 'kysely';

// Contract terminations (R12.1–R12.4) and the record of what each deletion
// removed and when (R12.4). One termination per contract: a partial unique index refuses a
// second one unless the first was cancelled.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('terminations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('contract_id', 'uuid', (c) => c.notNull().references('contracts.id'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('cause', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`cause IN ('term_end','client_letter','force_majeure_client','force_majeure_provider','provider_breach')`,
        ),
    )
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state IN ('scheduled','executing','done','cancelled')`),
    )
    .addColumn('effective_at', 'timestamptz', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('letter_received_at', 'timestamptz')
    .addColumn('requested_effective_at', 'timestamptz')
    .addColumn('proposed_effective_at', 'timestamptz')
    .addColumn('cancelled_at', 'timestamptz')
    .addColumn('cancelled_by', 'text')
    .addColumn('cancel_reason', 'text')
    .addColumn('deletion_step', 'text')
    .addColumn('deletion_errors', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('done_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('terminations_one_per_contract')
    .on('terminations')
    .column('contract_id')
    .unique()
    .where(sql.ref('state'), '!=', 'cancelled')
    .execute();
  await db.schema
    .createIndex('terminations_by_state')
    .on('terminations')
    .columns(['state', 'effective_at'])
    .execute();
  await db.schema
    .createTable('deletion_records')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('termination_id', 'uuid', (c) => c.notNull().unique().references('terminations.id'))
    .addColumn('contract_id', 'uuid', (c) => c.notNull().references('contracts.id'))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('cause', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('completed_at', 'timestamptz')
    .addColumn('deleted', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('deletion_records').execute();
  await db.schema.dropTable('terminations').execute();
}
