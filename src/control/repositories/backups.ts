// Backups (R3.6, R3.7, R12.4): the only queries on backup_targets, backup_repos, backups and
// backup_restores. Client-reachable reads take the VPS already checked against the scope.
import type { Insertable, Selectable } from 'kysely';
import { sql } from 'kysely';
import { conflict, notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type {
  BackupReposTable,
  BackupRestoresTable,
  BackupsTable,
  BackupTargetsTable,
} from '../db/tables/backups.ts';
import { pageOf, type Keyset, type Page, type PageRequest } from './pagination.ts';

export type BackupTargetRow = Selectable<BackupTargetsTable>;
export type BackupRepoRow = Selectable<BackupReposTable>;
export type BackupRow = Selectable<BackupsTable>;
export type BackupRestoreRow = Selectable<BackupRestoresTable>;

const isUnique = (e: unknown) => (e as { code?: string }).code === '23505';

// ---- targets

export async function insertTarget(db: Db, t: Insertable<BackupTargetsTable>): Promise<BackupTargetRow> {
  try {
    return await db.insertInto('backup_targets').values(t).returningAll().executeTakeFirstOrThrow();
  } catch (e) {
    if (isUnique(e)) throw conflict('backup_target.name_taken', `A backup target is already named ${t.name}`);
    throw e;
  }
}

export async function getTarget(db: Db, id: string): Promise<BackupTargetRow> {
  const t = await db.selectFrom('backup_targets').selectAll().where('id', '=', id).executeTakeFirst();
  if (!t) throw notFound('backup_target.not_found', 'No such backup target');
  return t;
}

const BY_CREATED: Keyset<{ created_at: Date; id: string }> = {
  list: 'backup_targets',
  columns: ['created_at', 'id'],
  kinds: ['timestamp', 'uuid'],
  direction: 'asc',
  of: (r) => [r.created_at, r.id],
};

export function pageTargets(db: Db, page: PageRequest): Promise<Page<BackupTargetRow>> {
  return pageOf(db.selectFrom('backup_targets').selectAll(), BY_CREATED, page);
}

/** Enabled targets outside `datacenterId`, the least used first (R3.6: another datacenter). */
export function targetsOutside(
  db: Db,
  datacenterId: string,
): Promise<(BackupTargetRow & { repos: string })[]> {
  return db
    .selectFrom('backup_targets as t')
    .selectAll('t')
    .select((eb) =>
      eb
        .selectFrom('backup_repos as r')
        .select(eb.fn.countAll<string>().as('n'))
        .whereRef('r.target_id', '=', 't.id')
        .where('r.deleted_at', 'is', null)
        .as('repos'),
    )
    .where('t.enabled', '=', true)
    .where('t.datacenter_id', '<>', datacenterId)
    .orderBy('repos')
    .orderBy('t.created_at')
    .execute() as Promise<(BackupTargetRow & { repos: string })[]>;
}

/** Per target: repositories, last run, failures in the last 24 h, oldest kept backup, bytes added. */
export function targetFigures(db: Db, since: Date) {
  return db
    .selectFrom('backup_targets as t')
    .leftJoin('backups as b', 'b.target_id', 't.id')
    .select([
      't.id',
      't.name',
      sql<string>`(select count(*) from backup_repos r where r.target_id = t.id and r.deleted_at is null)`.as(
        'repos',
      ),
      sql<Date | null>`max(b.started_at)`.as('last_run'),
      sql<string>`count(*) filter (where b.state = 'failed' and b.started_at >= ${since})`.as('failures'),
      sql<Date | null>`min(b.started_at) filter (where b.state = 'succeeded' and b.forgotten_at is null)`.as(
        'oldest',
      ),
      sql<string | null>`sum(b.bytes_added) filter (where b.state = 'succeeded')`.as('bytes_added'),
    ])
    .groupBy(['t.id', 't.name'])
    .orderBy('t.name')
    .execute();
}

// ---- repositories

export function getRepo(db: Db, vpsId: string): Promise<BackupRepoRow | undefined> {
  return db.selectFrom('backup_repos').selectAll().where('vps_id', '=', vpsId).executeTakeFirst();
}

export async function getRepoForUpdate(db: Db, vpsId: string): Promise<BackupRepoRow | undefined> {
  return db.selectFrom('backup_repos').selectAll().where('vps_id', '=', vpsId).forUpdate().executeTakeFirst();
}

export async function insertRepo(db: Db, r: Insertable<BackupReposTable>): Promise<BackupRepoRow> {
  return db.insertInto('backup_repos').values(r).returningAll().executeTakeFirstOrThrow();
}

export async function updateRepo(
  db: Db,
  vpsId: string,
  set: Partial<
    Pick<
      BackupRepoRow,
      'initialized_at' | 'last_check_at' | 'last_check_ok' | 'key_sealed' | 'deleted_at' | 'target_id'
    >
  >,
): Promise<void> {
  await db.updateTable('backup_repos').set(set).where('vps_id', '=', vpsId).execute();
}

/**
 * Live VPSs with no valid target (R3.6): no repository, or one whose target sits in the VPS's
 * own datacenter or is disabled.
 */
export function vpsWithoutValidTarget(db: Db) {
  return db
    .selectFrom('vps as v')
    .leftJoin('backup_repos as r', (j) => j.onRef('r.vps_id', '=', 'v.id').on('r.deleted_at', 'is', null))
    .leftJoin('backup_targets as t', 't.id', 'r.target_id')
    .select([
      'v.id',
      'v.hostname',
      'v.datacenter_id',
      'v.account_id',
      'r.target_id',
      't.datacenter_id as target_datacenter_id',
    ])
    .where('v.host_id', 'is not', null)
    .where('v.state', 'not in', ['pending', 'provisioning', 'destroying', 'destroyed'])
    .where((eb) =>
      eb.or([
        eb('r.vps_id', 'is', null),
        eb('t.enabled', '=', false),
        eb('t.datacenter_id', '=', eb.ref('v.datacenter_id')),
      ]),
    )
    .orderBy('v.created_at')
    .limit(500)
    .execute();
}

/** Initialized repositories whose weekly check is due (never checked, or before `before`). */
export async function reposToCheck(db: Db, before: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('backup_repos')
    .select('vps_id')
    .where('deleted_at', 'is', null)
    .where('initialized_at', 'is not', null)
    .where((eb) => eb.or([eb('last_check_at', 'is', null), eb('last_check_at', '<', before)]))
    .orderBy('last_check_at', 'asc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.vps_id);
}

// ---- backups

/** A running backup row; a second one for the VPS is a conflict (backups_one_running). */
export async function insertRunningBackup(db: Db, b: Insertable<BackupsTable>): Promise<BackupRow> {
  try {
    return await db.insertInto('backups').values(b).returningAll().executeTakeFirstOrThrow();
  } catch (e) {
    if (isUnique(e)) throw conflict('backup.running', 'A backup of this VPS is running already');
    throw e;
  }
}

export async function finishBackup(
  db: Db,
  id: string,
  set: Partial<Insertable<BackupsTable>>,
): Promise<void> {
  await db.updateTable('backups').set(set).where('id', '=', id).execute();
}

export async function getBackup(db: Db, id: string): Promise<BackupRow | undefined> {
  return db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
}

const BY_STARTED: Keyset<{ started_at: Date; id: string }> = {
  list: 'backups',
  columns: ['started_at', 'id'],
  kinds: ['timestamp', 'uuid'],
  direction: 'desc',
  of: (r) => [r.started_at, r.id],
};

export function pageBackups(db: Db, vpsId: string, page: PageRequest): Promise<Page<BackupRow>> {
  return pageOf(db.selectFrom('backups').selectAll().where('vps_id', '=', vpsId), BY_STARTED, page);
}

/** Succeeded, not yet forgotten, started at or before `before`: what the retention forgets. */
export function backupsToForget(db: Db, vpsId: string, before: Date): Promise<BackupRow[]> {
  return db
    .selectFrom('backups')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .where('state', '=', 'succeeded')
    .where('forgotten_at', 'is', null)
    .where('started_at', '<=', before)
    .execute();
}

export async function markForgotten(db: Db, ids: string[], at: Date): Promise<void> {
  if (ids.length) await db.updateTable('backups').set({ forgotten_at: at }).where('id', 'in', ids).execute();
}

export async function countFailuresSince(db: Db, vpsId: string, since: Date): Promise<number> {
  const r = await db
    .selectFrom('backups')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('vps_id', '=', vpsId)
    .where('state', '=', 'failed')
    .where('started_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Backups left running by a platform that died (no worker owns them any more). */
export async function failStaleRunning(db: Db, startedBefore: Date, at: Date): Promise<number> {
  const r = await db
    .updateTable('backups')
    .set({ state: 'failed', finished_at: at, error: 'interrupted (the platform stopped during the backup)' })
    .where('state', '=', 'running')
    .where('started_at', '<', startedBefore)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/**
 * The sweep's candidates (R3.6): VPSs with an initialized repository whose last successful
 * backup is older than `dueBefore` (or none), no backup running, with their host and target;
 * failed attempts since `since` counted (retries, then the alert).
 */
export function dueForBackup(db: Db, dueBefore: Date, since: Date, limit: number) {
  return db
    .selectFrom('backup_repos as r')
    .innerJoin('vps as v', 'v.id', 'r.vps_id')
    .innerJoin('backup_targets as t', 't.id', 'r.target_id')
    .select([
      'v.id as vps_id',
      'v.host_id',
      'r.target_id',
      't.max_concurrent',
      sql<Date | null>`(select max(b.started_at) from backups b where b.vps_id = v.id and b.state = 'succeeded')`.as(
        'last_ok',
      ),
      sql<Date | null>`(select max(b.started_at) from backups b where b.vps_id = v.id)`.as('last_try'),
      sql<string>`(select count(*) from backups b where b.vps_id = v.id and b.state = 'failed' and b.started_at >= ${since})`.as(
        'failures',
      ),
    ])
    .where('r.deleted_at', 'is', null)
    .where('r.initialized_at', 'is not', null)
    .where('v.host_id', 'is not', null)
    .where('v.state', 'in', ['running', 'stopped', 'defined'])
    .where('t.enabled', '=', true)
    .whereRef('t.datacenter_id', '<>', 'v.datacenter_id')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('backups as b')
            .select('b.id')
            .whereRef('b.vps_id', '=', 'v.id')
            .where('b.state', '=', 'running'),
        ),
      ),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('backups as b')
            .select('b.id')
            .whereRef('b.vps_id', '=', 'v.id')
            .where('b.state', '=', 'succeeded')
            .where('b.started_at', '>=', dueBefore),
        ),
      ),
    )
    .orderBy('v.id')
    .limit(limit)
    .execute();
}

