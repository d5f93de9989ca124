// Power actions on VPSs (vps_actions) and the staff VPS list. Staff alerts are repositories/alerts.ts.
import { notFound } from '../../domain/errors.ts';
import type { PowerAction } from '../../domain/vps-power.ts';
import type { Db } from '../db/database.ts';
import { byCreated, pageOf, type PageRequest } from './pagination.ts';
import type { Scope } from './scope.ts';

export interface VpsActionRow {
  id: string;
  vps_id: string;
  action: PowerAction;
  state: 'queued' | 'running' | 'done' | 'failed';
  requested_by: string;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  result: Record<string, unknown> | null;
  error: string | null;
}

export async function insertVpsAction(
  db: Db,
  a: { vps_id: string; action: PowerAction; requested_by: string; requested_at: Date },
): Promise<VpsActionRow> {
  return (await db
    .insertInto('vps_actions')
    .values({ ...a, state: 'queued' })
    .returningAll()
    .executeTakeFirstOrThrow()) as VpsActionRow;
}

export async function getVpsAction(db: Db, id: string): Promise<VpsActionRow> {
  const a = await db.selectFrom('vps_actions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!a) throw notFound('vps.action_not_found', 'No such action');
  return a as VpsActionRow;
}

/** The VPS's latest actions, newest first; a client sees only their account's VPSs' actions. */
export async function listVpsActions(
  db: Db,
  scope: Scope,
  vpsId: string,
  limit = 20,
): Promise<VpsActionRow[]> {
  let q = db
    .selectFrom('vps_actions as a')
    .innerJoin('vps as v', 'v.id', 'a.vps_id')
    .selectAll('a')
    .where('a.vps_id', '=', vpsId)
    .orderBy('a.requested_at', 'desc')
    .orderBy('a.id')
    .limit(limit);
  if (scope.kind === 'client') q = q.where('v.account_id', '=', scope.accountId);
  return (await q.execute()) as VpsActionRow[];
}

export async function actionInFlight(db: Db, vpsId: string): Promise<VpsActionRow | undefined> {
  return (await db
    .selectFrom('vps_actions')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .where('state', 'in', ['queued', 'running'])
    .executeTakeFirst()) as VpsActionRow | undefined;
}

export async function updateVpsAction(
  db: Db,
  id: string,
  patch: Partial<Pick<VpsActionRow, 'state' | 'started_at' | 'finished_at' | 'error'>> & {
    result?: Record<string, unknown>;
  },
): Promise<void> {
  const { result, ...rest } = patch;
  await db
    .updateTable('vps_actions')
    .set({ ...rest, ...(result ? { result: JSON.stringify(result) } : {}) })
    .where('id', '=', id)
    .execute();
}

/** Staff's VPS list with the names around it (account, host, datacenter), filtered, newest first. */
export async function listVpsForStaff(
  db: Db,
  f: { states?: string[]; hostId?: string; accountId?: string },
  page: PageRequest,
) {
  let q = db
    .selectFrom('vps as v')
    .innerJoin('accounts as a', 'a.id', 'v.account_id')
    .innerJoin('datacenters as d', 'd.id', 'v.datacenter_id')
    .leftJoin('hosts as h', 'h.id', 'v.host_id')
    .selectAll('v')
    .select(['a.name as account_name', 'd.code as datacenter_code', 'h.name as host_name']);
  if (f.states?.length) q = q.where('v.state', 'in', f.states);
  else q = q.where('v.state', '!=', 'destroyed');
  if (f.hostId) q = q.where('v.host_id', '=', f.hostId);
  if (f.accountId) q = q.where('v.account_id', '=', f.accountId);
  return pageOf(q, byCreated('staff-vps', 'desc', 'v'), page);
}
