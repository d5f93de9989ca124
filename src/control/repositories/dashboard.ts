// The console home's figures (R4.1 alerts, R2.1/R2.2 host capacity, R11 orders and revenue):
// read-only counts and sums over the tables of several modules, each one statement.
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** Providers invoice in Paris time: a month starts at 00:00 Europe/Paris on its 1st. */
export const REVENUE_TIME_ZONE = 'Europe/Paris';

export async function vpsCountsByState(db: Db): Promise<{ state: string; count: number }[]> {
  const rows = await db
    .selectFrom('vps')
    .select(['state', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('state')
    .orderBy('state')
    .execute();
  return rows.map((r) => ({ state: r.state, count: Number(r.n) }));
}

export async function orderCountsByState(db: Db): Promise<{ awaitingPayment: number; paid: number }> {
  const rows = await db
    .selectFrom('orders')
    .select(['state', (eb) => eb.fn.countAll<string>().as('n')])
    .where('state', 'in', ['awaiting_payment', 'paid'])
    .groupBy('state')
    .execute();
  const of = (s: string) => Number(rows.find((r) => r.state === s)?.n ?? 0);
  return { awaitingPayment: of('awaiting_payment'), paid: of('paid') };
}

/** The month (Paris time) holding `now`, as instants: [start, end). */
export async function parisMonthOf(db: Db, now: Date): Promise<{ start: Date; end: Date }> {
  const r = await sql<{ start: Date; end: Date }>`
    select date_trunc('month', ${now}::timestamptz at time zone ${REVENUE_TIME_ZONE})
             at time zone ${REVENUE_TIME_ZONE} as start,
           (date_trunc('month', ${now}::timestamptz at time zone ${REVENUE_TIME_ZONE}) + interval '1 month')
             at time zone ${REVENUE_TIME_ZONE} as "end"`.execute(db);
  const row = r.rows[0]!;
  return { start: new Date(row.start), end: new Date(row.end) };
}

export interface RevenueRow {
  currency: string;
  invoices: number;
  netCents: number;
  vatCents: number;
  totalCents: number;
}

/** Invoices paid in [start, end), per currency (a voided invoice was never paid: not counted). */
export async function paidRevenue(db: Db, start: Date, end: Date): Promise<RevenueRow[]> {
  const rows = await db
    .selectFrom('invoices')
    .select([
      'currency',
      (eb) => eb.fn.countAll<string>().as('n'),
      sql<string>`coalesce(sum(net_cents), 0)`.as('net'),
      sql<string>`coalesce(sum(vat_cents), 0)`.as('vat'),
      sql<string>`coalesce(sum(total_cents), 0)`.as('total'),
    ])
    .where('status', '=', 'paid')
    .where('paid_at', '>=', start)
    .where('paid_at', '<', end)
    .groupBy('currency')
    .orderBy('currency')
    .execute();
  return rows.map((r) => ({
    currency: r.currency,
    invoices: Number(r.n),
    netCents: Number(r.net),
    vatCents: Number(r.vat),
    totalCents: Number(r.total),
  }));
}

/** What exists of the platform's setup (the first-run guide shows while something is missing). */
export async function setupCounts(db: Db): Promise<{
  datacenters: number;
  pools: number;
  hosts: number;
  plans: number;
  clients: number;
  vps: number;
}> {
  const r = await sql<Record<string, string>>`
    select (select count(*) from datacenters) as datacenters,
           (select count(*) from ip_pools) as pools,
           (select count(*) from hosts) as hosts,
           (select count(*) from plans where active) as plans,
           (select count(*) from accounts) as clients,
           (select count(*) from vps where state <> 'destroyed') as vps`.execute(db);
  const row = r.rows[0]!;
  return {
    datacenters: Number(row.datacenters),
    pools: Number(row.pools),
    hosts: Number(row.hosts),
    plans: Number(row.plans),
    clients: Number(row.clients),
    vps: Number(row.vps),
  };
}
