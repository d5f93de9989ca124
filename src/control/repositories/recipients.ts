// Who a mail about an account goes to. One place for the rule, used through mail/recipients.ts.
import type { Db } from '../db/database.ts';
import type { Language } from '../db/schema.ts';

export interface Recipient {
  readonly to: string;
  readonly name: string;
  readonly language: Language;
}

/** The user, when it is active; the caller falls back to the account's contact otherwise. */
export async function activeUserContact(db: Db, userId: string): Promise<Recipient | undefined> {
  const u = await db
    .selectFrom('users')
    .select(['email', 'name', 'language'])
    .where('id', '=', userId)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return u ? { to: u.email, name: u.name, language: u.language } : undefined;
}

/**
 * An account's contact (R6.1 identity data): the email of its identity record when it has one,
 * else its oldest active user; the account's language. Undefined for an account with neither.
 */
export async function accountContact(db: Db, accountId: string): Promise<Recipient | undefined> {
  const row = await db
    .selectFrom('accounts')
    .leftJoin('client_identities', 'client_identities.account_id', 'accounts.id')
    .select([
      'accounts.language',
      'client_identities.email as identity_email',
      'client_identities.first_name',
      'client_identities.last_name',
    ])
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.identity_email)
    return {
      to: row.identity_email,
      name: `${row.first_name ?? ''} ${row.last_name ?? ''}`.trim(),
      language: row.language,
    };
  const first = await db
    .selectFrom('users')
    .select(['email', 'name'])
    .where('account_id', '=', accountId)
    .where('disabled_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return first ? { to: first.email, name: first.name, language: row.language } : undefined;
}
