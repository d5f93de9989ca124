// Sanctions against an account or one of its VPSs (R5.1, R6.4, R12.3, R12.5): rows of
// `sanctions`, with what each applied (so lifting undoes exactly that) and its evidence file.
import type { Insertable, Selectable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { SanctionApplied, SanctionsTable } from '../db/tables/sanctions.ts';

export type SanctionRow = Selectable<SanctionsTable>;

/** Rungs with nothing to lift: a warning changes nothing, a termination is not undone. */
const NOT_LIFTABLE = ['warning', 'termination'] as const;

export async function getSanction(db: Db, id: string): Promise<SanctionRow> {
  const m = await db.selectFrom('sanctions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!m) throw notFound('sanction.not_found', 'No such sanction');
  return m;
}

/** The account's cases since `since` (lifted or not): the ladder's history (R12.5). */
export function casesSince(db: Db, accountId: string, since: Date) {
  return db
    .selectFrom('sanctions')
    .select(['breach_kind', 'severity', 'applied_at'])
    .where('account_id', '=', accountId)
    .where('applied_at', '>', since)
    .execute();
}

export function insertSanction(tx: Db, row: Insertable<SanctionsTable>): Promise<SanctionRow> {
  return tx.insertInto('sanctions').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Claims a sanction's lift in one statement (two concurrent lifts: one wins); undefined when already lifted. */
export function claimSanctionLift(
  db: Db,
  id: string,
  lift: { at: Date; by: string; reason: string; override: boolean },
): Promise<SanctionRow | undefined> {
  return db
    .updateTable('sanctions')
    .set({ lifted_at: lift.at, lifted_by: lift.by, lift_reason: lift.reason, lift_override: lift.override })
    .where('id', '=', id)
    .where('lifted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Gives a claimed lift back (undoing the mechanics failed). */
export async function unclaimSanctionLift(db: Db, id: string): Promise<void> {
  await db
    .updateTable('sanctions')
    .set({ lifted_at: null, lifted_by: null, lift_reason: null, lift_override: false })
    .where('id', '=', id)
    .execute();
}

/** The oldest other suspension of this VPS still in force. */
export function otherSuspensionOfVps(db: Db, vpsId: string, exceptId: string) {
  return db
    .selectFrom('sanctions')
    .select(['id', 'reason', 'applied'])
    .where('id', '!=', exceptId)
    .where('vps_id', '=', vpsId)
    .where('rung', '=', 'suspension')
    .where('lifted_at', 'is', null)
    .orderBy('applied_at')
    .executeTakeFirst();
}

export async function setSanctionApplied(db: Db, id: string, applied: SanctionApplied): Promise<void> {
  await db
    .updateTable('sanctions')
    .set({ applied: JSON.stringify(applied) })
    .where('id', '=', id)
    .execute();
}

/** Staff's history, newest first, with the VPS's hostname (filters: account, VPS, in force, notice). */
export function listSanctions(
  db: Db,
  f: { accountId?: string; vpsId?: string; inForce?: boolean; noticeId?: string },
) {
  let q = db
    .selectFrom('sanctions as m')
    .leftJoin('vps as v', 'v.id', 'm.vps_id')
    .selectAll('m')
    .select('v.hostname')
    .orderBy('m.applied_at', 'desc')
    .orderBy('m.id')
    .limit(500);
  if (f.accountId) q = q.where('m.account_id', '=', f.accountId);
  if (f.vpsId) q = q.where('m.vps_id', '=', f.vpsId);
  if (f.noticeId) q = q.where('m.notice_id', '=', f.noticeId);
  if (f.inForce) q = q.where('m.lifted_at', 'is', null).where('m.rung', 'not in', NOT_LIFTABLE);
  return q.execute();
}

/** Sanctions in force on a VPS: its own and its account's (R5.1). */
export function sanctionsInForceOnVps(db: Db, accountId: string, vpsId: string): Promise<SanctionRow[]> {
  return db
    .selectFrom('sanctions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('vps_id', '=', vpsId), eb('vps_id', 'is', null)]))
    .where('lifted_at', 'is', null)
    .where('rung', 'not in', NOT_LIFTABLE)
    .orderBy('applied_at', 'desc')
    .execute();
}

/** Takes one evidence upload slot in one statement (two uploads at once cannot both take the last). */
export async function takeEvidenceSlot(db: Db, id: string, max: number): Promise<boolean> {
  const slot = await db
    .updateTable('sanctions')
    .set((eb) => ({ evidence_uploads: eb('evidence_uploads', '+', 1) }))
    .where('id', '=', id)
    .where('evidence_uploads', '<', max)
    .returning('id')
    .executeTakeFirst();
  return Boolean(slot);
}

export async function giveBackEvidenceSlot(db: Db, id: string): Promise<void> {
  await db
    .updateTable('sanctions')
    .set((eb) => ({ evidence_uploads: eb('evidence_uploads', '-', 1) }))
    .where('id', '=', id)
    .execute();
}

export async function setEvidenceFile(
  db: Db,
  id: string,
  f: { path: string; fileName: string; contentType: string; size: number },
): Promise<void> {
  await db
    .updateTable('sanctions')
    .set({
      evidence_path: f.path,
      evidence_file_name: f.fileName,
      evidence_content_type: f.contentType,
      evidence_size: f.size,
    })
    .where('id', '=', id)
    .execute();
}
