// Provider staff and client users.
import { conflict, invalidData } from '../../domain/errors.ts';
import type { Account, Language, User } from '../db/schema.ts';
import type { Scope } from '../repositories/scope.ts';
import {
  accountEmails,
  getAccount,
  getUser,
  insertAccount,
  insertUser,
  listAccountsWithUserCount,
  listUsers,
} from '../repositories/users.ts';
import { hashPassword, PASSWORD_MIN_LENGTH } from '../security/passwords.ts';
import { newTotpSecret, totpUri } from '../security/totp.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkEmail(email: string): string {
  const e = email.trim();
  if (!EMAIL.test(e) || e.length > 254)
    throw invalidData('validation.email', 'Not a valid email address', { field: 'email' });
  return e;
}

export function checkPassword(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH)
    throw invalidData(
      'validation.password',
      `The password needs at least ${PASSWORD_MIN_LENGTH} characters`,
      { field: 'password' },
    );
}

function uniqueEmail(e: unknown): never {
  if ((e as { code?: string }).code === '23505')
    throw conflict('user.email_taken', 'A user with this email already exists');
  throw e;
}

export function createIdentityService(ctx: ServiceContext, audit: AuditService) {
  return {
    /** A user; a client reads only its own account's (another's is not found). */
    getUser: (scope: Scope, id: string): Promise<User> => getUser(ctx.db, scope, id),
    /** A client account; a client reads only its own. */
    getAccount: (scope: Scope, id: string): Promise<Account> => getAccount(ctx.db, scope, id),
    /** The users of an account: a client's own; staff name the account (checked to exist). */
    async listUsers(scope: Scope, accountId?: string): Promise<User[]> {
      if (accountId !== undefined) await getAccount(ctx.db, scope, accountId);
      return listUsers(ctx.db, scope, accountId);
    },
    /** Every client account with its number of users (staff). */
    listAccounts: (page: PageRequest) => listAccountsWithUserCount(ctx.db, page),
    /**
     * A client's account emails (who it may see named in its records, services/client-views.ts);
     * null for staff, who see every name.
     */
    ownEmails: async (scope: Scope): Promise<ReadonlySet<string> | null> =>
      scope.kind === 'client' ? accountEmails(ctx.db, scope.accountId) : null,

    /** Staff always have a TOTP second factor (R: foundation; enforced by a DB constraint too). */
    async createStaff(
      p: { email: string; name: string; password: string; role: 'admin' | 'support'; language?: Language },
      actor: AuditActor,
    ): Promise<{ user: User; totpSecret: string; otpauthUrl: string }> {
      const email = checkEmail(p.email);
      checkPassword(p.password);
      const secret = newTotpSecret();
      const user = await insertUser(ctx.db, {
        kind: 'staff',
        role: p.role,
        account_id: null,
        email,
        name: p.name.trim(),
        language: p.language ?? 'fr',
        password_hash: await hashPassword(p.password),
        totp_secret_enc: ctx.secrets.seal(secret),
        totp_enabled: true,
        created_at: ctx.clock.now(),
      }).catch(uniqueEmail);
      await audit.record(actor, 'staff.create', { type: 'user', id: user.id }, { email, role: p.role });
      return { user, totpSecret: secret, otpauthUrl: totpUri(secret, email) };
    },

    async createClientAccount(
      p: { accountName: string; email: string; name: string; password: string; language?: Language },
      actor: AuditActor,
    ): Promise<{ account: Account; user: User }> {
      const email = checkEmail(p.email);
      checkPassword(p.password);
      if (!p.accountName.trim())
        throw invalidData('validation.accountName', 'The account needs a name', { field: 'accountName' });
      const hash = await hashPassword(p.password);
      const now = ctx.clock.now();
      const language = p.language ?? 'fr';
      const { account, user } = await ctx.db
        .transaction()
        .execute(async (tx) => {
          const account = await insertAccount(tx, { name: p.accountName.trim(), language, createdAt: now });
          const user = await insertUser(tx, {
            kind: 'client',
            role: 'client',
            account_id: account.id,
            email,
            name: p.name.trim(),
            language,
            password_hash: hash,
            totp_enabled: false,
            created_at: now,
          });
          return { account, user };
        })
        .catch(uniqueEmail);
      await audit.record(actor, 'account.create', { type: 'account', id: account.id }, { email });
      return { account, user };
    },
  };
}
export type IdentityService = ReturnType<typeof createIdentityService>;
