import { sql } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { HostLoad } from '../../domain/placement.ts';
import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { HostsTable } from '../db/tables/infra.ts';

export type HostRow = Selectable<HostsTable>;

export function insertHost(db: Db, h: Insertable<HostsTable>): Promise<HostRow> {
  return db.insertInto('hosts').values(h).returningAll().executeTakeFirstOrThrow();
}

export async function getHost(db: Db, id: string): Promise<HostRow> {
  const h = await db.selectFrom('hosts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!h) throw notFound('host.not_found', 'No such host');
  return h;
}

/** Hosts with what is placed on them: every VPS not destroyed counts (placed, running or not). */
export async function hostLoads(db: Db, datacenterId?: string): Promise<(HostLoad & { vpsCount: number })[]> {
  let q = db
    .selectFrom('hosts as h')
    .leftJoin('vps as v', (j) => j.onRef('v.host_id', '=', 'h.id').on('v.state', 'not in', ['destroyed']))
    .select([
      'h.id',
      'h.name',
      'h.datacenter_id',
      'h.state',
      'h.cpu_cores',
      'h.memory_mib',
      'h.disk_gib',
      'h.cpu_overcommit',
      'h.ram_overcommit',
      sql<string>`coalesce(sum(v.vcpus), 0)`.as('vcpus'),
      sql<string>`coalesce(sum(v.memory_mib), 0)`.as('mem'),
      sql<string>`coalesce(sum(v.disk_gib), 0)`.as('disk'),
      sql<string>`count(v.id)`.as('n'),
    ])
    .groupBy('h.id')
    .orderBy('h.name');
  if (datacenterId) q = q.where('h.datacenter_id', '=', datacenterId);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    datacenterId: r.datacenter_id,
    state: r.state,
    cpuCores: r.cpu_cores,
    memoryMiB: r.memory_mib,
    diskGiB: r.disk_gib,
    cpuOvercommit: r.cpu_overcommit,
    ramOvercommit: r.ram_overcommit,
    vcpusPlaced: Number(r.vcpus),
    memoryMiBPlaced: Number(r.mem),
    diskGiBPlaced: Number(r.disk),
    vpsCount: Number(r.n),
  }));
}

/** The host served by this process's own agent (at most one is enrolled by the first-run setup). */
export function findLocalHost(db: Db): Promise<HostRow | undefined> {
  return db
    .selectFrom('hosts')
    .selectAll()
    .where('agent', '=', 'local')
    .orderBy('created_at')
    .executeTakeFirst();
}
