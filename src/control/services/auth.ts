// Login, sessions, API tokens, TOTP, throttling.
// Sessions: a 256-bit CSPRNG token in an HttpOnly SameSite=Strict cookie, stored hashed; new on
// every login; ends after 30 min idle or 12 h in all (settings). A CSRF token per session guards
// cookie-authenticated writes. API tokens (stored hashed) authenticate scripts, without CSRF.
import { MINUTE, HOUR } from '../../domain/clock.ts';
import { conflict, DomainError, invalidData, notAllowed } from '../../domain/errors.ts';
import type { User } from '../db/schema.ts';
import {
  findLiveTokenByHash,
  insertApiToken,
  listTokensOf,
  markTokenUsed,
  revokeTokenOf,
} from '../repositories/api-tokens.ts';
import { countFailures, recordLoginAttempt } from '../repositories/login-attempts.ts';
import type { Scope } from '../repositories/scope.ts';
import { deleteSession, findSession, insertSession, touchSession } from '../repositories/sessions.ts';
import { findUserByEmail, findUserById, updateUser } from '../repositories/users.ts';
import { dummyHash, verifyPassword } from '../security/passwords.ts';
import { API_TOKEN_PREFIX, newToken, tokenHash } from '../security/tokens.ts';
import { newTotpSecret, totpUri, verifyTotp } from '../security/totp.ts';
import type { AuditService } from './audit.ts';
import type { ServiceContext } from './context.ts';

/** An authenticated caller. */
export interface Principal {
  readonly user: User;
  readonly scope: Scope;
  readonly via: 'session' | 'token';
  readonly sessionId?: string;
  readonly csrfToken?: string;
}

export function scopeOf(user: User): Scope {
  if (user.kind === 'staff')
    return { kind: 'staff', userId: user.id, role: user.role as 'admin' | 'support' };
  return { kind: 'client', userId: user.id, accountId: user.account_id! };
}

const unauthenticated = (code = 'auth.unauthenticated', message = 'Not logged in') =>
  new DomainError('not_allowed', code, message);

