import { sql, type Kysely } from 'kysely';

// Plan changes (R3.12): one row per change ordered, with its invoice (null when
// the new plan costs nothing more), the facts before and after, the proration's figures, the
// terms version whose deadline applies, the payment instant and the deadline, the driver's
// answer and the reboot it needed. At most one change pending per VPS (partial unique index).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('plan_changes')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().references('vps.id'))
    .addColumn('contract_id', 'uuid', (c) => c.notNull().references('contracts.id'))
    .addColumn('invoice_id', 'uuid', (c) => c.references('invoices.id').unique())
    .addColumn('from_plan_id', 'uuid', (c) => c.notNull().references('plans.id'))
    .addColumn('to_plan_id', 'uuid', (c) => c.notNull().references('plans.id'))
    .addColumn('to_plan_name', 'text', (c) => c.notNull())
    .addColumn('from_vcpus', 'integer', (c) => c.notNull())
    .addColumn('from_memory_mib', 'integer', (c) => c.notNull())
    .addColumn('from_disk_gib', 'integer', (c) => c.notNull())
    .addColumn('to_vcpus', 'integer', (c) => c.notNull())
    .addColumn('to_memory_mib', 'integer', (c) => c.notNull())
    .addColumn('to_disk_gib', 'integer', (c) => c.notNull())
    .addColumn('from_monthly_price_cents', 'integer', (c) => c.notNull())
    .addColumn('to_monthly_price_cents', 'integer', (c) => c.notNull())
    .addColumn('to_vat_rate_bp', 'integer', (c) => c.notNull())
    .addColumn('cycle_days', 'integer', (c) => c.notNull())
    .addColumn('remaining_days', 'integer', (c) => c.notNull())
    .addColumn('full_months', 'integer', (c) => c.notNull())
    .addColumn('amount_cents', 'integer', (c) => c.notNull().check(sql`amount_cents >= 0`))
    .addColumn('terms_version', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state IN ('awaiting_payment','paid','applied','cancelled')`),
    )
    .addColumn('ordered_by', 'text', (c) => c.notNull())
    .addColumn('ordered_at', 'timestamptz', (c) => c.notNull())
    .addColumn('paid_at', 'timestamptz')
    .addColumn('due_at', 'timestamptz')
    .addColumn('resize_result', 'jsonb')
    .addColumn('reboot_announced_at', 'timestamptz')
    .addColumn('reboot_at', 'timestamptz')
    .addColumn('reboot_action_id', 'uuid')
    .addColumn('applied_at', 'timestamptz')
    .addColumn('late_at', 'timestamptz')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('cancelled_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('plan_changes_one_pending')
    .on('plan_changes')
    .column('vps_id')
    .unique()
    .where(sql.ref('state'), 'in', ['awaiting_payment', 'paid'])
    .execute();
  await db.schema
    .createIndex('plan_changes_by_due')
    .on('plan_changes')
    .columns(['state', 'due_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('plan_changes').execute();
}
