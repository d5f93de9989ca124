// Who is told (every "the client is told" of the contract): one rule for every module's mails.
import { conflict } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import { accountContact, activeUserContact, type Recipient } from '../repositories/recipients.ts';

export type { Recipient };

/**
 * The recipient of a mail about an account: `userId` (e.g. who placed the order) when that user
 * is still active, else the account's contact (its identity email, else its oldest active user).
 * An account with no address at all is a conflict, not a silent drop.
 */
export async function recipientOf(db: Db, accountId: string, opts: { userId?: string | null } = {}) {
  const r = await findRecipient(db, accountId, opts);
  if (!r) throw conflict('account.no_contact', 'This account has no email address to write to');
  return r satisfies Recipient;
}

/**
 * The same rule, undefined for an account with no address: for a fact that stands whether or
 * not the client can be told (a throttle at quota, a sanction), where the mail is the extra.
 */
export async function findRecipient(
  db: Db,
  accountId: string,
  opts: { userId?: string | null } = {},
): Promise<Recipient | undefined> {
  return (
    (opts.userId ? await activeUserContact(db, opts.userId) : undefined) ??
    (await accountContact(db, accountId))
  );
}
