// Client accounts: identity data (R6.1), self-service sign-ups and their email verification
// links, sign-up attempts (rate limit), account suspensions. Client-reachable reads take a
// Scope and filter by account here.
import { sql, type Selectable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { IdentityData } from '../../domain/identity.ts';
import type { Db } from '../db/database.ts';
import type {
  AccountSuspensionsTable,
  ClientIdentitiesTable,
  ClientSignupsTable,
  EmailVerificationsTable,
} from '../db/tables/clients.ts';
import type { Scope } from './scope.ts';

export type IdentityRow = Selectable<ClientIdentitiesTable>;
export type SignupRow = Selectable<ClientSignupsTable>;
export type VerificationRow = Selectable<EmailVerificationsTable>;
export type SuspensionRow = Selectable<AccountSuspensionsTable>;

const accountOf = (scope: Scope, accountId: string): string | null =>
  scope.kind === 'client' && scope.accountId !== accountId ? null : accountId;

// ----- identity data ---------------------------------------------------------------------

export async function upsertIdentity(
  db: Db,
  accountId: string,
  d: IdentityData,
  now: Date,
): Promise<IdentityRow> {
  const values = {
    last_name: d.lastName,
    first_name: d.firstName,
    organisation: d.organisation,
    address_line1: d.address.line1,
    address_line2: d.address.line2,
    postal_code: d.address.postalCode,
    city: d.address.city,
    country: d.address.country,
    phone: d.phone,
    email: d.email,
    updated_at: now,
  };
  return db
    .insertInto('client_identities')
    .values({ account_id: accountId, ...values })
    .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The identity of an account the caller may see (another account's: not found). */
export async function findIdentity(
  db: Db,
  scope: Scope,
  accountId: string,
): Promise<IdentityRow | undefined> {
  const id = accountOf(scope, accountId);
  if (!id) throw notFound('account.not_found', 'No such account');
  return db.selectFrom('client_identities').selectAll().where('account_id', '=', id).executeTakeFirst();
}

// ----- sign-ups and email verification --------------------------------------------------

export async function insertSignup(
  db: Db,
  s: { accountId: string; userId: string; email: string; ip: string; at: Date },
): Promise<void> {
  await db
    .insertInto('client_signups')
    .values({ account_id: s.accountId, user_id: s.userId, email: s.email, ip: s.ip, created_at: s.at })
    .execute();
}

export function findSignup(db: Db, accountId: string): Promise<SignupRow | undefined> {
  return db.selectFrom('client_signups').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

/** Accounts whose sign-up email is not verified yet (staff-created accounts have no sign-up: verified). */
export async function isEmailUnverified(db: Db, accountId: string): Promise<boolean> {
  const s = await findSignup(db, accountId);
  return Boolean(s && !s.verified_at);
}

export async function markSignupVerified(db: Db, userId: string, at: Date): Promise<void> {
  await db
    .updateTable('client_signups')
    .set({ verified_at: at })
    .where('user_id', '=', userId)
    .where('verified_at', 'is', null)
    .execute();
}

export async function insertVerification(
  db: Db,
  v: { userId: string; tokenHash: string; at: Date; expiresAt: Date },
): Promise<VerificationRow> {
  return db
    .insertInto('email_verifications')
    .values({ user_id: v.userId, token_hash: v.tokenHash, created_at: v.at, expires_at: v.expiresAt })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Locks the link's row (single use under concurrency). */
export function findVerificationForUpdate(db: Db, tokenHash: string): Promise<VerificationRow | undefined> {
  return db
    .selectFrom('email_verifications')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .forUpdate()
    .executeTakeFirst();
}

export async function markVerificationUsed(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('email_verifications').set({ used_at: at }).where('id', '=', id).execute();
}

/** A new link replaces the ones not used yet: they stop working. */
export async function expireOpenVerifications(db: Db, userId: string, at: Date): Promise<void> {
  await db
    .updateTable('email_verifications')
    .set({ expires_at: at })
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', at)
    .execute();
}

export async function countVerificationsSince(db: Db, userId: string, since: Date): Promise<number> {
  const r = await db
    .selectFrom('email_verifications')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function recordSignupAttempt(db: Db, a: { at: Date; ip: string; email: string }): Promise<void> {
  await db
    .insertInto('signup_attempts')
    .values({ at: a.at, ip: a.ip, email: a.email.toLowerCase().slice(0, 254) })
    .execute();
}

const SIGNUP_ADDRESS_LOCK = 0x73676e31; // "sgn1": advisory lock namespace

/** Serialises sign-up attempts from one address until the end of `tx` (count and record are one step). */
export async function lockSignupAddress(tx: Db, ip: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${SIGNUP_ADDRESS_LOCK}, hashtext(${ip}))`.execute(tx);
}

export async function countSignupAttempts(db: Db, ip: string, since: Date): Promise<number> {
  const r = await db
    .selectFrom('signup_attempts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('ip', '=', ip)
    .where('at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

// ----- suspensions ----------------------------------------------------------------------

/** Starts a suspension; null when the same one (account, cause, reference) is already active. */
export async function insertSuspension(
  db: Db,
  s: { accountId: string; cause: string; referenceId: string | null; reason: string; at: Date },
): Promise<SuspensionRow | null> {
  const row = await db
    .insertInto('account_suspensions')
    .values({
      account_id: s.accountId,
      cause: s.cause,
      reference_id: s.referenceId,
      reason: s.reason,
      started_at: s.at,
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

/** Lifts the active suspensions matching; returns those lifted. */
export async function liftSuspensions(
  db: Db,
  m: { accountId: string; cause?: string; referenceId?: string; id?: string },
  lift: { at: Date; by: string; reason: string },
): Promise<SuspensionRow[]> {
  let q = db
    .updateTable('account_suspensions')
    .set({ lifted_at: lift.at, lifted_by: lift.by, lift_reason: lift.reason })
    .where('account_id', '=', m.accountId)
    .where('lifted_at', 'is', null);
  if (m.cause !== undefined) q = q.where('cause', '=', m.cause);
  if (m.referenceId !== undefined) q = q.where('reference_id', '=', m.referenceId);
  if (m.id !== undefined) q = q.where('id', '=', m.id);
  return q.returningAll().execute();
}

export function activeSuspensions(db: Db, accountId: string): Promise<SuspensionRow[]> {
  return db
    .selectFrom('account_suspensions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('lifted_at', 'is', null)
    .orderBy('started_at')
    .execute();
}

export async function hasActiveSuspension(db: Db, accountId: string): Promise<boolean> {
  const r = await db
    .selectFrom('account_suspensions')
    .select(sql<number>`1`.as('one'))
    .where('account_id', '=', accountId)
    .where('lifted_at', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return Boolean(r);
}

/** Every active suspension of every account (for a module reconciling at start). */
export function allActiveSuspensions(db: Db): Promise<SuspensionRow[]> {
  return db
    .selectFrom('account_suspensions')
    .selectAll()
    .where('lifted_at', 'is', null)
    .orderBy('started_at')
    .execute();
}

/** An account's suspensions, active and past, newest first (scoped). */
export function listSuspensions(db: Db, scope: Scope, accountId: string): Promise<SuspensionRow[]> {
  const id = accountOf(scope, accountId);
  if (!id) throw notFound('account.not_found', 'No such account');
  return db
    .selectFrom('account_suspensions')
    .selectAll()
    .where('account_id', '=', id)
    .orderBy('started_at', 'desc')
    .execute();
}

// ----- the console's list ----------------------------------------------------------------

export interface ClientListRow {
  id: string;
  name: string;
  language: 'fr' | 'en';
  created_at: Date;
  last_name: string | null;
  first_name: string | null;
  organisation: string | null;
  country: string | null;
  email: string | null;
  email_unverified: boolean;
  open_requests: number;
  next_due_at: Date | null;
  approved_requests: number;
  active_suspensions: number;
}

/** Staff only: every client account with its identity summary, soonest open deadline first. */
export async function listClients(db: Db): Promise<ClientListRow[]> {
  const rows = await db
    .selectFrom('accounts')
    .leftJoin('client_identities as ci', 'ci.account_id', 'accounts.id')
    .leftJoin('client_signups as cs', 'cs.account_id', 'accounts.id')
    .select([
      'accounts.id',
      'accounts.name',
      'accounts.language',
      'accounts.created_at',
      'ci.last_name',
      'ci.first_name',
      'ci.organisation',
      'ci.country',
      'ci.email',
    ])
    .select((eb) => [
      eb.and([eb('cs.account_id', 'is not', null), eb('cs.verified_at', 'is', null)]).as('email_unverified'),
      eb
        .selectFrom('identity_requests as r')
        .select((e) => e.fn.countAll<string>().as('n'))
        .whereRef('r.account_id', '=', 'accounts.id')
        .where('r.state', '=', 'open')
        .as('open_requests'),
      eb
        .selectFrom('identity_requests as r')
        .select((e) => e.fn.min<Date>('r.due_at').as('d'))
        .whereRef('r.account_id', '=', 'accounts.id')
        .where('r.state', '=', 'open')
        .as('next_due_at'),
      eb
        .selectFrom('identity_requests as r')
        .select((e) => e.fn.countAll<string>().as('n'))
        .whereRef('r.account_id', '=', 'accounts.id')
        .where('r.state', '=', 'approved')
        .as('approved_requests'),
      eb
        .selectFrom('account_suspensions as s')
        .select((e) => e.fn.countAll<string>().as('n'))
        .whereRef('s.account_id', '=', 'accounts.id')
        .where('s.lifted_at', 'is', null)
        .as('active_suspensions'),
    ])
    .orderBy(
      sql`(SELECT min(due_at) FROM identity_requests r WHERE r.account_id = accounts.id AND r.state = 'open') ASC NULLS LAST`,
    )
    .orderBy('accounts.created_at', 'desc')
    .execute();
  return rows.map((r) => ({
    ...r,
    email_unverified: Boolean(r.email_unverified),
    open_requests: Number(r.open_requests ?? 0),
    next_due_at: r.next_due_at ? new Date(r.next_due_at) : null,
    approved_requests: Number(r.approved_requests ?? 0),
    active_suspensions: Number(r.active_suspensions ?? 0),
  }));
}
