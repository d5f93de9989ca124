// Client accounts: identity data (R6.1), self-service sign-ups and their email verification
// links, sign-up attempts (rate limit), account suspensions. Client-reachable reads take a
// Scope and filter by account here.
import { sql, type Selectable, type SqlBool } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { IdentityData } from '../../domain/identity.ts';
import type { Db } from '../db/database.ts';
import type {
  AccountSuspensionsTable,
  ClientIdentitiesTable,
  ClientSignupsTable,
  EmailVerificationsTable,
} from '../db/tables/clients.ts';
import { decodeCursor, encodeCursor, pageFrom, pageSize, type Page, type PageRequest } from './pagination.ts';
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

/**
 * Staff only: the client accounts with their identity summary, a page at a time, soonest open
 * proof deadline first (R6.1: who must be chased), then the others newest first.
 *
 * The order is a computed key (the minimum `due_at` of the account's open requests), so it is
 * paged as two keyset streams rather than by a stored column to keep up to date: first the
 * accounts with an open request (few: read from the partial index on open requests, ordered by
 * (deadline, created_at DESC, id DESC)), then the accounts without one, by (created_at DESC, id
 * DESC) over the accounts index with an anti-join on the same partial index. Each page costs the
 * open requests plus its own rows, never the whole table. The cursor holds the last row's
 * deadline (null in the second stream), creation time and id.
 */
export async function listClients(db: Db, page: PageRequest): Promise<Page<ClientListRow>> {
  const limit = pageSize(page);
  const after = page.cursor === undefined ? null : decodeCursor(CLIENTS, CLIENT_KEY, page.cursor);
  const [dueAfter, createdAfter, idAfter] = after ?? [null, null, null];
  const openDue = db
    .selectFrom('identity_requests')
    .select(['account_id', (eb) => eb.fn.min<Date>('due_at').as('due')])
    .where('state', '=', 'open')
    .groupBy('account_id');
  type Key = { id: string; created_at: Date; due: Date | null };
  let keys: Key[] = [];
  if (after === null || dueAfter !== null) {
    let q = db
      .selectFrom(openDue.as('o'))
      .innerJoin('accounts as a', 'a.id', 'o.account_id')
      .select(['a.id', 'a.created_at', 'o.due']);
    if (after !== null)
      q = q.where((eb) =>
        eb.or([
          eb('o.due', '>', new Date(dueAfter!)),
          eb.and([
            eb('o.due', '=', new Date(dueAfter!)),
            sql<SqlBool>`(a.created_at, a.id) < (${createdAfter}, ${idAfter})`,
          ]),
        ]),
      );
    keys = await q
      .orderBy('o.due', 'asc')
      .orderBy('a.created_at', 'desc')
      .orderBy('a.id', 'desc')
      .limit(limit + 1)
      .execute();
  }
  if (keys.length <= limit) {
    let q = db
      .selectFrom('accounts as a')
      .select(['a.id', 'a.created_at', sql<Date | null>`NULL::timestamptz`.as('due')])
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('identity_requests as r')
              .select('r.id')
              .whereRef('r.account_id', '=', 'a.id')
              .where('r.state', '=', 'open'),
          ),
        ),
      );
    if (after !== null && dueAfter === null)
      q = q.where(sql<SqlBool>`(a.created_at, a.id) < (${createdAfter}, ${idAfter})`);
    keys = keys.concat(
      await q
        .orderBy('a.created_at', 'desc')
        .orderBy('a.id', 'desc')
        .limit(limit + 1 - keys.length)
        .execute(),
    );
  }
  const p = pageFrom(keys, limit, (k) => encodeCursor(CLIENTS, CLIENT_KEY, [k.due, k.created_at, k.id]));
  const details = new Map(
    (
      await clientSummaries(
        db,
        p.items.map((k) => k.id),
      )
    ).map((r) => [r.id, r]),
  );
  return { items: p.items.map((k) => details.get(k.id)!), nextCursor: p.nextCursor };
}

const CLIENTS = 'clients';
const CLIENT_KEY = ['timestamp?', 'timestamp', 'uuid'] as const;

/** The identity summary of the given accounts (at most a page of them). */
async function clientSummaries(db: Db, ids: string[]): Promise<ClientListRow[]> {
  if (!ids.length) return [];
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
    .where('accounts.id', 'in', ids)
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
