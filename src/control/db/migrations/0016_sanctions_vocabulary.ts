import { sql, type Kysely } from 'kysely';

// One vocabulary (docs/architecture.md): graded measures against an account are "sanctions"
// (R5.1, R12.5) and the rules cutting a VPS's network are "network blocks" (R5.1, R6.4; R3.13's
// throttle is one too). Tables, a column and the names stored in rows follow; data is kept.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE measures RENAME TO sanctions`.execute(db);
  await sql`ALTER TABLE vps_net_measures RENAME TO network_blocks`.execute(db);
  await sql`ALTER TABLE authority_notices RENAME COLUMN measure_ordered TO sanction_ordered`.execute(db);
  // What a sanction applied names its network blocks (a lift undoes exactly these).
  await sql`UPDATE sanctions
    SET applied = (applied - 'netMeasureIds') || jsonb_build_object('networkBlockIds', applied -> 'netMeasureIds')
    WHERE applied ? 'netMeasureIds'`.execute(db);
  await sql`UPDATE deadlines SET kind = 'sanction.planned_end', subject_type = 'sanction'
    WHERE kind = 'measure.planned_end'`.execute(db);
  await sql`UPDATE staff_alerts SET kind = 'sanction.planned_end', subject_type = 'sanction'
    WHERE kind = 'measure.planned_end'`.execute(db);
  // A VPS paused by a sanction says so in its state reason (its lift checks the prefix).
  await sql`UPDATE vps SET state_reason = 'sanction ' || substr(state_reason, 9)
    WHERE state_reason LIKE 'measure %'`.execute(db);
  await sql`UPDATE account_suspensions SET cause = 'sanction' WHERE cause = 'measure'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE account_suspensions SET cause = 'measure' WHERE cause = 'sanction'`.execute(db);
  await sql`UPDATE vps SET state_reason = 'measure ' || substr(state_reason, 10)
    WHERE state_reason LIKE 'sanction %'`.execute(db);
  await sql`UPDATE staff_alerts SET kind = 'measure.planned_end', subject_type = 'measure'
    WHERE kind = 'sanction.planned_end'`.execute(db);
  await sql`UPDATE deadlines SET kind = 'measure.planned_end', subject_type = 'measure'
    WHERE kind = 'sanction.planned_end'`.execute(db);
  await sql`UPDATE sanctions
    SET applied = (applied - 'networkBlockIds') || jsonb_build_object('netMeasureIds', applied -> 'networkBlockIds')
    WHERE applied ? 'networkBlockIds'`.execute(db);
  await sql`ALTER TABLE authority_notices RENAME COLUMN sanction_ordered TO measure_ordered`.execute(db);
  await sql`ALTER TABLE network_blocks RENAME TO vps_net_measures`.execute(db);
  await sql`ALTER TABLE sanctions RENAME TO measures`.execute(db);
}
