import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { Role } from '../db/schema.ts';

export interface ApiTokenRow {
  id: string;
  user_id: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date;
  role: Role;
}

const columns = ['id', 'user_id', 'name', 'created_at', 'last_used_at', 'expires_at', 'role'] as const;

export async function insertApiToken(
  db: Db,
  t: { userId: string; name: string; tokenHash: string; createdAt: Date; expiresAt: Date; role: Role },
): Promise<ApiTokenRow> {
  return db
    .insertInto('api_tokens')
    .values({
      user_id: t.userId,
      name: t.name,
      token_hash: t.tokenHash,
      created_at: t.createdAt,
      expires_at: t.expiresAt,
      role: t.role,
    })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

/** A token not revoked (expired or not: the caller says which, with the clock). */
export async function findLiveTokenByHash(db: Db, hash: string): Promise<ApiTokenRow | undefined> {
  return db
    .selectFrom('api_tokens')
    .select(columns)
    .where('token_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/**
 * Notes a token's use, at most once a minute (one conditional statement): a script calling the
 * API many times a second must not write the row on every request (bench:api saw it as a hotspot).
 */
export async function markTokenUsed(db: Db, id: string, at: Date): Promise<void> {
  const minuteBefore = new Date(at.getTime() - 60_000);
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: at })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', minuteBefore)]))
    .execute();
}

/** A user's own tokens only (expired ones too, until revoked: the list shows them as expired). */
export async function listTokensOf(db: Db, userId: string): Promise<ApiTokenRow[]> {
  return db
    .selectFrom('api_tokens')
    .select(columns)
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
