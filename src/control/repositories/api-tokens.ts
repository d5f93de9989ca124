import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';

export interface ApiTokenRow {
  id: string;
  user_id: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

export async function insertApiToken(
  db: Db,
  t: { userId: string; name: string; tokenHash: string; createdAt: Date },
): Promise<ApiTokenRow> {
  return db
    .insertInto('api_tokens')
    .values({ user_id: t.userId, name: t.name, token_hash: t.tokenHash, created_at: t.createdAt })
    .returning(['id', 'user_id', 'name', 'created_at', 'last_used_at'])
    .executeTakeFirstOrThrow();
}

export async function findLiveTokenByHash(db: Db, hash: string): Promise<ApiTokenRow | undefined> {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'user_id', 'name', 'created_at', 'last_used_at'])
    .where('token_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function markTokenUsed(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}

/** A user's own tokens only. */
export async function listTokensOf(db: Db, userId: string): Promise<ApiTokenRow[]> {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'user_id', 'name', 'created_at', 'last_used_at'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .execute();
}

export async function revokeTokenOf(db: Db, userId: string, id: string, at: Date): Promise<void> {
  const r = await db
    .updateTable('api_tokens')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw notFound('token.not_found', 'No such API token');
}
