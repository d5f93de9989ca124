// DDoS mitigations (R9.1, R9.3, R9.4; migration 0140): the only queries on ddos_mitigations.
import { sql, type Selectable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { DdosMitigationsTable } from '../db/tables/ddos.ts';
import { pageOf, type Keyset, type Page, type PageRequest } from './pagination.ts';
import type { Scope } from './scope.ts';
import { NETWORKED_STATES } from './traffic-quota.ts';

export type DdosMitigationRow = Selectable<DdosMitigationsTable>;

/** VPSs with an address and a port, by host: what the sampler maps addresses to. */
export async function addressedVpss(db: Db) {
  return db
    .selectFrom('vps as v')
    .innerJoin('hosts as h', 'h.id', 'v.host_id')
    .select([
      'v.id',
      'v.account_id',
      'v.host_id',
      sql<string>`host(v.ipv4)`.as('address'),
      'h.agent',
      'h.netns',
    ])
    .where('v.state', 'in', NETWORKED_STATES)
    .where('v.ipv4', 'is not', null)
    .where('v.net_slot', 'is not', null)
    .execute() as Promise<
    {
      id: string;
      account_id: string;
      host_id: string;
      address: string;
      agent: 'local';
      netns: string | null;
    }[]
  >;
}

/** A new mitigation, unless one is in force for the VPS (then undefined). */
export async function insertMitigation(
  db: Db,
  m: {
    vps_id: string;
    host_id: string;
    address: string;
    signature: Record<string, unknown>;
    peak_pps: number;
    peak_bps: number;
    started_at: Date;
    ends_at: Date;
  },
): Promise<DdosMitigationRow | undefined> {
  return db
    .insertInto('ddos_mitigations')
    .values({ ...m, signature: JSON.stringify(m.signature), last_attack_at: m.started_at })
    .onConflict((oc) => oc.column('vps_id').where('ended_at', 'is', null).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Mitigations in force (of one host, or all). */
export function activeMitigations(db: Db, hostId?: string): Promise<DdosMitigationRow[]> {
  let q = db.selectFrom('ddos_mitigations').selectAll().where('ended_at', 'is', null);
  if (hostId) q = q.where('host_id', '=', hostId);
  return q.orderBy('started_at').execute();
}

/**
 * An attack second seen while mitigated: the last attack moves forward, the end date with it
 * (never backwards), the peaks grow; what tier 1 dropped and its top sources are refreshed.
 */
export async function recordAttackSecond(
  db: Db,
  id: string,
  p: {
    at: Date;
    endsAt: Date;
    pps: number;
    bps: number;
  },
): Promise<void> {
  await db
    .updateTable('ddos_mitigations')
    .set({
      last_attack_at: sql`GREATEST(last_attack_at, ${p.at})`,
      ends_at: sql`GREATEST(ends_at, ${p.endsAt})`,
      peak_pps: sql`GREATEST(peak_pps, ${p.pps})`,
      peak_bps: sql`GREATEST(peak_bps, ${p.bps})`,
    })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .execute();
}

export async function recordTierOneStats(
  db: Db,
  id: string,
  dropped: number,
  topSources: { address: string; packets: number }[],
): Promise<void> {
  await db
    .updateTable('ddos_mitigations')
    .set({
      dropped_packets: sql`GREATEST(dropped_packets, ${dropped})`,
      top_sources: JSON.stringify(topSources),
    })
    .where('id', '=', id)
    .execute();
}

/**
 * R9.3, R9.4: ends the mitigation if its end date has passed, in one statement (a concurrent
 * attack second that moved the end date wins). The row when it ended, else undefined.
 */
export function endDueMitigation(db: Db, id: string, now: Date): Promise<DdosMitigationRow | undefined> {
  return db
    .updateTable('ddos_mitigations')
    .set({ ended_at: now })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .where('ends_at', '<=', now)
    .returningAll()
    .executeTakeFirst();
}

export async function getMitigation(db: Db, id: string): Promise<DdosMitigationRow> {
  const r = await db.selectFrom('ddos_mitigations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) throw notFound('ddos.not_found', 'No such mitigation');
  return r;
}

const BY_START: Keyset<{ started_at: Date; id: string }> = {
  list: 'ddos-mitigations',
  columns: ['started_at', 'id'],
  kinds: ['timestamp', 'uuid'],
  direction: 'desc',
  of: (r) => [r.started_at, r.id],
};

/** Staff: every mitigation (or those in force), newest first, with the VPS's host and datacenter. */
export function pageMitigations(
  db: Db,
  opts: { active?: boolean },
  page: PageRequest,
): Promise<Page<DdosMitigationRow & { hostname: string; datacenter_id: string }>> {
  let q = db
    .selectFrom('ddos_mitigations')
    .innerJoin('vps', 'vps.id', 'ddos_mitigations.vps_id')
    .selectAll('ddos_mitigations')
    .select(['vps.hostname', 'vps.datacenter_id']);
  if (opts.active) q = q.where('ddos_mitigations.ended_at', 'is', null);
  return pageOf(q, { ...BY_START, columns: ['ddos_mitigations.started_at', 'ddos_mitigations.id'] }, page);
}

/** A VPS's mitigations, newest first, scoped to the caller's account (R9). */
export function mitigationsOfVps(
  db: Db,
  scope: Scope,
  vpsId: string,
  page: PageRequest,
): Promise<Page<DdosMitigationRow>> {
  let q = db
    .selectFrom('ddos_mitigations')
    .innerJoin('vps', 'vps.id', 'ddos_mitigations.vps_id')
    .selectAll('ddos_mitigations')
    .where('ddos_mitigations.vps_id', '=', vpsId);
  if (scope.kind === 'client') q = q.where('vps.account_id', '=', scope.accountId);
  return pageOf(q, { ...BY_START, columns: ['ddos_mitigations.started_at', 'ddos_mitigations.id'] }, page);
}
