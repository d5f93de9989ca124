import { notFound } from '../../domain/errors.ts';
import { isVpsState, transition, type VpsState } from '../../domain/vps-state.ts';
import type { Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { VpsTable } from '../db/tables/infra.ts';
import { byCreated, bySerial, pageOf, type Page, type PageRequest } from './pagination.ts';
import type { Scope } from './scope.ts';

export type VpsRow = Selectable<VpsTable>;

export type NewVps = Omit<
  VpsRow,
  | 'id'
  | 'host_id'
  | 'ipv4'
  | 'mac'
  | 'net_slot'
  | 'root_password_enc'
  | 'initial_password_enc'
  | 'provision_step'
  | 'provision_percent'
  | 'provision_errors'
  | 'access_codes_sent_at'
  | 'state'
  | 'state_reason'
  | 'state_changed_at'
>;

export async function insertVps(db: Db, v: NewVps, now: Date): Promise<VpsRow> {
  const row = await db
    .insertInto('vps')
    .values({ ...v, state: 'pending', state_changed_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  await db
    .insertInto('vps_events')
    .values({ vps_id: row.id, at: now, kind: 'state', details: JSON.stringify({ to: 'pending' }) })
    .execute();
  return row as VpsRow;
}

/** A VPS by id, or undefined (an event about a VM that is not one of ours). */
export async function findVps(db: Db, id: string): Promise<VpsRow | undefined> {
  return (await db.selectFrom('vps').selectAll().where('id', '=', id).executeTakeFirst()) as
    VpsRow | undefined;
}

/** Locks a VPS's row until the transaction ends; its hostname and address for the caller. */
export function lockVps(tx: Db, id: string) {
  return tx
    .selectFrom('vps')
    .select(['id', 'hostname', 'ipv4'])
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

/** A VPS's whole row, locked until the transaction ends. */
export async function getVpsForUpdate(tx: Db, id: string): Promise<VpsRow> {
  const v = await tx.selectFrom('vps').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (!v) throw notFound('vps.not_found', 'No such VPS');
  return v as VpsRow;
}

/** Every VPS in one of `states` (all accounts), with what a suspension reconcile reads. */
export function vpsInStates(db: Db, states: readonly VpsState[], accountId?: string) {
  let q = db
    .selectFrom('vps')
    .select(['id', 'account_id', 'state', 'state_reason'])
    .where('state', 'in', states)
    .orderBy('id');
  if (accountId) q = q.where('account_id', '=', accountId);
  return q.execute();
}

/** The VPS's resources after a resize (R3.12). */
export async function setVpsResources(
  db: Db,
  id: string,
  r: Pick<VpsRow, 'vcpus' | 'memory_mib' | 'disk_gib'>,
): Promise<void> {
  await db.updateTable('vps').set(r).where('id', '=', id).execute();
}

/** A VPS the caller may see: clients only their account's; another account's is not found. */
export async function getVps(db: Db, scope: Scope, id: string): Promise<VpsRow> {
  let q = db.selectFrom('vps').selectAll().where('id', '=', id);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  const v = await q.executeTakeFirst();
  if (!v) throw notFound('vps.not_found', 'No such VPS');
  return v as VpsRow;
}

/** A page of the VPSs the scope sees, oldest first (keyset: repositories/pagination.ts). */
export async function listVps(
  db: Db,
  scope: Scope,
  page: PageRequest,
  filter: { accountId?: string; hostId?: string; includeDestroyed?: boolean } = {},
): Promise<Page<VpsRow>> {
  let q = db.selectFrom('vps').selectAll();
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  else if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.hostId) q = q.where('host_id', '=', filter.hostId);
  if (!filter.includeDestroyed) q = q.where('state', '!=', 'destroyed');
  return (await pageOf(q, byCreated('vps', 'asc'), page)) as Page<VpsRow>;
}

/**
 * Moves a VPS to a new state under a row lock, refusing illegal transitions (conflict), and
 * records the event. Returns the previous state.
 */
export async function setVpsState(
  db: Db,
  id: string,
  to: VpsState,
  now: Date,
  reason: string | null = null,
): Promise<VpsState> {
  const run = async (tx: Db) => {
    const cur = await tx
      .selectFrom('vps')
      .select('state')
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!cur) throw notFound('vps.not_found', 'No such VPS');
    const from = cur.state;
    if (!isVpsState(from)) throw new Error(`VPS ${id} has an unknown state ${from}`);
    if (from === to) return from;
    transition(from, to);
    await tx
      .updateTable('vps')
      .set({ state: to, state_reason: reason, state_changed_at: now })
      .where('id', '=', id)
      .execute();
    await tx
      .insertInto('vps_events')
      .values({ vps_id: id, at: now, kind: 'state', details: JSON.stringify({ from, to, reason }) })
      .execute();
    return from;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

export async function updateVps(
  db: Db,
  id: string,
  patch: Partial<
    Pick<
      VpsRow,
      | 'host_id'
      | 'ipv4'
      | 'mac'
      | 'net_slot'
      | 'root_password_enc'
      | 'initial_password_enc'
      | 'provision_step'
      | 'provision_percent'
      | 'access_codes_sent_at'
    >
  >,
): Promise<void> {
  await db.updateTable('vps').set(patch).where('id', '=', id).execute();
}

export async function recordVpsEvent(
  db: Db,
  vpsId: string,
  at: Date,
  kind: string,
  details: Record<string, unknown>,
): Promise<void> {
  await db
    .insertInto('vps_events')
    .values({ vps_id: vpsId, at, kind, details: JSON.stringify(details) })
    .execute();
}

/** What happened to a VPS, newest first, a page at a time (the caller checked the VPS's scope). */
export function vpsEvents(db: Db, vpsId: string, page: PageRequest) {
  const q = db.selectFrom('vps_events').selectAll().where('vps_id', '=', vpsId);
  return pageOf(q, bySerial('vps-events', 'desc'), page);
}

/** The account's VPSs not destroyed (ids only). */
export async function vpsIdsOfAccount(db: Db, accountId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('vps')
    .select('id')
    .where('account_id', '=', accountId)
    .where('state', '!=', 'destroyed')
    .execute();
  return rows.map((r) => r.id);
}

/** Says why a paused VPS stays paused (who holds the pause now); false when it is not paused. */
export async function setPausedReason(db: Db, id: string, reason: string): Promise<boolean> {
  const r = await db
    .updateTable('vps')
    .set({ state_reason: reason })
    .where('id', '=', id)
    .where('state', '=', 'paused')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
