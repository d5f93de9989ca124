import { sql } from 'kysely';
import type { LoginCounts } from '../../domain/auth.ts';
import type { Db } from '../db/database.ts';

// Advisory lock namespaces (the two-key form keeps them apart from other modules' keys).
const EMAIL_LOCK = 0x6c6f6731; // "log1"
const ADDRESS_LOCK = 0x6c6f6732; // "log2"

/**
 * Serialises, until the end of `tx`, every reservation for this email and for this address, so
 * counting and recording an attempt is one step (parallel guesses are all counted). Always
 * the email's lock first, then the address's: two transactions never wait on each other in a cycle.
 */
export async function lockLoginKeys(tx: Db, email: string, ip: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${EMAIL_LOCK}, hashtext(${email.toLowerCase()}))`.execute(tx);
  await sql`SELECT pg_advisory_xact_lock(${ADDRESS_LOCK}, hashtext(${ip}))`.execute(tx);
}

/** Attempt rows that are not successes (failed, or still being checked) since `since`. */
export async function countLoginFailures(
  db: Db,
  email: string,
  ip: string,
  since: Date,
): Promise<LoginCounts> {
  const e = email.toLowerCase();
  const r = await db
    .selectFrom('login_attempts')
    .select((eb) => [
      eb.fn.countAll<string>().filterWhere('ip', '=', ip).as('address'),
      eb.fn
        .countAll<string>()
        .filterWhere((w) => w.and([w('email', '=', e), w('ip', '=', ip)]))
        .as('accountFromAddress'),
      eb.fn.countAll<string>().filterWhere('email', '=', e).as('account'),
      eb.fn.max('at').filterWhere('email', '=', e).as('accountLatest'),
    ])
    .where('at', '>=', since)
    .where((eb) => eb.or([eb('success', 'is', null), eb('success', '=', false)]))
    .where((eb) => eb.or([eb('email', '=', e), eb('ip', '=', ip)]))
    .executeTakeFirstOrThrow();
  return {
    address: Number(r.address),
    accountFromAddress: Number(r.accountFromAddress),
    account: Number(r.account),
    accountLatest: r.accountLatest ? new Date(r.accountLatest) : null,
  };
}

/** The account's failures since `since` (from every address) and the latest one. */
export async function countAccountFailures(
  db: Db,
  email: string,
  since: Date,
): Promise<{ count: number; latest: Date | null }> {
  const r = await db
    .selectFrom('login_attempts')
    .select((eb) => [eb.fn.countAll<string>().as('count'), eb.fn.max('at').as('latest')])
    .where('email', '=', email.toLowerCase())
    .where('at', '>=', since)
    .where((eb) => eb.or([eb('success', 'is', null), eb('success', '=', false)]))
    .executeTakeFirstOrThrow();
  return { count: Number(r.count), latest: r.latest ? new Date(r.latest) : null };
}

/** An attempt being checked: it counts as a failure until `decideLoginAttempt`. */
export async function insertPendingAttempt(
  db: Db,
  a: { at: Date; email: string; ip: string },
): Promise<string> {
  const r = await db
    .insertInto('login_attempts')
    .values({ at: a.at, email: a.email.toLowerCase(), ip: a.ip, success: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

export async function decideLoginAttempt(db: Db, id: string, success: boolean): Promise<void> {
  await db.updateTable('login_attempts').set({ success }).where('id', '=', id).execute();
}

/** An attempt that was neither (right password, second factor still to come): forgotten. */
export async function dropLoginAttempt(db: Db, id: string): Promise<void> {
  await db.deleteFrom('login_attempts').where('id', '=', id).execute();
}

export async function pruneLoginAttempts(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('login_attempts').where('at', '<', before).execute();
}
