// Queries of the log store (R6.2): which VPSs may send (store enabled, address held), per-day
// segment counters, sealing (hash chain), deletion after 12 months. Lines are files, never rows.
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Scope } from './scope.ts';

export interface Sender {
  vpsId: string;
  accountId: string;
  address: string;
  full: boolean;
}

export async function getLogStore(db: Db, vpsId: string) {
  return db.selectFrom('log_stores').selectAll().where('vps_id', '=', vpsId).executeTakeFirst();
}

export async function setLogStore(
  db: Db,
  r: { vpsId: string; accountId: string; enabled: boolean; at: Date; quotaBytes: number },
) {
  await db
    .insertInto('log_stores')
    .values({
      vps_id: r.vpsId,
      account_id: r.accountId,
      enabled: r.enabled,
      changed_at: r.at,
      quota_bytes: r.quotaBytes,
    })
    .onConflict((oc) => oc.column('vps_id').doUpdateSet({ enabled: r.enabled, changed_at: r.at }))
    .execute();
}

/** The VPSs whose store is on, by the address they hold now (anti-spoofing, R6.3, makes it theirs). */
export async function enabledSenders(db: Db): Promise<Sender[]> {
  const rows = await db
    .selectFrom('log_stores as s')
    .innerJoin('vps as v', 'v.id', 's.vps_id')
    .select([
      's.vps_id',
      's.account_id',
      sql<string>`host(v.ipv4)`.as('address'),
      sql<boolean>`s.full_at IS NOT NULL`.as('full'),
    ])
    .where('s.enabled', '=', true)
    .where('v.ipv4', 'is not', null)
    .where('v.state', '<>', 'destroyed')
    .execute();
  return rows.map((r) => ({ vpsId: r.vps_id, accountId: r.account_id, address: r.address, full: r.full }));
}

/** Adds a flush to the day's segment and the store's total; returns the total and quota after. */
export async function addToSegment(
  tx: Db,
  r: {
    vpsId: string;
    accountId: string;
    day: string;
    lines: number;
    raw: number;
    stored: number;
    dropped: number;
  },
) {
  await tx
    .insertInto('log_segments')
    .values({
      vps_id: r.vpsId,
      account_id: r.accountId,
      day: r.day,
      lines: r.lines,
      raw_bytes: r.raw,
      stored_bytes: r.stored,
      dropped: r.dropped,
    })
    .onConflict((oc) =>
      oc.columns(['vps_id', 'day']).doUpdateSet({
        lines: sql`log_segments.lines + ${r.lines}`,
        raw_bytes: sql`log_segments.raw_bytes + ${r.raw}`,
        stored_bytes: sql`log_segments.stored_bytes + ${r.stored}`,
        dropped: sql`log_segments.dropped + ${r.dropped}`,
      }),
    )
    .execute();
  return tx
    .updateTable('log_stores')
    .set({ used_bytes: sql`used_bytes + ${r.stored}` })
    .where('vps_id', '=', r.vpsId)
    .returning(['used_bytes', 'quota_bytes', 'warned_at', 'full_at'])
    .executeTakeFirst();
}

export async function setQuotaFlags(
  db: Db,
  vpsId: string,
  f: { warned_at?: Date | null; full_at?: Date | null },
) {
  await db.updateTable('log_stores').set(f).where('vps_id', '=', vpsId).execute();
}

/** A VPS's live days (not deleted), oldest first; scoped: another account's VPS has none. */
export async function segmentsOf(db: Db, scope: Scope, vpsId: string, from?: string, to?: string) {
  let q = db
    .selectFrom('log_segments')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .where('deleted_at', 'is', null)
    .orderBy('day');
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  if (from) q = q.where('day', '>=', from);
  if (to) q = q.where('day', '<=', to);
  return q.execute();
}

export async function unsealedBefore(db: Db, day: string) {
  return db
    .selectFrom('log_segments')
    .selectAll()
    .where('sealed_at', 'is', null)
    .where('day', '<', day)
    .orderBy('vps_id')
    .orderBy('day')
    .execute();
}

/** The newest sealed segment's chain hash of a VPS (the link the next one hangs on). */
export async function lastChainHash(db: Db, vpsId: string): Promise<string | null> {
  const r = await db
    .selectFrom('log_segments')
    .select('chain_hash')
    .where('vps_id', '=', vpsId)
    .where('sealed_at', 'is not', null)
    .orderBy('day', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r?.chain_hash ?? null;
}

export async function sealSegment(
  db: Db,
  id: string,
  s: { sha256: string; prev: string; chain: string; at: Date },
) {
  await db
    .updateTable('log_segments')
    .set({ sha256: s.sha256, prev_hash: s.prev, chain_hash: s.chain, sealed_at: s.at })
    .where('id', '=', id)
    .where('sealed_at', 'is', null)
    .execute();
}

/** Live segments of days up to `lastDay` (their 12 months are over). */
export async function segmentsEndedBy(db: Db, lastDay: string) {
  return db
    .selectFrom('log_segments')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where('day', '<=', lastDay)
    .execute();
}

export async function markSegmentDeleted(tx: Db, id: string, vpsId: string, storedBytes: string, at: Date) {
  const r = await tx
    .updateTable('log_segments')
    .set({ deleted_at: at })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return;
  await tx
    .updateTable('log_stores')
    .set({ used_bytes: sql`GREATEST(used_bytes - ${storedBytes}::bigint, 0)` })
    .where('vps_id', '=', vpsId)
    .execute();
}

/** Every sealed segment, per VPS in day order (chain verification and anchors). */
export async function sealedSegments(db: Db, afterId = '0', limit = 1000) {
  return db
    .selectFrom('log_segments')
    .selectAll()
    .where('sealed_at', 'is not', null)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Segments of an account (or of one VPS) overlapping [fromDay, toDay] (requisitions). */
export async function segmentsInScope(
  db: Db,
  f: { accountId?: string; vpsIds?: string[]; fromDay: string; toDay: string },
) {
  let q = db
    .selectFrom('log_segments')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where('day', '>=', f.fromDay)
    .where('day', '<=', f.toDay)
    .orderBy('vps_id')
    .orderBy('day');
  if (f.accountId) q = q.where('account_id', '=', f.accountId);
  if (f.vpsIds) q = f.vpsIds.length ? q.where('vps_id', 'in', f.vpsIds) : q.where(sql<boolean>`false`);
  return q.execute();
}
