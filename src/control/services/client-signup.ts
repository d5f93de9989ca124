// Self-service sign-up (R6.1): the account, its first user and its identity in one transaction,
// unverified, and a one-time link by email. What an unverified account may do (its sign-up email
// not confirmed yet): log in, read and complete its identity, answer proof requests, ask for a
// new link. It may not order (`clients.assertMayOrder`). Accounts created by staff have no
// sign-up row: staff vouch for them.
import { HOUR } from '../../domain/clock.ts';
import { conflict, DomainError, invalidData } from '../../domain/errors.ts';
import {
  checkEmailAddress,
  defaultAccountName,
  validateIdentity,
  type IdentityInput,
} from '../../domain/identity.ts';
import type { Db } from '../db/database.ts';
import type { Language } from '../db/schema.ts';
import { mailDate } from '../mail/format.ts';
import {
  countSignupAttempts,
  countVerificationsSince,
  expireOpenVerifications,
  findSignup,
  findVerificationForUpdate,
  insertSignup,
  insertVerification,
  lockSignupAddress,
  markSignupVerified,
  markVerificationUsed,
  recordSignupAttempt,
  upsertIdentity,
} from '../repositories/clients.ts';
import { findUserById, insertAccount, insertUser } from '../repositories/users.ts';
import { hashPassword } from '../security/passwords.ts';
import { newToken, tokenHash } from '../security/tokens.ts';
import type { AuditService } from './audit.ts';
import type { Principal } from './auth.ts';
import type { ServiceContext } from './context.ts';
import { checkPassword } from './identity.ts';
import type { MailService } from './mail.ts';

/** A sign-up's email link lasts this long. */
export const VERIFY_LINK_MS = 72 * HOUR;
/** Sign-up attempts per address (IP) per hour. */
export const SIGNUPS_PER_ADDRESS_PER_HOUR = 10;
/** New verification links per user per hour. */
export const VERIFY_LINKS_PER_HOUR = 5;
export interface SignupInput extends IdentityInput {
  accountName?: string | undefined;
  password: string;
  language: Language;
}

const uniqueEmail = (e: unknown): never => {
  if ((e as { code?: string }).code === '23505')
    throw conflict('user.email_taken', 'A user with this email already exists');
  throw e;
};

const tooMany = (message: string) => new DomainError('not_allowed', 'auth.throttled', message);

