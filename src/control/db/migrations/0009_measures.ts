import { sql, type Kysely } from 'kysely';

// Measures on a VPS or a whole account (R3.14, R5.1, R6.4, R6.5, R12.3, R12.5) and the
// authority notices that order them (R12.6). A measure records who, why, when, the evidence,
// the rung suggested by the ladder and the one applied, its planned end or lift condition, and
// what it applied (net measure ids, paused VPSs, account suspension, termination), so lifting
// undoes exactly that.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('authority_notices')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('vps_id', 'uuid', (c) => c.references('vps.id'))
    .addColumn('authority', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) =>
      c.notNull().check(sql`type IN ('administrative','arbitral','judicial')`),
    )
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('received_on', 'date', (c) => c.notNull())
    .addColumn('measure_ordered', 'text', (c) =>
      c.notNull().check(sql`measure_ordered IN ('restriction','limitation','suspension')`),
    )
    .addColumn('withheld', 'boolean', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('scan_path', 'text')
    .addColumn('scan_file_name', 'text')
    .addColumn('scan_content_type', 'text')
    .addColumn('scan_size', 'integer')
    .addColumn('scan_sha256', 'text')
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('measures')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    // NULL: the whole account (applied to each of its VPSs).
    .addColumn('vps_id', 'uuid', (c) => c.references('vps.id'))
    .addColumn('rung', 'text', (c) =>
      c
        .notNull()
        .check(sql`rung IN ('warning','restriction','limitation','suspension','isolation','termination')`),
    )
    .addColumn('suggested_rung', 'text', (c) => c.notNull())
    .addColumn('override_reason', 'text')
    .addColumn('breach_kind', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull().check(sql`severity IN ('minor','serious','critical')`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('evidence_path', 'text')
    .addColumn('evidence_file_name', 'text')
    .addColumn('evidence_content_type', 'text')
    .addColumn('evidence_size', 'integer')
    .addColumn('params', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('planned_end', 'timestamptz')
    .addColumn('lift_condition', 'text')
    .addColumn('withheld', 'boolean', (c) => c.notNull())
    .addColumn('restore_refusable', 'boolean', (c) => c.notNull())
    .addColumn('notice_id', 'uuid', (c) => c.references('authority_notices.id'))
    .addColumn('applied', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('applied_by', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'timestamptz', (c) => c.notNull())
    .addColumn('lifted_at', 'timestamptz')
    .addColumn('lifted_by', 'text')
    .addColumn('lift_reason', 'text')
    .addColumn('lift_override', 'boolean', (c) => c.notNull().defaultTo(false))
    .addCheckConstraint(
      'measures_end_or_condition',
      sql`rung IN ('warning','termination') OR planned_end IS NOT NULL OR lift_condition IS NOT NULL`,
    )
    .execute();
  await sql`CREATE INDEX measures_by_account ON measures (account_id, applied_at)`.execute(db);
  await sql`CREATE INDEX measures_by_vps ON measures (vps_id) WHERE vps_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX measures_by_notice ON measures (notice_id) WHERE notice_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('measures').execute();
  await db.schema.dropTable('authority_notices').execute();
}