/** Backups running now, per host and per target (the concurrency limits). */
export async function runningCounts(
  db: Db,
): Promise<{ hosts: Map<string, number>; targets: Map<string, number> }> {
  const rows = await db
    .selectFrom('backups')
    .select(['host_id', 'target_id'])
    .where('state', '=', 'running')
    .execute();
  const hosts = new Map<string, number>();
  const targets = new Map<string, number>();
  for (const r of rows) {
    if (r.host_id) hosts.set(r.host_id, (hosts.get(r.host_id) ?? 0) + 1);
    targets.set(r.target_id, (targets.get(r.target_id) ?? 0) + 1);
  }
  return { hosts, targets };
}

// ---- restores

export async function countCountedRestores(db: Db, vpsId: string, month: string): Promise<number> {
  const r = await db
    .selectFrom('backup_restores')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('vps_id', '=', vpsId)
    .where('paris_month', '=', month)
    .where('counted', '=', true)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function insertRestore(db: Db, r: Insertable<BackupRestoresTable>): Promise<BackupRestoreRow> {
  try {
    return await db.insertInto('backup_restores').values(r).returningAll().executeTakeFirstOrThrow();
  } catch (e) {
    if (isUnique(e)) throw conflict('restore.in_flight', 'A restore of this VPS is already under way');
    throw e;
  }
}

export async function getRestore(db: Db, id: string): Promise<BackupRestoreRow | undefined> {
  return db.selectFrom('backup_restores').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateRestore(
  db: Db,
  id: string,
  set: Partial<Insertable<BackupRestoresTable>>,
): Promise<void> {
  await db.updateTable('backup_restores').set(set).where('id', '=', id).execute();
}

const BY_REQUESTED: Keyset<{ requested_at: Date; id: string }> = {
  list: 'backup_restores',
  columns: ['requested_at', 'id'],
  kinds: ['timestamp', 'uuid'],
  direction: 'desc',
  of: (r) => [r.requested_at, r.id],
};

export function pageRestores(db: Db, vpsId: string, page: PageRequest): Promise<Page<BackupRestoreRow>> {
  return pageOf(db.selectFrom('backup_restores').selectAll().where('vps_id', '=', vpsId), BY_REQUESTED, page);
}