export function createSignup(ctx: ServiceContext, audit: AuditService, mail: MailService) {
  const url = (p: string) => new URL(p, ctx.config.publicUrl).toString();

  async function sendVerification(
    db: Db,
    user: { id: string; email: string; name: string; language: Language; accountId: string },
    now: Date,
  ) {
    const token = newToken();
    const expiresAt = new Date(now.getTime() + VERIFY_LINK_MS);
    await insertVerification(db, { userId: user.id, tokenHash: tokenHash(token), at: now, expiresAt });
    await mail.send(db, {
      to: user.email,
      template: 'clients.signup_verify',
      language: user.language,
      vars: {
        name: user.name,
        email: user.email,
        // In the fragment: never sent by the browser, so never in a server's or proxy's logs.
        verifyUrl: url(`/verify#token=${encodeURIComponent(token)}`),
        expiresAt: mailDate(expiresAt, user.language),
      },
      accountId: user.accountId,
      reason: 'R6.1 sign-up: confirm the email address',
      secretsExpireAt: expiresAt,
    });
  }

  return {
    /** Public sign-up: the account, its first user and its identity (R6.1) in one transaction, unverified; the link is emailed. */
    async signup(p: SignupInput, ip: string) {
      const now = ctx.clock.now();
      // Count and record under the address's lock: parallel sign-ups from one address see each
      // other, so at most the limit get through.
      const allowed = await ctx.db.transaction().execute(async (tx) => {
        await lockSignupAddress(tx, ip);
        if (
          (await countSignupAttempts(tx, ip, new Date(now.getTime() - HOUR))) >= SIGNUPS_PER_ADDRESS_PER_HOUR
        )
          return false;
        await recordSignupAttempt(tx, { at: now, ip, email: p.email });
        return true;
      });
      if (!allowed) throw tooMany('Too many sign-ups from this address: try again later');
      const email = checkEmailAddress(p.email);
      checkPassword(p.password);
      const identity = validateIdentity({ ...p, email });
      const accountName = p.accountName?.trim() || defaultAccountName(identity);
      if (accountName.length > 200)
        throw invalidData('validation.accountName', 'The account name is too long', { field: 'accountName' });
      const hash = await hashPassword(p.password);
      const name = `${identity.firstName} ${identity.lastName}`;
      const r = await ctx.db
        .transaction()
        .execute(async (tx) => {
          const account = await insertAccount(tx, {
            name: accountName,
            language: p.language,
            createdAt: now,
          });
          const user = await insertUser(tx, {
            kind: 'client',
            role: 'client',
            account_id: account.id,
            email,
            name,
            language: p.language,
            password_hash: hash,
            totp_enabled: false,
            created_at: now,
          });
          await upsertIdentity(tx, account.id, identity, now);
          await insertSignup(tx, { accountId: account.id, userId: user.id, email, ip, at: now });
          await sendVerification(
            tx,
            { id: user.id, email, name, language: p.language, accountId: account.id },
            now,
          );
          return { account, user };
        })
        .catch(uniqueEmail);
      await audit.record(
        { userId: r.user.id, label: email, ip },
        'account.signup',
        { type: 'account', id: r.account.id },
        { email },
      );
      return r;
    },

    /** The one-time link: single use, refused once used or expired. */
    async verifyEmail(token: string, ip: string) {
      const now = ctx.clock.now();
      const user = await ctx.db.transaction().execute(async (tx) => {
        const v = await findVerificationForUpdate(tx, tokenHash(token));
        if (!v) throw invalidData('signup.token_invalid', 'This link is not valid', { field: 'token' });
        if (v.used_at) throw conflict('signup.token_used', 'This link was already used');
        if (v.expires_at.getTime() <= now.getTime())
          throw conflict('signup.token_expired', 'This link has expired: ask for a new one');
        await markVerificationUsed(tx, v.id, now);
        await markSignupVerified(tx, v.user_id, now);
        return findUserById(tx, v.user_id);
      });
      if (!user) throw invalidData('signup.token_invalid', 'This link is not valid', { field: 'token' });
      await audit.record({ userId: user.id, label: user.email, ip }, 'account.email_verified', {
        type: 'user',
        id: user.id,
      });
      return user;
    },

    /** A new link for a logged-in client whose email is not verified yet; older links stop working. */
    async resendVerification(p: Principal, ip: string): Promise<void> {
      const accountId = p.user.account_id!;
      const signup = await findSignup(ctx.db, accountId);
      if (!signup || signup.verified_at)
        throw conflict('signup.already_verified', 'The email address is already confirmed');
      const now = ctx.clock.now();
      if (
        (await countVerificationsSince(ctx.db, signup.user_id, new Date(now.getTime() - HOUR))) >=
        VERIFY_LINKS_PER_HOUR
      )
        throw tooMany('Too many links asked for: try again later');
      const user = await findUserById(ctx.db, signup.user_id);
      if (!user) throw conflict('signup.already_verified', 'The email address is already confirmed');
      await ctx.db.transaction().execute(async (tx) => {
        await expireOpenVerifications(tx, user.id, now);
        await sendVerification(
          tx,
          { id: user.id, email: user.email, name: user.name, language: user.language, accountId },
          now,
        );
      });
      await audit.record({ userId: p.user.id, label: p.user.email, ip }, 'account.verification_resent', {
        type: 'user',
        id: user.id,
      });
    },
  };
}

export type Signup = ReturnType<typeof createSignup>;
