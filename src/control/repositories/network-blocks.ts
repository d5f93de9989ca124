// Network blocks of a VPS (R5.1, R6.4, R12.5, R3.13): rows of `network_blocks` — isolation,
// blocked port or protocol, throttle — each listed, audited, and lifted explicitly.
import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { NetworkBlocksTable } from '../db/tables/infra.ts';
import type { VpsRow } from './vps.ts';
import { NETWORKED_STATES } from './traffic-quota.ts';

export type NetworkBlockRow = Selectable<NetworkBlocksTable>;

export function insertNetworkBlock(db: Db, row: Insertable<NetworkBlocksTable>): Promise<NetworkBlockRow> {
  return db.insertInto('network_blocks').values(row).returningAll().executeTakeFirstOrThrow();
}

/** A block of that VPS, locked until the transaction ends. */
export function networkBlockForUpdate(
  tx: Db,
  id: string,
  vpsId: string,
): Promise<NetworkBlockRow | undefined> {
  return tx
    .selectFrom('network_blocks')
    .selectAll()
    .where('id', '=', id)
    .where('vps_id', '=', vpsId)
    .forUpdate()
    .executeTakeFirst();
}

export function findNetworkBlock(db: Db, id: string) {
  return db
    .selectFrom('network_blocks')
    .select(['vps_id', 'lifted_at'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export function markNetworkBlockLifted(tx: Db, id: string, by: string, at: Date): Promise<NetworkBlockRow> {
  return tx
    .updateTable('network_blocks')
    .set({ lifted_at: at, lifted_by: by })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A VPS's blocks, newest first (in force only unless `all`). */
export function listNetworkBlocks(
  db: Db,
  vpsId: string,
  opts: { all?: boolean } = {},
): Promise<NetworkBlockRow[]> {
  let q = db
    .selectFrom('network_blocks')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .orderBy('created_at', 'desc')
    .orderBy('id');
  if (!opts.all) q = q.where('lifted_at', 'is', null);
  return q.execute();
}

/** Every block in force, with its VPS's hostname and account. */
export function networkBlocksInForce(db: Db) {
  return db
    .selectFrom('network_blocks as m')
    .innerJoin('vps as v', 'v.id', 'm.vps_id')
    .selectAll('m')
    .select(['v.hostname', 'v.account_id'])
    .where('m.lifted_at', 'is', null)
    .orderBy('m.created_at', 'desc')
    .execute();
}

/** The sanction owning a block, and the authority notice that ordered it if any (R12.6). */
export function blockOwnerSanction(db: Db, sanctionId: string) {
  return db
    .selectFrom('sanctions as m')
    .leftJoin('authority_notices as n', 'n.id', 'm.notice_id')
    .select(['m.id', 'm.rung', 'n.id as notice_id', 'n.authority', 'n.reference'])
    .where('m.id', '=', sanctionId)
    .executeTakeFirst();
}

/** VPSs with a port on a host, address and MAC: what a network reconcile compares. */
export async function networkedVpss(db: Db): Promise<VpsRow[]> {
  return (await db
    .selectFrom('vps')
    .selectAll()
    .where('state', 'in', NETWORKED_STATES)
    .where('host_id', 'is not', null)
    .where('net_slot', 'is not', null)
    .where('mac', 'is not', null)
    .where('ipv4', 'is not', null)
    .execute()) as VpsRow[];
}
