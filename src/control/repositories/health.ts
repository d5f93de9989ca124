// The liveness probe's one query.
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** Resolves when the database answers a trivial query; rejects with the driver's error otherwise. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
