// Queries of the outbound quota (R3.13): which VPSs are counted and with which source and terms,
// their throttle blocks (`network_blocks` of kind 'throttle'), the hosts' traffic source,
// and the SNMP port mappings.
import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { SnmpPortMappingsTable, TrafficFlaggedTable, TrafficSource } from '../db/tables/traffic.ts';
import { bySerial, pageOf, type Page, type PageRequest } from './pagination.ts';

/** VPS states whose port exists on a host (counted, reconciled). */
export const NETWORKED_STATES = [
  'provisioning',
  'defined',
  'starting',
  'running',
  'stopping',
  'stopped',
  'paused',
  'failed',
  'destroying',
] as const;

const NO_ID = '00000000-0000-0000-0000-000000000000';

export interface LiveVps {
  id: string;
  account_id: string;
  host_id: string;
  billing_anchor: Date;
  terms_version: string | null;
  traffic_source: TrafficSource;
}

/** VPSs with a port on a host, with their contract's terms and their host's source. */
export async function liveVpss(db: Db, filter: { hostId?: string; ids?: string[] } = {}): Promise<LiveVps[]> {
  let q = db
    .selectFrom('vps as v')
    .innerJoin('hosts as h', 'h.id', 'v.host_id')
    .leftJoin('contracts as c', 'c.vps_id', 'v.id')
    .select(['v.id', 'v.account_id', 'v.host_id', 'v.billing_anchor', 'c.terms_version', 'h.traffic_source'])
    .where('v.state', 'in', NETWORKED_STATES)
    .where('v.net_slot', 'is not', null);
  if (filter.hostId) q = q.where('v.host_id', '=', filter.hostId);
  if (filter.ids) q = q.where('v.id', 'in', filter.ids.length ? filter.ids : [NO_ID]);
  return (await q.execute()) as LiveVps[];
}

export type SnmpMappingRow = Selectable<SnmpPortMappingsTable>;

/** SNMP mappings of VPSs with a port (all, or those of `ids`), with the VPS's billing anchor. */
export function snmpMappingsOfLiveVpss(db: Db, ids?: string[]) {
  let q = db
    .selectFrom('snmp_port_mappings as m')
    .innerJoin('vps as v', 'v.id', 'm.vps_id')
    .select([
      'm.vps_id',
      'm.agent_host',
      'm.agent_port',
      'm.community_enc',
      'm.if_index',
      'm.vps_outbound',
      'v.billing_anchor',
    ])
    .where('v.state', 'in', NETWORKED_STATES);
  if (ids) q = q.where('m.vps_id', 'in', ids.length ? ids : [NO_ID]);
  return q.execute();
}

/** Sets (or replaces) a VPS's mapping; the SNMP counters' history is forgotten (the next reading is a baseline). */
export async function upsertSnmpMapping(tx: Db, row: Insertable<SnmpPortMappingsTable>): Promise<void> {
  await tx
    .insertInto('snmp_port_mappings')
    .values(row)
    .onConflict((oc) =>
      oc.column('vps_id').doUpdateSet({
        agent_host: row.agent_host,
        agent_port: row.agent_port,
        community_enc: row.community_enc,
        if_index: row.if_index,
        vps_outbound: row.vps_outbound,
      }),
    )
    .execute();
  await tx
    .deleteFrom('traffic_counters')
    .where('vps_id', '=', row.vps_id)
    .where('source', '=', 'snmp')
    .execute();
}

