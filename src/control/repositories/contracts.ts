// Contracts. Client-reachable reads take a Scope. A VPS's contract: `contractOfVps`.
import type { Insertable, Selectable, Updateable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { ContractTimes } from '../../domain/contracts.ts';
import type { Db } from '../db/database.ts';
import type { ContractsTable } from '../db/tables/commerce.ts';
import type { Scope } from './scope.ts';

export type ContractRow = Selectable<ContractsTable>;

export function insertContract(db: Db, c: Insertable<ContractsTable>): Promise<ContractRow> {
  return db.insertInto('contracts').values(c).returningAll().executeTakeFirstOrThrow();
}

export async function getContract(
  db: Db,
  scope: Scope,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<ContractRow> {
  let q = db.selectFrom('contracts').selectAll().where('id', '=', id);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  if (opts.forUpdate) q = q.forUpdate();
  const c = await q.executeTakeFirst();
  if (!c) throw notFound('contract.not_found', 'No such contract');
  return c;
}

/** The contract that delivers a VPS (one per VPS). */
export async function contractOfVps(
  db: Db,
  scope: Scope,
  vpsId: string,
  opts: { forUpdate?: boolean } = {},
): Promise<ContractRow> {
  let q = db.selectFrom('contracts').selectAll().where('vps_id', '=', vpsId);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  if (opts.forUpdate) q = q.forUpdate();
  const c = await q.executeTakeFirst();
  if (!c) throw notFound('contract.not_found', 'No contract for this VPS');
  return c;
}

/** The terms version of a VPS's contract; undefined when it has none (a VPS made by staff). */
export async function termsVersionOfVps(db: Db, vpsId: string): Promise<string | undefined> {
  const c = await db
    .selectFrom('contracts')
    .select('terms_version')
    .where('vps_id', '=', vpsId)
    .executeTakeFirst();
  return c?.terms_version;
}

export function listContracts(
  db: Db,
  scope: Scope,
  filter: { accountId?: string; states?: readonly ContractRow['state'][] } = {},
): Promise<ContractRow[]> {
  let q = db.selectFrom('contracts').selectAll().orderBy('started_at', 'desc').orderBy('id');
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  else if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
  if (filter.states?.length) q = q.where('state', 'in', filter.states);
  return q.limit(1000).execute();
}

/** Running contracts whose current expiry is at or before `until` (renewals and ends due: R11). */
export function contractsExpiringBy(db: Db, until: Date): Promise<ContractRow[]> {
  return db
    .selectFrom('contracts')
    .selectAll()
    .where('state', 'in', ['active', 'suspended'])
    .where('expires_at', '<=', until)
    .orderBy('expires_at')
    .execute();
}

export async function updateContract(
  db: Db,
  id: string,
  patch: Updateable<ContractsTable>,
): Promise<ContractRow> {
  return db.updateTable('contracts').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** A row as the pure date functions see it (src/domain/contracts.ts). */
export function contractTimesOf(c: ContractRow): ContractTimes {
  return {
    kind: c.kind,
    termMonths: c.term_months,
    startedAt: c.started_at,
    billingAnchor: c.billing_anchor,
    renewalAnchor: c.renewal_anchor,
    periods: c.periods,
    expiresAt: c.expires_at,
    renewalStoppedAt: c.renewal_stopped_at,
  };
}

/** The columns a new ContractTimes writes back. */
export function contractTimesPatch(t: ContractTimes): Updateable<ContractsTable> {
  return {
    kind: t.kind,
    term_months: t.termMonths,
    renewal_anchor: t.renewalAnchor,
    periods: t.periods,
    expires_at: t.expiresAt,
    renewal_stopped_at: t.renewalStoppedAt,
  };
}

/** The contracts of these VPSs still open (active or suspended). */
export async function openContractIdsOfVpss(db: Db, vpsIds: string[]): Promise<string[]> {
  if (vpsIds.length === 0) return [];
  const rows = await db
    .selectFrom('contracts')
    .select('id')
    .where('vps_id', 'in', vpsIds)
    .where('state', 'in', ['active', 'suspended'])
    .execute();
  return rows.map((r) => r.id);
}
