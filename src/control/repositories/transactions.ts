// Transactions and advisory locks for services: a service opens a transaction here and passes
// the `tx` to repositories, so no query builder leaks into services (docs/architecture.md, Layers).
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** Runs `fn` in a transaction (or in the caller's, when `db` already is one). */
export function inTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** Takes a transaction-scoped advisory lock on `key` without waiting; false when another holds it. */
export async function tryXactLock(tx: Db, key: string): Promise<boolean> {
  const r = await sql<{ ok: boolean }>`SELECT pg_try_advisory_xact_lock(hashtext(${key})) AS ok`.execute(tx);
  return Boolean(r.rows[0]?.ok);
}

/** Takes a transaction-scoped advisory lock on `key`, waiting for it. */
export async function xactLock(tx: Db, key: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${key}))`.execute(tx);
}
