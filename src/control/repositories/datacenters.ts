import { sql } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';

export interface DatacenterRow {
  id: string;
  code: string;
  name: string;
  city: string;
  country: string;
  region: string;
  created_at: Date;
}

export function listDatacenters(db: Db): Promise<DatacenterRow[]> {
  return db.selectFrom('datacenters').selectAll().orderBy('code').execute();
}

export async function getDatacenter(db: Db, id: string): Promise<DatacenterRow> {
  const d = await db.selectFrom('datacenters').selectAll().where('id', '=', id).executeTakeFirst();
  if (!d) throw notFound('datacenter.not_found', 'No such datacenter');
  return d;
}

export function insertDatacenter(db: Db, d: Omit<DatacenterRow, 'id'>): Promise<DatacenterRow> {
  return db.insertInto('datacenters').values(d).returningAll().executeTakeFirstOrThrow();
}

export interface PoolRow {
  id: string;
  datacenter_id: string;
  cidr: string;
  gateway: string;
  created_at: Date;
}

export function insertPool(db: Db, p: Omit<PoolRow, 'id'>): Promise<PoolRow> {
  return db.insertInto('ip_pools').values(p).returningAll().executeTakeFirstOrThrow();
}

export interface PoolUsageRow extends PoolRow {
  datacenter_code: string;
  allocated: number;
  quarantined: number;
}

export async function listPoolsWithUsage(db: Db): Promise<PoolUsageRow[]> {
  const rows = await db
    .selectFrom('ip_pools as p')
    .innerJoin('datacenters as d', 'd.id', 'p.datacenter_id')
    .leftJoin('ip_addresses as a', 'a.pool_id', 'p.id')
    .select(['p.id', 'p.datacenter_id', 'p.cidr', 'p.gateway', 'p.created_at', 'd.code as datacenter_code'])
    .select((eb) => [
      eb.fn.count<string>('a.address').filterWhere('a.state', '=', 'allocated').as('allocated'),
      eb.fn.count<string>('a.address').filterWhere('a.state', '=', 'quarantined').as('quarantined'),
    ])
    .groupBy(['p.id', 'd.code'])
    .orderBy('p.cidr')
    .execute();
  return rows.map((r) => ({ ...r, allocated: Number(r.allocated), quarantined: Number(r.quarantined) }));
}

export function poolsOf(db: Db, datacenterId: string): Promise<PoolRow[]> {
  return db
    .selectFrom('ip_pools')
    .selectAll()
    .where('datacenter_id', '=', datacenterId)
    .orderBy('cidr')
    .execute();
}

/** Every pool prefix with its datacenter's location: the geofeed's rows (RFC 8805). */
export function geofeedRows(db: Db) {
  return db
    .selectFrom('ip_pools as p')
    .innerJoin('datacenters as d', 'd.id', 'p.datacenter_id')
    .select([sql<string>`p.cidr::text`.as('cidr'), 'd.country', 'd.region', 'd.city'])
    .orderBy('p.cidr')
    .execute();
}
