// Login, sessions, API tokens, TOTP, throttling.
// Sessions: a 256-bit CSPRNG token in an HttpOnly SameSite=Strict cookie, stored hashed; new on
// every login; ends after 30 min idle or 12 h in all (settings). A CSRF token per session guards
// cookie-authenticated writes. API tokens (stored hashed) authenticate scripts, without CSRF;
// they expire and act with min(owner's role, token's role).
// Throttle (the rule: src/domain/auth.ts): an attempt is reserved (counted and recorded under
// per-email and per-address advisory locks, one transaction) before the password is checked,
// so parallel guesses cannot all pass; no hard lock of an account, its owner is mailed instead.
import {
  effectiveRole,
  loginVerdict,
  mayGrant,
  TOKEN_DEFAULT_DAYS,
  TOKEN_MAX_DAYS,
  TOKEN_MIN_DAYS,
  tokenExpiry,
  warnsOwner,
  type LoginLimits,
  type TokenRole,
} from '../../domain/auth.ts';
import { MINUTE, HOUR } from '../../domain/clock.ts';
import { conflict, DomainError, invalidData, notAllowed } from '../../domain/errors.ts';
import type { User } from '../db/schema.ts';
import type { MailService } from './mail.ts';
import {
  findLiveTokenByHash,
  insertApiToken,
  listTokensOf,
  markTokenUsed,
  revokeTokenOf,
} from '../repositories/api-tokens.ts';
import {
  countAccountFailures,
  countLoginFailures,
  decideLoginAttempt,
  dropLoginAttempt,
  insertPendingAttempt,
  lockLoginKeys,
} from '../repositories/login-attempts.ts';
import type { Scope } from '../repositories/scope.ts';
import { deleteSession, findSession, insertSession, touchSession } from '../repositories/sessions.ts';
import { insertConnectionRecord } from '../repositories/retention.ts';
import {
  claimLoginAlert,
  consumeTotpStep,
  findUserByEmail,
  findUserById,
  updateUser,
} from '../repositories/users.ts';
import { dummyHash, verifyPassword } from '../security/passwords.ts';
import { API_TOKEN_PREFIX, newToken, tokenHash } from '../security/tokens.ts';
import { newTotpSecret, totpUri, verifyTotp } from '../security/totp.ts';
import type { AuditService } from './audit.ts';
import { mailDate } from '../mail/format.ts';
import type { ServiceContext } from './context.ts';

/** An authenticated caller. */
export interface Principal {
  readonly user: User;
  readonly scope: Scope;
  readonly via: 'session' | 'token';
  readonly sessionId?: string;
  readonly csrfToken?: string;
}

export function scopeOf(user: User, role: TokenRole = user.role): Scope {
  if (user.kind === 'staff') return { kind: 'staff', userId: user.id, role: role as 'admin' | 'support' };
  return { kind: 'client', userId: user.id, accountId: user.account_id! };
}

/** The role a principal acts with (a token's may be narrower than its owner's). */
export function roleOf(p: Principal): TokenRole {
  return p.scope.kind === 'staff' ? p.scope.role : 'client';
}

const unauthenticated = (code = 'auth.unauthenticated', message = 'Not logged in') =>
  new DomainError('not_allowed', code, message);
const badToken = () => unauthenticated('auth.bad_token', 'Not a valid API token');

/** An attempt counted before the password is checked. */
interface Reservation {
  id: string;
  email: string;
  ip: string;
}

export interface NewTokenInput {
  name: string;
  password: string;
  totp?: string | undefined;
  expiresInDays?: number | undefined;
  role?: TokenRole | undefined;
}

