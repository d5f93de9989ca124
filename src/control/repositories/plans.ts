// The catalogue: plans and the datacenters where each is sold.
import type { Insertable, Selectable, Updateable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { PlansTable } from '../db/tables/commerce.ts';
import type { DatacenterRow } from './datacenters.ts';

export type PlanRow = Selectable<PlansTable>;
export type PlanWithDatacenters = PlanRow & { datacenters: DatacenterRow[] };

export async function listPlans(db: Db, opts: { activeOnly?: boolean } = {}): Promise<PlanWithDatacenters[]> {
  let q = db.selectFrom('plans').selectAll().orderBy('monthly_price_cents').orderBy('code');
  if (opts.activeOnly) q = q.where('active', '=', true);
  const plans = await q.execute();
  if (plans.length === 0) return [];
  const links = await db
    .selectFrom('plan_datacenters as pd')
    .innerJoin('datacenters as d', 'd.id', 'pd.datacenter_id')
    .select(['pd.plan_id', 'd.id', 'd.code', 'd.name', 'd.city', 'd.country', 'd.region', 'd.created_at'])
    .where(
      'pd.plan_id',
      'in',
      plans.map((p) => p.id),
    )
    .orderBy('d.code')
    .execute();
  return plans.map((p) => ({
    ...p,
    datacenters: links.filter((l) => l.plan_id === p.id).map(({ plan_id: _p, ...d }) => d),
  }));
}

export async function getPlan(db: Db, id: string, opts: { forUpdate?: boolean } = {}): Promise<PlanRow> {
  let q = db.selectFrom('plans').selectAll().where('id', '=', id);
  if (opts.forUpdate) q = q.forUpdate();
  const p = await q.executeTakeFirst();
  if (!p) throw notFound('plan.not_found', 'No such plan');
  return p;
}

export async function getPlanWithDatacenters(db: Db, id: string): Promise<PlanWithDatacenters> {
  const p = await getPlan(db, id);
  const datacenters = await db
    .selectFrom('plan_datacenters as pd')
    .innerJoin('datacenters as d', 'd.id', 'pd.datacenter_id')
    .select(['d.id', 'd.code', 'd.name', 'd.city', 'd.country', 'd.region', 'd.created_at'])
    .where('pd.plan_id', '=', id)
    .orderBy('d.code')
    .execute();
  return { ...p, datacenters };
}

export function insertPlan(db: Db, p: Insertable<PlansTable>): Promise<PlanRow> {
  return db.insertInto('plans').values(p).returningAll().executeTakeFirstOrThrow();
}

export async function updatePlan(db: Db, id: string, patch: Updateable<PlansTable>): Promise<PlanRow> {
  const p = await db.updateTable('plans').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
  if (!p) throw notFound('plan.not_found', 'No such plan');
  return p;
}

/** Replaces where a plan is sold. */
export async function setPlanDatacenters(
  db: Db,
  planId: string,
  datacenterIds: readonly string[],
): Promise<void> {
  await db.deleteFrom('plan_datacenters').where('plan_id', '=', planId).execute();
  if (datacenterIds.length)
    await db
      .insertInto('plan_datacenters')
      .values([...new Set(datacenterIds)].map((d) => ({ plan_id: planId, datacenter_id: d })))
      .execute();
}

export async function isSoldIn(db: Db, planId: string, datacenterId: string): Promise<boolean> {
  const r = await db
    .selectFrom('plan_datacenters')
    .select('plan_id')
    .where('plan_id', '=', planId)
    .where('datacenter_id', '=', datacenterId)
    .executeTakeFirst();
  return r !== undefined;
}
