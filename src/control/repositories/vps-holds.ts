// VPS-level suspensions (holds), recorded apart from the power state: a VPS suspended while
// stopped stays suspended, and neither its client nor staff start it until the owner of the
// hold (a sanction, a breach termination) lifts it.
import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { VpsHoldsTable } from '../db/tables/infra.ts';

export type VpsHoldRow = Selectable<VpsHoldsTable>;
export interface HoldOwner {
  type: VpsHoldsTable['owner_type'];
  id: string;
}

/** Records a hold (once per VPS and owner). The caller holds the VPS's row lock. */
export async function insertHold(
  db: Db,
  h: { vpsId: string; owner: HoldOwner; reason: string; by: string; at: Date },
): Promise<boolean> {
  const r = await db
    .insertInto('vps_holds')
    .values({
      vps_id: h.vpsId,
      owner_type: h.owner.type,
      owner_id: h.owner.id,
      reason: h.reason,
      created_by: h.by,
      created_at: h.at,
    })
    .onConflict((oc) => oc.columns(['vps_id', 'owner_type', 'owner_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return Boolean(r);
}

/** The oldest hold in force on a VPS, if any. */
export function activeHold(db: Db, vpsId: string): Promise<VpsHoldRow | undefined> {
  return db
    .selectFrom('vps_holds')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .where('lifted_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
}

/** Lifts every hold of an owner; returns the VPSs it held. */
export async function liftHolds(db: Db, owner: HoldOwner, at: Date, by: string): Promise<string[]> {
  const rows = await db
    .updateTable('vps_holds')
    .set({ lifted_at: at, lifted_by: by })
    .where('owner_type', '=', owner.type)
    .where('owner_id', '=', owner.id)
    .where('lifted_at', 'is', null)
    .returning('vps_id')
    .execute();
  return rows.map((r) => r.vps_id);
}

/** For each VPS: a hold in force on it, and a suspension in force on its account (R6.1). */
export async function suspensionFlags(
  db: Db,
  vpsIds: readonly string[],
): Promise<Map<string, { held: boolean; accountSuspended: boolean }>> {
  const out = new Map<string, { held: boolean; accountSuspended: boolean }>();
  if (vpsIds.length === 0) return out;
  const rows = await db
    .selectFrom('vps as v')
    .select([
      'v.id',
      sql<boolean>`EXISTS (SELECT 1 FROM vps_holds h WHERE h.vps_id = v.id AND h.lifted_at IS NULL)`.as(
        'held',
      ),
      sql<boolean>`EXISTS (SELECT 1 FROM account_suspensions s WHERE s.account_id = v.account_id AND s.lifted_at IS NULL)`.as(
        'account_suspended',
      ),
    ])
    .where('v.id', 'in', vpsIds)
    .execute();
  for (const r of rows) out.set(r.id, { held: r.held, accountSuspended: r.account_suspended });
  return out;
}
