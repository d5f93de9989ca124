// Cursor pagination of every list the API serves (no list is unbounded: a provider with 10,000
// VPSs and 100,000 invoices must not send them in one answer). Keyset, not offset: each list
// names two columns that order it totally (a time or a number, then the id), and a page starts
// strictly after the last row of the previous one, so rows written meanwhile neither repeat nor
// vanish from the pages already read, and a page costs the same deep in the list as at its start.
// The cursor is opaque to callers (base64url of the last row's key); it only positions the
// caller inside the same scoped query, so a forged one reads nothing more than the first page
// would. Times come from the injected clock (millisecond precision, as JavaScript keeps them).
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

type KeyKind = 'timestamp' | 'uuid' | 'int';
type KeyValue = string | number;

/** How a list is ordered: two columns (the second unique: the id), both in one direction. */
export interface Keyset<R> {
  columns: readonly [string, string];
  kinds: readonly [KeyKind, KeyKind];
  direction: 'asc' | 'desc';
  /** The row's key, in the columns' order. */
  of(row: R): readonly [Date | string | number, string | number];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const badCursor = () =>
  invalidData('validation.cursor', 'This cursor was not given by this list: start again without it', {
    field: 'cursor',
  });

function keyValue(kind: KeyKind, v: Date | string | number): KeyValue {
  if (kind === 'timestamp') return (v instanceof Date ? v : new Date(v)).toISOString();
  return typeof v === 'number' ? v : String(v);
}

export function encodeCursor(kinds: readonly [KeyKind, KeyKind], key: readonly [unknown, unknown]): string {
  const values = key.map((v, i) => keyValue(kinds[i]!, v as Date | string | number));
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** The key a cursor holds, checked against the list's kinds; a clear 400 otherwise. */
export function decodeCursor(kinds: readonly [KeyKind, KeyKind], cursor: string): [KeyValue, KeyValue] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(values) || values.length !== 2) throw badCursor();
  const ok = values.every((v: unknown, i) => {
    const kind = kinds[i];
    if (kind === 'timestamp') return typeof v === 'string' && !Number.isNaN(Date.parse(v)) && v.length <= 40;
    if (kind === 'uuid') return typeof v === 'string' && UUID.test(v);
    return typeof v === 'number' && Number.isSafeInteger(v);
  });
  if (!ok) throw badCursor();
  return values as [KeyValue, KeyValue];
}

/** The usual order: by creation time, then id (`alias.` prefixes both columns when given). */
export function byCreated(
  direction: 'asc' | 'desc',
  alias?: string,
): Keyset<{ created_at: Date; id: string }> {
  const col = (c: string) => (alias ? `${alias}.${c}` : c);
  return {
    columns: [col('created_at'), col('id')],
    kinds: ['timestamp', 'uuid'],
    direction,
    of: (r) => [r.created_at, r.id],
  };
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
  const limit = pageSize(page);
  const [a, b] = keyset.columns;
  if (page.cursor !== undefined) {
    const [va, vb] = decodeCursor(keyset.kinds, page.cursor);
    const op = sql.raw(keyset.direction === 'desc' ? '<' : '>');
    q = q.where(sql<SqlBool>`(${sql.ref(a)}, ${sql.ref(b)}) ${op} (${va}, ${vb})`);
  }
  const rows = await q
    .orderBy(sql.ref(a), keyset.direction)
    .orderBy(sql.ref(b), keyset.direction)
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor(keyset.kinds, keyset.of(last)) : null,
  };
}
