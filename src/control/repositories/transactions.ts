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

/**
 * Runs `fn` inside a savepoint of the transaction `tx`: when it throws, its writes are rolled
 * back (the transaction goes on) and the error is rethrown.
 */
export async function inSavepoint<T>(tx: Db, name: string, fn: () => Promise<T>): Promise<T> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`bad savepoint name ${name}`);
  await sql.raw(`SAVEPOINT ${name}`).execute(tx);
  try {
    const r = await fn();
    await sql.raw(`RELEASE SAVEPOINT ${name}`).execute(tx);
    return r;
  } catch (e) {
    await sql.raw(`ROLLBACK TO SAVEPOINT ${name}`).execute(tx);
    throw e;
  }
}