/** True when a mapping was deleted. */
export async function deleteSnmpMapping(db: Db, vpsId: string): Promise<boolean> {
  const r = await db.deleteFrom('snmp_port_mappings').where('vps_id', '=', vpsId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export function listSnmpMappings(db: Db): Promise<SnmpMappingRow[]> {
  return db.selectFrom('snmp_port_mappings').selectAll().orderBy('created_at').execute();
}

/** Hosts (id, agent) among `ids`. */
export function hostAgentsOf(db: Db, ids: string[]) {
  return ids.length
    ? db.selectFrom('hosts').select(['id', 'agent', 'netns']).where('id', 'in', ids).execute()
    : Promise.resolve([]);
}

/** The source a host's quota reads; undefined when there is no such host. */
export async function hostTrafficSource(db: Db, hostId: string): Promise<TrafficSource | undefined> {
  const h = await db.selectFrom('hosts').select('traffic_source').where('id', '=', hostId).executeTakeFirst();
  return h?.traffic_source;
}

/** True when the host exists (and was updated). */
export async function setHostTrafficSource(db: Db, hostId: string, source: TrafficSource): Promise<boolean> {
  const r = await db
    .updateTable('hosts')
    .set({ traffic_source: source })
    .where('id', '=', hostId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Throttle blocks (lifted or not) of these VPSs: "vpsId|until ms" keys, one per VPS and cycle. */
export async function throttleKeys(db: Db, vpsIds: string[]): Promise<Set<string>> {
  if (!vpsIds.length) return new Set();
  const rows = await db
    .selectFrom('network_blocks')
    .select(['vps_id', 'until'])
    .where('kind', '=', 'throttle')
    .where('vps_id', 'in', vpsIds)
    .execute();
  return new Set(rows.map((m) => `${m.vps_id}|${m.until?.getTime()}`));
}

/** Inserts the cycle's throttle block; undefined when the VPS already has one for this cycle (unique index). */
export async function insertThrottle(
  tx: Db,
  t: { vpsId: string; reason: string; now: Date; until: Date },
): Promise<string | undefined> {
  const m = await tx
    .insertInto('network_blocks')
    .values({
      vps_id: t.vpsId,
      kind: 'throttle',
      reason: t.reason,
      created_by: 'system',
      created_at: t.now,
      until: t.until,
    })
    .onConflict((oc) => oc.columns(['vps_id', 'until']).where('kind', '=', 'throttle').doNothing())
    .returning('id')
    .executeTakeFirst();
  return m?.id;
}

/** Lifts a VPS's throttles whose cycle has ended; returns their ids. */
export async function liftEndedThrottles(db: Db, vpsId: string, now: Date): Promise<string[]> {
  const rows = await db
    .updateTable('network_blocks')
    .set({ lifted_at: now, lifted_by: 'system' })
    .where('vps_id', '=', vpsId)
    .where('kind', '=', 'throttle')
    .where('lifted_at', 'is', null)
    .where('until', '<=', now)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

/** The VPS's throttle in force, if any. */
export function liveThrottle(db: Db, vpsId: string) {
  return db
    .selectFrom('network_blocks')
    .select(['id', 'until'])
    .where('vps_id', '=', vpsId)
    .where('kind', '=', 'throttle')
    .where('lifted_at', 'is', null)
    .executeTakeFirst();
}

/** When the VPS's counters were last read with `source`. */
export async function lastReadAt(db: Db, vpsId: string, source: TrafficSource): Promise<Date | null> {
  const r = await db
    .selectFrom('traffic_counters')
    .select('read_at')
    .where('vps_id', '=', vpsId)
    .where('source', '=', source)
    .executeTakeFirst();
  return r?.read_at ?? null;
}

/** Staff: samples not counted, newest first. */
/** Samples not counted, newest first, a page at a time. */
export function listFlagged(
  db: Db,
  filter: { vpsId?: string },
  page: PageRequest,
): Promise<Page<Selectable<TrafficFlaggedTable>>> {
  let q = db.selectFrom('traffic_flagged').selectAll();
  if (filter.vpsId) q = q.where('vps_id', '=', filter.vpsId);
  return pageOf(q, bySerial('traffic-flagged', 'desc'), page);
}

/** The network blocks in force on a VPS (blocks, throttle, isolation): what its policy applies. */
export function blocksInForce(db: Db, vpsId: string) {
  return db
    .selectFrom('network_blocks')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .where('lifted_at', 'is', null)
    .execute();
}
