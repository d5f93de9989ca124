// Staff alerts (R4.1: incidents staff triage): the only queries on staff_alerts.
import type { Insertable, Selectable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { StaffAlertsTable } from '../db/tables/infra.ts';
import { pageOf, type Keyset, type Page, type PageRequest } from './pagination.ts';

export type StaffAlertRow = Selectable<StaffAlertsTable>;
export type NewStaffAlert = Omit<Insertable<StaffAlertsTable>, 'id' | 'acknowledged_at' | 'acknowledged_by'>;

export async function insertAlert(db: Db, a: NewStaffAlert): Promise<void> {
  await db.insertInto('staff_alerts').values(a).execute();
}

export function listAlerts(db: Db, opts: { open?: boolean; limit?: number } = {}): Promise<StaffAlertRow[]> {
  let q = db
    .selectFrom('staff_alerts')
    .selectAll()
    .orderBy('at', 'desc')
    .orderBy('id')
    .limit(opts.limit ?? 200);
  if (opts.open) q = q.where('acknowledged_at', 'is', null);
  return q.execute();
}

/** A page of the alerts (all, or the open ones), newest first. */
export function pageAlerts(
  db: Db,
  opts: { open?: boolean },
  page: PageRequest,
): Promise<Page<StaffAlertRow>> {
  let q = db.selectFrom('staff_alerts').selectAll();
  if (opts.open) q = q.where('acknowledged_at', 'is', null);
  return pageOf(q, BY_AT, page);
}

const BY_AT: Keyset<{ at: Date; id: string }> = {
  list: 'alerts',
  columns: ['at', 'id'],
  kinds: ['timestamp', 'uuid'],
  direction: 'desc',
  of: (r) => [r.at, r.id],
};

export async function countOpenAlerts(db: Db): Promise<number> {
  const r = await db
    .selectFrom('staff_alerts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('acknowledged_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Marks an alert seen in one statement; returns the row (unchanged when it was acknowledged already). */
export async function acknowledgeAlert(
  db: Db,
  id: string,
  by: string,
  at: Date,
): Promise<{ row: StaffAlertRow; changed: boolean }> {
  const updated = await db
    .updateTable('staff_alerts')
    .set({ acknowledged_at: at, acknowledged_by: by })
    .where('id', '=', id)
    .where('acknowledged_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (updated) return { row: updated, changed: true };
  const row = await db.selectFrom('staff_alerts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('alert.not_found', 'No such alert');
  return { row, changed: false };
}
