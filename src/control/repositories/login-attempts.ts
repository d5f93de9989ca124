import type { Db } from '../db/database.ts';

export async function recordLoginAttempt(
  db: Db,
  a: { at: Date; email: string; ip: string; success: boolean },
): Promise<void> {
  await db
    .insertInto('login_attempts')
    .values({ ...a, email: a.email.toLowerCase() })
    .execute();
}

/** Failures since `since` for this email and for this address. */
export async function countFailures(
  db: Db,
  email: string,
  ip: string,
  since: Date,
): Promise<{ email: number; ip: number }> {
  const r = await db
    .selectFrom('login_attempts')
    .select((eb) => [
      eb.fn.countAll<string>().filterWhere('email', '=', email.toLowerCase()).as('email'),
      eb.fn.countAll<string>().filterWhere('ip', '=', ip).as('ip'),
    ])
    .where('at', '>=', since)
    .where('success', '=', false)
    .where((eb) => eb.or([eb('email', '=', email.toLowerCase()), eb('ip', '=', ip)]))
    .executeTakeFirstOrThrow();
  return { email: Number(r.email), ip: Number(r.ip) };
}

export async function pruneLoginAttempts(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('login_attempts').where('at', '<', before).execute();
}
