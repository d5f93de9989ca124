// Authority notices (R12.6): the only queries on authority_notices (staff only: no Scope).
import type { Insertable, Selectable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { AuthorityNoticesTable } from '../db/tables/sanctions.ts';
import { pageOf, type Keyset, type Page, type PageRequest } from './pagination.ts';

/** A notice's row; `received_on` is a date column, which the driver reads as a local-midnight Date. */
export type AuthorityNoticeRow = Omit<Selectable<AuthorityNoticesTable>, 'received_on'> & {
  received_on: string | Date;
};
export type NewAuthorityNotice = Omit<
  Insertable<AuthorityNoticesTable>,
  'id' | 'scan_path' | 'scan_file_name' | 'scan_content_type' | 'scan_size' | 'scan_sha256' | 'scan_uploads'
>;
/** The scan of a notice, as the uploads store kept it. */
export interface NoticeScan {
  scan_path: string;
  scan_file_name: string;
  scan_content_type: string;
  scan_size: number;
  scan_sha256: string;
}

export async function insertAuthorityNotice(db: Db, n: NewAuthorityNotice): Promise<AuthorityNoticeRow> {
  return db.insertInto('authority_notices').values(n).returningAll().executeTakeFirstOrThrow();
}

export async function getAuthorityNotice(db: Db, id: string): Promise<AuthorityNoticeRow> {
  const n = await db.selectFrom('authority_notices').selectAll().where('id', '=', id).executeTakeFirst();
  if (!n) throw notFound('notice.not_found', 'No such authority notice');
  return n;
}

/** A notice recorded whose ordered sanction could not be applied is not kept half-done. */
export async function deleteAuthorityNotice(db: Db, id: string): Promise<void> {
  await db.deleteFrom('authority_notices').where('id', '=', id).execute();
}

/** The notices with how many sanctions each has in force, newest first, a page at a time. */
export async function listAuthorityNotices(
  db: Db,
  page: PageRequest,
): Promise<Page<AuthorityNoticeRow & { sanctions_in_force: number }>> {
  const q = db
    .selectFrom('authority_notices as n')
    .selectAll('n')
    .select((eb) =>
      eb
        .selectFrom('sanctions as m')
        .select(eb.fn.countAll<string>().as('c'))
        .whereRef('m.notice_id', '=', 'n.id')
        .where('m.lifted_at', 'is', null)
        .as('sanctions_in_force'),
    );
  const p = await pageOf(q, BY_RECORDED, page);
  return {
    ...p,
    items: p.items.map((r) => ({ ...r, sanctions_in_force: Number(r.sanctions_in_force ?? 0) })),
  };
}

const BY_RECORDED: Keyset<{ recorded_at: Date; id: string }> = {
  list: 'authority-notices',
  columns: ['n.recorded_at', 'n.id'],
  kinds: ['timestamp', 'uuid'],
  direction: 'desc',
  of: (r) => [r.recorded_at, r.id],
};

/**
 * Takes one of the notice's scan slots (at most `max` uploads: a replaced scan stays on disk as
 * proof), in one statement so parallel uploads cannot pass the cap; false when none is left.
 */
export async function claimScanSlot(db: Db, id: string, max: number): Promise<boolean> {
  const r = await db
    .updateTable('authority_notices')
    .set((eb) => ({ scan_uploads: eb('scan_uploads', '+', 1) }))
    .where('id', '=', id)
    .where('scan_uploads', '<', max)
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

/** Gives back a slot taken by `claimScanSlot` for a file that was refused. */
export async function releaseScanSlot(db: Db, id: string): Promise<void> {
  await db
    .updateTable('authority_notices')
    .set((eb) => ({ scan_uploads: eb('scan_uploads', '-', 1) }))
    .where('id', '=', id)
    .execute();
}

export async function setNoticeScan(db: Db, id: string, scan: NoticeScan): Promise<void> {
  await db.updateTable('authority_notices').set(scan).where('id', '=', id).execute();
}