export function createAuthService(ctx: ServiceContext, audit: AuditService, mail: MailService) {
  const idleMs = ctx.config.sessionIdleMinutes * MINUTE;
  const absoluteMs = ctx.config.sessionAbsoluteHours * HOUR;
  const limits: LoginLimits = {
    perAccount: ctx.config.loginMaxFailuresPerAccount,
    perAddress: ctx.config.loginMaxFailuresPerAddress,
    windowMs: ctx.config.loginWindowMinutes * MINUTE,
  };
  const windowStart = (now: Date) => new Date(now.getTime() - limits.windowMs);

  /**
   * Counts and records the attempt in one transaction under the email's and the address's
   * locks, or refuses it (429 auth.throttled, not recorded). The row counts as a failure until
   * it is decided, so N parallel guesses see each other.
   */
  async function reserve(email: string, ip: string): Promise<Reservation> {
    const now = ctx.clock.now();
    const id = await ctx.db.transaction().execute(async (tx) => {
      await lockLoginKeys(tx, email, ip);
      const verdict = loginVerdict(await countLoginFailures(tx, email, ip, windowStart(now)), limits, now);
      if (!verdict.allowed) return null;
      return insertPendingAttempt(tx, { at: now, email, ip });
    });
    if (id === null)
      throw new DomainError('not_allowed', 'auth.throttled', 'Too many failed logins: try again later');
    return { id, email, ip };
  }

  /** Tells the owner, once per window, that the account sees repeated failures. */
  async function warnOwner(user: User, email: string): Promise<void> {
    const now = ctx.clock.now();
    const failures = await countAccountFailures(ctx.db, email, windowStart(now));
    if (!warnsOwner(failures.count, limits)) return;
    await ctx.db.transaction().execute(async (tx) => {
      if (!(await claimLoginAlert(tx, user.id, now, windowStart(now)))) return;
      await mail.send(tx, {
        to: user.email,
        template: 'auth.login_failures',
        language: user.language,
        vars: {
          name: user.name,
          email: user.email,
          failures: failures.count,
          minutes: ctx.config.loginWindowMinutes,
          at: mailDate(failures.latest ?? now, user.language),
        },
        accountId: user.account_id,
        reason:
          'Security: repeated failed logins on the account (the owner is told, the account is not locked)',
      });
    });
  }

  async function fail(
    r: Reservation,
    user: User | undefined,
    code: string,
    message: string,
    kind: 'login' | 'reauth' = 'login',
  ): Promise<never> {
    await decideLoginAttempt(ctx.db, r.id, false);
    await audit.record(
      { userId: user?.id ?? null, label: r.email, ip: r.ip },
      kind === 'login' ? 'auth.login_failed' : 'auth.reauth_failed',
      user ? { type: 'user', id: user.id } : undefined,
      {
        reason: code,
      },
    );
    // The caller's answer does not depend on the mail: a mail that cannot be written is logged.
    if (user)
      await warnOwner(user, r.email).catch((e: unknown) =>
        ctx.log.error({ err: e, userId: user.id }, 'repeated failed logins: owner not mailed'),
      );
    throw new DomainError('not_allowed', code, message);
  }

  /**
   * Checks the password (and the TOTP code when the user has one) of an already logged-in user
   * before a sensitive act (creating an API token), throttled like a login. 403 codes: the
   * panel must not read them as "session ended".
   */
  async function reauthenticate(user: User, password: string, totp: string | undefined, ip: string) {
    const r = await reserve(user.email.toLowerCase(), ip);
    if (!(await verifyPassword(user.password_hash, password)))
      return fail(r, user, 'auth.reauth_password_wrong', 'Wrong password', 'reauth');
    if (user.totp_enabled) {
      if (!totp) {
        await dropLoginAttempt(ctx.db, r.id);
        throw notAllowed('auth.reauth_totp_required', 'Enter the code from your authenticator app');
      }
      const step = verifyTotp(ctx.secrets.open(user.totp_secret_enc!), totp, ctx.clock.now());
      if (step === null || !(await consumeTotpStep(ctx.db, user.id, step)))
        return fail(r, user, 'auth.reauth_totp_invalid', 'Wrong or already used code', 'reauth');
    }
    await decideLoginAttempt(ctx.db, r.id, true);
  }

  const seenSockets = new WeakSet<object>();

  return {
    async login(p: {
      email: string;
      password: string;
      totp?: string | undefined;
      ip: string;
      /** The TCP source port (décret 2021-1362 connection records); null behind a proxy. */
      port?: number | null;
      userAgent?: string | undefined;
    }) {
      const email = p.email.trim().toLowerCase();
      const r = await reserve(email, p.ip);
      const user = await findUserByEmail(ctx.db, email);
      // Verify against a dummy hash when the user does not exist: same time, no user enumeration.
      const ok = await verifyPassword(user?.password_hash ?? (await dummyHash()), p.password);
      if (!user || !ok || user.disabled_at)
        return fail(r, user, 'auth.invalid_credentials', 'Wrong email or password');
      if (user.totp_enabled) {
        if (!p.totp) {
          // Not a failure: the panel asks for the code next.
          await dropLoginAttempt(ctx.db, r.id);
          throw new DomainError(
            'not_allowed',
            'auth.totp_required',
            'Enter the code from your authenticator app',
          );
        }
        // The step is spent by one conditional UPDATE: of parallel logins with one code, one wins.
        const step = verifyTotp(ctx.secrets.open(user.totp_secret_enc!), p.totp, ctx.clock.now());
        if (step === null || !(await consumeTotpStep(ctx.db, user.id, step)))
          return fail(r, user, 'auth.totp_invalid', 'Wrong or already used code');
      }
      await decideLoginAttempt(ctx.db, r.id, true);
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
      await insertConnectionRecord(ctx.db, {
        at: now,
        userId: user.id,
        accountId: user.account_id,
        kind: 'login',
        ip: p.ip,
        port: p.port ?? null,
      });
      await audit.record({ userId: user.id, label: user.email, ip: p.ip }, 'auth.login', {
        type: 'user',
        id: user.id,
      });
      return { token, csrfToken: csrf, user };
    },

    /**
     * Décret 2021-1362 (R12.4 schedule, 1 year): each TCP connection a session or a token is used
     * on is recorded once, with its source address and port (keep-alive requests add nothing).
     */
    async noteConnection(p: Principal, source: { socket: object; ip: string; port: number | null }) {
      if (seenSockets.has(source.socket)) return;
      seenSockets.add(source.socket);
      await insertConnectionRecord(ctx.db, {
        at: ctx.clock.now(),
        userId: p.user.id,
        accountId: p.user.account_id,
        kind: p.via === 'token' ? 'api_token' : 'session',
        ip: source.ip,
        port: source.port,
      });
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
      if (!token.startsWith(API_TOKEN_PREFIX)) throw badToken();
      const t = await findLiveTokenByHash(ctx.db, tokenHash(token));
      if (!t) throw badToken();
      const now = ctx.clock.now();
      if (t.expires_at.getTime() <= now.getTime())
        throw unauthenticated('auth.token_expired', 'This API token has expired: create a new one');
      const user = await findUserById(ctx.db, t.user_id);
      if (!user || user.disabled_at) throw badToken();
      // The owner's role today, narrowed by the token's: an admin's support token stays support.
      const role = effectiveRole(user.role, t.role);
      if (!role) throw badToken();
      await markTokenUsed(ctx.db, t.id, now);
      return { user, scope: scopeOf(user, role), via: 'token' };
    },

    /** Needs the password (and the TOTP code when the user has one: every staff member). */
    async createApiToken(p: Principal, input: NewTokenInput, ip: string) {
      const name = input.name.trim();
      if (!name) throw invalidData('validation.name', 'The token needs a name', { field: 'name' });
      const days = input.expiresInDays ?? TOKEN_DEFAULT_DAYS;
      if (!Number.isInteger(days) || days < TOKEN_MIN_DAYS || days > TOKEN_MAX_DAYS)
        throw invalidData(
          'validation.expiresInDays',
          `A token lasts ${TOKEN_MIN_DAYS} to ${TOKEN_MAX_DAYS} days`,
          { field: 'expiresInDays' },
        );
      const callerRole = roleOf(p);
      const role = input.role ?? callerRole;
      if (!mayGrant(callerRole, role))
        throw notAllowed(
          'token.role_too_wide',
          `A token cannot have a wider role than yours (${callerRole})`,
        );
      const user = await findUserById(ctx.db, p.user.id);
      if (!user || user.disabled_at) throw unauthenticated();
      await reauthenticate(user, input.password, input.totp, ip);
      const token = newToken(API_TOKEN_PREFIX);
      const now = ctx.clock.now();
      const row = await insertApiToken(ctx.db, {
        userId: user.id,
        name,
        tokenHash: tokenHash(token),
        createdAt: now,
        expiresAt: tokenExpiry(now, days),
        role,
      });
      await audit.record(
        { userId: user.id, label: user.email, ip },
        'token.create',
        { type: 'api_token', id: row.id },
        { name: row.name, role: row.role, expiresAt: row.expires_at.toISOString() },
      );
      return { ...row, token };
    },
    async listApiTokens(p: Principal) {
      const now = ctx.clock.now().getTime();
      return (await listTokensOf(ctx.db, p.user.id)).map((t) => ({
        ...t,
        expired: t.expires_at.getTime() <= now,
      }));
    },
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
