// Anti-spam rows (R7.1–R7.6): the provider's rules, identifications with their statistics
// (numbers only), and port-25 blocks with their unblock requests and staff decisions.
import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { SpamBlocksTable, SpamIdentificationsTable, SpamRulesTable } from '../db/tables/spam.ts';
import type { SpamBlockState } from '../../domain/spam.ts';
import { byCreated, pageOf, type Page, type PageRequest } from './pagination.ts';
import type { Scope } from './scope.ts';

export type SpamRuleRow = Selectable<SpamRulesTable>;
export type SpamIdentificationRow = Selectable<SpamIdentificationsTable>;
export type SpamBlockRow = Selectable<SpamBlocksTable>;

export function listSpamRules(db: Db): Promise<SpamRuleRow[]> {
  return db.selectFrom('spam_rules').selectAll().orderBy('position').execute();
}

/** Replaces the rule set (the caller holds the rules' lock). */
export async function replaceSpamRules(tx: Db, rows: Insertable<SpamRulesTable>[]): Promise<void> {
  await tx.deleteFrom('spam_rules').execute();
  if (rows.length) await tx.insertInto('spam_rules').values(rows).execute();
}

export function insertIdentification(
  tx: Db,
  row: Insertable<SpamIdentificationsTable>,
): Promise<SpamIdentificationRow> {
  return tx.insertInto('spam_identifications').values(row).returningAll().executeTakeFirstOrThrow();
}

export function insertSpamBlock(tx: Db, row: Insertable<SpamBlocksTable>): Promise<SpamBlockRow> {
  return tx.insertInto('spam_blocks').values(row).returningAll().executeTakeFirstOrThrow();
}

const OPEN: SpamBlockState[] = ['in_force', 'unblock_requested', 'refused'];

/** The VPS's unfinished block (in force, waiting for staff, or refused), if any. */
export function openSpamBlock(db: Db, vpsId: string): Promise<SpamBlockRow | undefined> {
  return db
    .selectFrom('spam_blocks')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .where('state', 'in', OPEN)
    .executeTakeFirst();
}

/** VPSs with an unfinished block among these (one query for a sampling round). */
export async function vpssWithOpenBlock(db: Db, vpsIds: readonly string[]): Promise<Set<string>> {
  if (!vpsIds.length) return new Set();
  const rows = await db
    .selectFrom('spam_blocks')
    .select('vps_id')
    .where('vps_id', 'in', vpsIds)
    .where('state', 'in', OPEN)
    .execute();
  return new Set(rows.map((r) => r.vps_id));
}

/** R7.4: blocks of the VPS since `since` (the ladder's window). */
export async function countBlocksSince(db: Db, vpsId: string, since: Date): Promise<number> {
  const r = await db
    .selectFrom('spam_blocks')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('vps_id', '=', vpsId)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A block locked until the transaction ends; a client's scope sees only its account's. */
export function spamBlockForUpdate(tx: Db, scope: Scope, id: string): Promise<SpamBlockRow | undefined> {
  let q = tx.selectFrom('spam_blocks').selectAll().where('id', '=', id);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  return q.forUpdate().executeTakeFirst();
}

export function updateSpamBlock(
  tx: Db,
  id: string,
  set: Partial<Omit<Selectable<SpamBlocksTable>, 'id'>>,
): Promise<SpamBlockRow> {
  return tx.updateTable('spam_blocks').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** A block with the identification that caused it and its VPS's hostname. */
export type SpamBlockWithStats = SpamBlockRow & {
  hostname: string;
  rule_id: string;
  signal: string;
  threshold: number;
  observed: number;
  stats: SpamIdentificationRow['stats'];
};

function blocksQuery(db: Db) {
  return db
    .selectFrom('spam_blocks as b')
    .innerJoin('spam_identifications as i', 'i.id', 'b.identification_id')
    .innerJoin('vps as v', 'v.id', 'b.vps_id')
    .selectAll('b')
    .select(['v.hostname', 'i.rule_id', 'i.signal', 'i.threshold', 'i.observed', 'i.stats']);
}

/** A page of blocks: one VPS's (scoped), or all of a state (staff), newest first. */
export function pageSpamBlocks(
  db: Db,
  filter: { scope: Scope; vpsId?: string; states?: SpamBlockState[] },
  page: PageRequest,
): Promise<Page<SpamBlockWithStats>> {
  let q = blocksQuery(db);
  if (filter.scope.kind === 'client') q = q.where('b.account_id', '=', filter.scope.accountId);
  if (filter.vpsId) q = q.where('b.vps_id', '=', filter.vpsId);
  if (filter.states) q = q.where('b.state', 'in', filter.states);
  return pageOf(q, byCreated('spam_blocks', 'desc', 'b'), page) as Promise<Page<SpamBlockWithStats>>;
}

export function getSpamBlockWithStats(db: Db, id: string): Promise<SpamBlockWithStats | undefined> {
  return blocksQuery(db).where('b.id', '=', id).executeTakeFirst() as Promise<SpamBlockWithStats | undefined>;
}

/** A page of identifications (staff), of one VPS or all, newest first, with the hostname. */
export function pageIdentifications(
  db: Db,
  filter: { vpsId?: string },
  page: PageRequest,
): Promise<Page<SpamIdentificationRow & { hostname: string }>> {
  let q = db
    .selectFrom('spam_identifications as i')
    .innerJoin('vps as v', 'v.id', 'i.vps_id')
    .selectAll('i')
    .select('v.hostname');
  if (filter.vpsId) q = q.where('i.vps_id', '=', filter.vpsId);
  return pageOf(q, byCreated('spam_identifications', 'desc', 'i'), page) as Promise<
    Page<SpamIdentificationRow & { hostname: string }>
  >;
}
