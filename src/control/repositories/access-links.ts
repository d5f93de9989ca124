// R3.1: the one-time links that reveal a VPS's initial password; only the token's hash is stored.
import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { AccessLinksTable } from '../db/tables/infra.ts';

export type AccessLinkRow = Selectable<AccessLinksTable>;

export async function insertAccessLink(
  db: Db,
  l: Omit<Insertable<AccessLinksTable>, 'id' | 'used_at' | 'used_ip'>,
): Promise<void> {
  await db.insertInto('access_links').values(l).execute();
}

/** The link with this token hash, locked until the transaction ends (one reveal at a time). */
export function accessLinkForUpdate(tx: Db, tokenHash: string): Promise<AccessLinkRow | undefined> {
  return tx
    .selectFrom('access_links')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .forUpdate()
    .executeTakeFirst();
}

export async function markAccessLinkUsed(db: Db, id: string, at: Date, ip: string): Promise<void> {
  await db.updateTable('access_links').set({ used_at: at, used_ip: ip }).where('id', '=', id).execute();
}

/** R12.4: every link of the VPS deleted; how many there were. */
export async function deleteAccessLinksOf(db: Db, vpsId: string): Promise<number> {
  const r = await db.deleteFrom('access_links').where('vps_id', '=', vpsId).executeTakeFirst();
  return Number(r.numDeletedRows);
}
