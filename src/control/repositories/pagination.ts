// Cursor pagination of every list the API serves (no list is unbounded: a provider with 10,000
// VPSs and 100,000 invoices must not send them in one answer). Keyset, not offset: each list
// names columns that order it totally (a time or a number, then the id), and a page starts
// strictly after the last row of the previous one, so rows written meanwhile neither repeat nor
// vanish from the pages already read, and a page costs the same deep in the list as at its start.
// The cursor is opaque to callers (base64url of the list's name and the last row's key): the
// cursor of another list is refused (400), and it only positions the caller inside the same
// scoped query, so a forged one reads nothing more than the first page would. Times come from
// the injected clock (millisecond precision, as JavaScript keeps them).
import { sql, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { invalidData } from '../../domain/errors.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../domain/pagination.ts';

/** What a caller asks of a list: how many rows at most, and after which cursor. */
export interface PageRequest {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Where the next page starts; null on the last page. */
  nextCursor: string | null;
}

/** `timestamp?`: a time or null (a computed key that some rows lack: the list pages them apart). */
type KeyKind = 'timestamp' | 'timestamp?' | 'uuid' | 'int' | 'bigint';
type KeyValue = string | number | null;
type KeyInput = Date | string | number | null;

/**
 * How a list is ordered: its name (a cursor carries it, so the cursor of another list is refused
 * rather than read as a position in this one), one or more columns of which the last is unique
 * (the id), all in one direction.
 */
export interface Keyset<R> {
  list: string;
  columns: readonly string[];
  kinds: readonly KeyKind[];
  direction: 'asc' | 'desc';
  /** The row's key, in the columns' order. */
  of(row: R): readonly KeyInput[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIGINT = /^[0-9]{1,19}$/;

const badCursor = () =>
  invalidData('validation.cursor', 'This cursor was not given by this list: start again without it', {
    field: 'cursor',
  });

function keyValue(kind: KeyKind, v: KeyInput): KeyValue {
  if (v === null) return null;
  if (kind === 'timestamp' || kind === 'timestamp?')
    return (v instanceof Date ? v : new Date(v)).toISOString();
  if (kind === 'int') return Number(v);
  return String(v);
}

export function encodeCursor(list: string, kinds: readonly KeyKind[], key: readonly KeyInput[]): string {
  const values = key.map((v, i) => keyValue(kinds[i]!, v));
  return Buffer.from(JSON.stringify([list, ...values])).toString('base64url');
}

function validKey(kind: KeyKind, v: unknown): boolean {
  if (kind === 'timestamp?' && v === null) return true;
  if (kind === 'timestamp' || kind === 'timestamp?')
    return typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v));
  if (kind === 'uuid') return typeof v === 'string' && UUID.test(v);
  if (kind === 'bigint') return typeof v === 'string' && BIGINT.test(v);
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** The key a cursor holds, checked against the list's name and kinds; a clear 400 otherwise. */
export function decodeCursor(list: string, kinds: readonly KeyKind[], cursor: string): KeyValue[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(values) || values.length !== kinds.length + 1 || values[0] !== list) throw badCursor();
  const key = values.slice(1) as unknown[];
  if (!key.every((v, i) => validKey(kinds[i]!, v))) throw badCursor();
  return key as KeyValue[];
}

/** The usual order: by creation time, then id (`alias.` prefixes both columns when given). */
export function byCreated(
  list: string,
  direction: 'asc' | 'desc',
  alias?: string,
): Keyset<{ created_at: Date; id: string }> {
  const col = (c: string) => (alias ? `${alias}.${c}` : c);
  return {
    list,
    columns: [col('created_at'), col('id')],
    kinds: ['timestamp', 'uuid'],
    direction,
    of: (r) => [r.created_at, r.id],
  };
}

/** A list ordered by a bigserial id alone (append-only logs: the id is the order of writing). */
export function bySerial(list: string, direction: 'asc' | 'desc', column = 'id'): Keyset<{ id: string }> {
  return { list, columns: [column], kinds: ['bigint'], direction, of: (r) => [r.id] };
}

/** The page size asked for, within bounds (the route's schema refuses what is outside them). */
export const pageSize = (p: PageRequest): number =>
  Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(p.limit ?? DEFAULT_PAGE_SIZE)));

/**
 * One page of `q` (already filtered and scoped, not ordered): ordered by the keyset, starting
 * after the cursor, one row more than asked read to know whether another page follows.
 */
export async function pageOf<DB, TB extends keyof DB, O>(
  q: SelectQueryBuilder<DB, TB, O>,
  keyset: Keyset<NoInfer<O>>,
  page: PageRequest,
): Promise<Page<O>> {
  const rows = await pageQuery(q, keyset, page).execute();
  return pageFrom(rows, pageSize(page), (last) => encodeCursor(keyset.list, keyset.kinds, keyset.of(last)));
}

/**
 * The query `pageOf` runs, not run: a list that joins more to each row of its page makes it a
 * subquery, so the joins see the page's rows only, not the whole list before its sort.
 */
export function pageQuery<DB, TB extends keyof DB, O>(
  q: SelectQueryBuilder<DB, TB, O>,
  keyset: Keyset<NoInfer<O>>,
  page: PageRequest,
): SelectQueryBuilder<DB, TB, O> {
  const refs = keyset.columns.map((c) => sql.ref(c));
  if (page.cursor !== undefined) {
    const key = decodeCursor(keyset.list, keyset.kinds, page.cursor);
    const op = sql.raw(keyset.direction === 'desc' ? '<' : '>');
    q = q.where(sql<SqlBool>`(${sql.join(refs)}) ${op} (${sql.join(key)})`);
  }
  for (const r of refs) q = q.orderBy(r, keyset.direction);
  return q.limit(pageSize(page) + 1);
}

/** The page of `rows` (read with one row more than `limit`), its next cursor made by `cursorOf`. */
export function pageFrom<T>(rows: T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? cursorOf(last) : null };
}