export function createAuthService(ctx: ServiceContext, audit: AuditService) {
  const idleMs = ctx.config.sessionIdleMinutes * MINUTE;
  const absoluteMs = ctx.config.sessionAbsoluteHours * HOUR;

  async function throttled(email: string, ip: string): Promise<boolean> {
    const since = new Date(ctx.clock.now().getTime() - ctx.config.loginWindowMinutes * MINUTE);
    const f = await countFailures(ctx.db, email, ip, since);
    return f.email >= ctx.config.loginMaxFailuresPerAccount || f.ip >= ctx.config.loginMaxFailuresPerAddress;
  }

  async function fail(
    email: string,
    ip: string,
    user: User | undefined,
    code: string,
    message: string,
  ): Promise<never> {
    await recordLoginAttempt(ctx.db, { at: ctx.clock.now(), email, ip, success: false });
    await audit.record(
      { userId: user?.id ?? null, label: email, ip },
      'auth.login_failed',
      user ? { type: 'user', id: user.id } : undefined,
      {
        reason: code,
      },
    );
    throw new DomainError('not_allowed', code, message);
  }

  return {
    async login(p: {
      email: string;
      password: string;
      totp?: string | undefined;
      ip: string;
      userAgent?: string | undefined;
    }) {
      const email = p.email.trim().toLowerCase();
      if (await throttled(email, p.ip))
        throw new DomainError('not_allowed', 'auth.throttled', 'Too many failed logins: try again later');
      const user = await findUserByEmail(ctx.db, email);
      // Verify against a dummy hash when the user does not exist: same time, no user enumeration.
      const ok = await verifyPassword(user?.password_hash ?? (await dummyHash()), p.password);
      if (!user || !ok || user.disabled_at)
        return fail(email, p.ip, user, 'auth.invalid_credentials', 'Wrong email or password');
      if (user.totp_enabled) {
        if (!p.totp) {
          // Not a failure: the panel asks for the code next.
          throw new DomainError(
            'not_allowed',
            'auth.totp_required',
            'Enter the code from your authenticator app',
          );
        }
        const step = verifyTotp(ctx.secrets.open(user.totp_secret_enc!), p.totp, ctx.clock.now());
        const last = user.totp_last_step === null ? -1 : Number(user.totp_last_step);
        if (step === null || step <= last)
          return fail(email, p.ip, user, 'auth.totp_invalid', 'Wrong or already used code');
        await updateUser(ctx.db, user.id, { totp_last_step: step });
      }
      await recordLoginAttempt(ctx.db, { at: ctx.clock.now(), email, ip: p.ip, success: true });
      const token = newToken();
      const now = ctx.clock.now();
      const csrf = newToken();
      await insertSession(ctx.db, {
        id: tokenHash(token),
        user_id: user.id,
        csrf_token: csrf,
        created_at: now,
        last_seen_at: now,
        ip: p.ip,
        user_agent: p.userAgent?.slice(0, 300) ?? null,
      });
      await audit.record({ userId: user.id, label: user.email, ip: p.ip }, 'auth.login', {
        type: 'user',
        id: user.id,
      });
      return { token, csrfToken: csrf, user };
    },

    /** The principal behind a session cookie, or an error saying why not. */
    async resolveSession(token: string): Promise<Principal> {
      const id = tokenHash(token);
      const s = await findSession(ctx.db, id);
      if (!s) throw unauthenticated();
      const now = ctx.clock.now().getTime();
      if (
        now - new Date(s.last_seen_at).getTime() > idleMs ||
        now - new Date(s.created_at).getTime() > absoluteMs
      ) {
        await deleteSession(ctx.db, id);
        throw unauthenticated('auth.session_expired', 'Your session has expired: log in again');
      }
      const user = await findUserById(ctx.db, s.user_id);
      if (!user || user.disabled_at) throw unauthenticated();
      // Refresh the idle timer at most once a minute: one write per request would be waste.
      if (now - new Date(s.last_seen_at).getTime() > MINUTE) await touchSession(ctx.db, id, ctx.clock.now());
      return { user, scope: scopeOf(user), via: 'session', sessionId: id, csrfToken: s.csrf_token };
    },

    async logout(p: Principal, ip: string): Promise<void> {
      if (p.sessionId) await deleteSession(ctx.db, p.sessionId);
      await audit.record({ userId: p.user.id, label: p.user.email, ip }, 'auth.logout', {
        type: 'user',
        id: p.user.id,
      });
    },

    async resolveApiToken(token: string): Promise<Principal> {
      if (!token.startsWith(API_TOKEN_PREFIX))
        throw unauthenticated('auth.bad_token', 'Not a valid API token');
      const t = await findLiveTokenByHash(ctx.db, tokenHash(token));
      if (!t) throw unauthenticated('auth.bad_token', 'Not a valid API token');
      const user = await findUserById(ctx.db, t.user_id);
      if (!user || user.disabled_at) throw unauthenticated('auth.bad_token', 'Not a valid API token');
      await markTokenUsed(ctx.db, t.id, ctx.clock.now());
      return { user, scope: scopeOf(user), via: 'token' };
    },

    async createApiToken(p: Principal, name: string, ip: string) {
      if (!name.trim()) throw invalidData('validation.name', 'The token needs a name', { field: 'name' });
      const token = newToken(API_TOKEN_PREFIX);
      const row = await insertApiToken(ctx.db, {
        userId: p.user.id,
        name: name.trim(),
        tokenHash: tokenHash(token),
        createdAt: ctx.clock.now(),
      });
      await audit.record(
        { userId: p.user.id, label: p.user.email, ip },
        'token.create',
        { type: 'api_token', id: row.id },
        { name: row.name },
      );
      return { ...row, token };
    },
    listApiTokens: (p: Principal) => listTokensOf(ctx.db, p.user.id),
    async revokeApiToken(p: Principal, id: string, ip: string) {
      await revokeTokenOf(ctx.db, p.user.id, id, ctx.clock.now());
      await audit.record({ userId: p.user.id, label: p.user.email, ip }, 'token.revoke', {
        type: 'api_token',
        id,
      });
    },

    /** Step 1 of enrolment: a new secret, kept but not enabled until a code confirms it. */
    async totpSetup(p: Principal): Promise<{ secret: string; otpauthUrl: string }> {
      if (p.user.totp_enabled) throw conflict('auth.totp_already_enabled', 'The second factor is already on');
      const secret = newTotpSecret();
      await updateUser(ctx.db, p.user.id, { totp_secret_enc: ctx.secrets.seal(secret) });
      return { secret, otpauthUrl: totpUri(secret, p.user.email) };
    },
    async totpEnable(p: Principal, code: string, ip: string): Promise<void> {
      const user = await findUserById(ctx.db, p.user.id);
      if (!user?.totp_secret_enc) throw conflict('auth.totp_not_set_up', 'Start the set-up first');
      if (user.totp_enabled) throw conflict('auth.totp_already_enabled', 'The second factor is already on');
      const step = verifyTotp(ctx.secrets.open(user.totp_secret_enc), code, ctx.clock.now());
      if (step === null) throw invalidData('auth.totp_invalid', 'Wrong code', { field: 'code' });
      await updateUser(ctx.db, user.id, { totp_enabled: true, totp_last_step: step });
      await audit.record({ userId: user.id, label: user.email, ip }, 'auth.totp_enable', {
        type: 'user',
        id: user.id,
      });
    },

    requireStaff(p: Principal, role?: 'admin'): void {
      if (p.scope.kind !== 'staff') throw notAllowed('auth.forbidden', 'Provider staff only');
      if (role === 'admin' && p.scope.role !== 'admin')
        throw notAllowed('auth.forbidden', 'Administrators only');
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
