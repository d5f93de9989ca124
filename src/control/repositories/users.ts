import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { Account, Language, NewUser, User, UserUpdate } from '../db/schema.ts';
import { byCreated, pageOf, type Page, type PageRequest } from './pagination.ts';
import type { Scope } from './scope.ts';

export async function insertAccount(
  db: Db,
  a: { name: string; language: Language; createdAt: Date },
): Promise<Account> {
  return db
    .insertInto('accounts')
    .values({ name: a.name, language: a.language, created_at: a.createdAt })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertUser(db: Db, u: NewUser): Promise<User> {
  return db.insertInto('users').values(u).returningAll().executeTakeFirstOrThrow();
}

/** Authentication only: not scoped (the caller is not known yet). */
export async function findUserByEmail(db: Db, email: string): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .executeTakeFirst();
}

/** Internal lookups by the platform (sessions, tokens): not client-reachable. */
export async function findUserById(db: Db, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateUser(db: Db, id: string, patch: UserUpdate): Promise<void> {
  await db.updateTable('users').set(patch).where('id', '=', id).execute();
}

/** A user the caller may see: staff see all; a client only the users of its own account. */
export async function getUser(db: Db, scope: Scope, id: string): Promise<User> {
  let q = db.selectFrom('users').selectAll().where('id', '=', id);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  const u = await q.executeTakeFirst();
  // Another account's user is "not found", never "forbidden": its existence is not revealed.
  if (!u) throw notFound('user.not_found', 'No such user');
  return u;
}

export async function listUsers(db: Db, scope: Scope, accountId?: string): Promise<User[]> {
  let q = db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id');
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  else if (accountId) q = q.where('account_id', '=', accountId);
  return q.execute();
}

export async function getAccount(db: Db, scope: Scope, id: string): Promise<Account> {
  let q = db.selectFrom('accounts').selectAll().where('id', '=', id);
  if (scope.kind === 'client') q = q.where('id', '=', scope.accountId);
  const a = await q.executeTakeFirst();
  if (!a) throw notFound('account.not_found', 'No such account');
  return a;
}

/** A page of the client accounts with their number of users, oldest first. */
export async function listAccountsWithUserCount(
  db: Db,
  page: PageRequest,
): Promise<Page<Account & { users: number }>> {
  // The count is a subquery per row of the page (users_account index), not a join grouped over
  // every account: the page is read from the accounts_created index and stops after 51 rows.
  const q = db
    .selectFrom('accounts')
    .select(['accounts.id', 'accounts.name', 'accounts.language', 'accounts.created_at'])
    .select((eb) =>
      eb
        .selectFrom('users')
        .select((e) => e.fn.countAll<string>().as('n'))
        .whereRef('users.account_id', '=', 'accounts.id')
        .as('users'),
    );
  const p = await pageOf(q, byCreated('accounts', 'asc', 'accounts'), page);
  return { items: p.items.map((r) => ({ ...r, users: Number(r.users ?? 0) })), nextCursor: p.nextCursor };
}

/**
 * Spends a TOTP time step: true for the one caller that moved the user's last step forward, false
 * when this step (or a later one) was already used. One statement, so parallel logins with one
 * code cannot all pass.
 */
export async function consumeTotpStep(db: Db, userId: string, step: number): Promise<boolean> {
  const r = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', String(step))]))
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

/**
 * Claims the "repeated failed logins" mail for a user: true for one caller per window (the
 * previous claim is older than `notBefore`), false otherwise. One statement: no double mail.
 */
export async function claimLoginAlert(db: Db, userId: string, at: Date, notBefore: Date): Promise<boolean> {
  const r = await db
    .updateTable('users')
    .set({ login_alert_at: at })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('login_alert_at', 'is', null), eb('login_alert_at', '<=', notBefore)]))
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

/** The emails of a client account's users (lowercase): who a client may see named in its records. */
export async function accountEmails(db: Db, accountId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('users').select('email').where('account_id', '=', accountId).execute();
  return new Set(rows.map((r) => r.email.toLowerCase()));
}

/** Whether any staff member exists (`infogere start --first-run` creates the first admin otherwise). */
export async function hasStaff(db: Db): Promise<boolean> {
  const r = await db.selectFrom('users').select('id').where('kind', '=', 'staff').limit(1).executeTakeFirst();
  return r !== undefined;
}
