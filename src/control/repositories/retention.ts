// Queries of the retention schedule (domain/retention.ts, R12.4): connection records, which
// accounts' contracts have all ended and when, the purges (each idempotent: a second run finds
// nothing left to delete), and what is held per account.
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ConnectionKind } from '../db/tables/legal-records.ts';

export async function insertConnectionRecord(
  db: Db,
  r: {
    at: Date;
    userId: string;
    accountId: string | null;
    kind: ConnectionKind;
    ip: string;
    port: number | null;
  },
): Promise<void> {
  await db
    .insertInto('connection_records')
    .values({ at: r.at, user_id: r.userId, account_id: r.accountId, kind: r.kind, ip: r.ip, port: r.port })
    .execute();
}

/** Accounts with at least one contract, all of them ended at or before `cutoff` (none running). */
export async function accountsEndedBefore(db: Db, cutoff: Date): Promise<string[]> {
  const rows = await db
    .selectFrom('contracts')
    .select('account_id')
    .groupBy('account_id')
    .having(sql<boolean>`bool_and(state IN ('ended', 'terminated') AND ended_at IS NOT NULL)`)
    .having(sql<Date>`max(ended_at)`, '<=', cutoff)
    .execute();
  return rows.map((r) => r.account_id);
}

/** When the account's last contract ended, or null while one runs (or it never had one). */
export async function contractEndOf(db: Db, accountId: string): Promise<Date | null> {
  const r = await db
    .selectFrom('contracts')
    .select([
      sql<boolean>`bool_and(state IN ('ended', 'terminated') AND ended_at IS NOT NULL)`.as('ended'),
      sql<Date | null>`max(ended_at)`.as('end'),
    ])
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return r?.ended && r.end ? new Date(r.end) : null;
}

/** Civil identity: the identity row, proof requests and documents (their files' paths returned). */
export async function purgeIdentity(tx: Db, accountIds: string[]) {
  if (!accountIds.length) return { identities: 0, requests: 0, documents: [] as string[] };
  const docs = await tx
    .deleteFrom('identity_documents')
    .where('account_id', 'in', accountIds)
    .returning('storage_path')
    .execute();
  const requests = await tx
    .deleteFrom('identity_requests')
    .where('account_id', 'in', accountIds)
    .executeTakeFirst();
  const identities = await tx
    .deleteFrom('client_identities')
    .where('account_id', 'in', accountIds)
    .executeTakeFirst();
  return {
    identities: Number(identities.numDeletedRows),
    requests: Number(requests.numDeletedRows),
    documents: docs.map((d) => d.storage_path),
  };
}

const PURGED_EMAIL = /^purged-[0-9a-f-]+@purged\.invalid$/;
const purgedEmail = sql<string>`'purged-' || id::text || '@purged.invalid'`;

/**
 * Account data: the users' emails, names, password hashes and second factors are overwritten
 * (the rows stay: invoices and the audit log refer to them), their sessions, tokens,
 * verification links and the sign-up row deleted.
 */
export async function purgeAccountData(tx: Db, accountIds: string[], now: Date) {
  if (!accountIds.length) return { users: 0, sessions: 0, tokens: 0, signups: 0 };
  const userIds = (
    await tx.selectFrom('users').select('id').where('account_id', 'in', accountIds).execute()
  ).map((u) => u.id);
  if (!userIds.length) return { users: 0, sessions: 0, tokens: 0, signups: 0 };
  const users = await tx
    .updateTable('users')
    .set({
      email: purgedEmail,
      name: '',
      password_hash: '!purged',
      totp_secret_enc: null,
      totp_enabled: false,
      disabled_at: sql<Date>`COALESCE(disabled_at, ${now})`,
    })
    .where('id', 'in', userIds)
    .where('email', 'not like', 'purged-%@purged.invalid')
    .executeTakeFirst();
  const sessions = await tx.deleteFrom('sessions').where('user_id', 'in', userIds).executeTakeFirst();
  const tokens = await tx.deleteFrom('api_tokens').where('user_id', 'in', userIds).executeTakeFirst();
  await tx.deleteFrom('email_verifications').where('user_id', 'in', userIds).execute();
  const signups = await tx
    .deleteFrom('client_signups')
    .where('account_id', 'in', accountIds)
    .executeTakeFirst();
  return {
    users: Number(users.numUpdatedRows),
    sessions: Number(sessions.numDeletedRows),
    tokens: Number(tokens.numDeletedRows),
    signups: Number(signups.numDeletedRows),
  };
}

export const isPurgedEmail = (email: string) => PURGED_EMAIL.test(email);

export async function purgeConnectionRecords(db: Db, cutoff: Date): Promise<number> {
  const r = await db.deleteFrom('connection_records').where('at', '<=', cutoff).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function purgeIpAssignments(db: Db, cutoff: Date): Promise<number> {
  const r = await db.deleteFrom('ip_assignments').where('until_at', '<=', cutoff).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** What the provider holds of one account, by kind, with the oldest connection record. */
export async function heldOf(db: Db, accountId: string) {
  const count = (q: { executeTakeFirst(): Promise<{ n: string | number | bigint } | undefined> }) =>
    q.executeTakeFirst().then((r) => Number(r?.n ?? 0));
  const n = sql<string>`count(*)`.as('n');
  const [identity, documents, users, purgedUsers, connections, oldest, assignments, invoices] =
    await Promise.all([
      count(db.selectFrom('client_identities').select(n).where('account_id', '=', accountId)),
      count(db.selectFrom('identity_documents').select(n).where('account_id', '=', accountId)),
      count(db.selectFrom('users').select(n).where('account_id', '=', accountId)),
      count(
        db
          .selectFrom('users')
          .select(n)
          .where('account_id', '=', accountId)
          .where('email', 'like', 'purged-%@purged.invalid'),
      ),
      count(db.selectFrom('connection_records').select(n).where('account_id', '=', accountId)),
      db
        .selectFrom('connection_records')
        .select(sql<Date | null>`min(at)`.as('at'))
        .where('account_id', '=', accountId)
        .executeTakeFirst()
        .then((r) => (r?.at ? new Date(r.at) : null)),
      count(db.selectFrom('ip_assignments').select(n).where('account_id', '=', accountId)),
      count(db.selectFrom('invoices').select(n).where('account_id', '=', accountId)),
    ]);
  return {
    identity,
    identityDocuments: documents,
    users,
    purgedUsers,
    connections,
    oldestConnection: oldest,
    ipAssignments: assignments,
    invoices,
  };
}

/** An account's connection records, newest first (requisitions and staff views). */
export async function connectionRecordsOf(db: Db, accountId: string, from: Date, to: Date) {
  return db
    .selectFrom('connection_records')
    .select(['at', 'kind', 'ip', 'port', 'user_id'])
    .where('account_id', '=', accountId)
    .where('at', '>=', from)
    .where('at', '<', to)
    .orderBy('at')
    .orderBy('id')
    .execute();
}
