// Authentication rules as pure functions: the login throttle and API token expiry and roles
// (docs/security.md). The service counts and locks; this file decides.
import { DAY, SECOND } from './clock.ts';

// ----- login throttle ----------------------------------------------------------------------
//
// Counted over a sliding window (INFOGERE_LOGIN_WINDOW_MINUTES). A "failure" is a failed
// attempt or one still being checked (recorded before the password is verified, so parallel
// guesses all count). Refused attempts (429) are not recorded.
//   1. address backoff: an address with `perAddress` failures (any accounts) is refused.
//   2. account and address: an address with `perAccount` failures on one account is refused
//      for that account.
//   3. account guard: once an account has `perAccount` failures from anywhere, an address that
//      has failed in the window waits `accountDelayMs` after the account's latest failure
//      (1 s, doubling with each further failure, at most the window). An address with no
//      failure in the window is never delayed: the owner at a clean address always gets to try
//      the right password, so an attacker cannot lock the account; each attacking address gets
//      one try before it is slowed, then `perAccount` at most.
// There is no hard lock of an account.

export interface LoginCounts {
  /** Failures from this address, any account. */
  address: number;
  /** Failures on this account from this address. */
  accountFromAddress: number;
  /** Failures on this account from every address. */
  account: number;
  /** The account's latest failure in the window. */
  accountLatest: Date | null;
}

export interface LoginLimits {
  perAccount: number;
  perAddress: number;
  windowMs: number;
}

export type LoginVerdict =
  | { allowed: true }
  | { allowed: false; rule: 'address' | 'account_address' | 'account_delay'; retryAt: Date | null };

/** Wait imposed on addresses that have failed, once the account has `failures` (rule 3). */
export function accountDelayMs(failures: number, limits: LoginLimits): number {
  if (failures < limits.perAccount) return 0;
  const doublings = Math.min(failures - limits.perAccount, 40);
  return Math.min(limits.windowMs, SECOND * 2 ** doublings);
}

export function loginVerdict(c: LoginCounts, limits: LoginLimits, now: Date): LoginVerdict {
  if (c.address >= limits.perAddress) return { allowed: false, rule: 'address', retryAt: null };
  if (c.accountFromAddress >= limits.perAccount)
    return { allowed: false, rule: 'account_address', retryAt: null };
  if (c.address > 0 && c.account >= limits.perAccount && c.accountLatest) {
    const retryAt = new Date(c.accountLatest.getTime() + accountDelayMs(c.account, limits));
    if (now.getTime() < retryAt.getTime()) return { allowed: false, rule: 'account_delay', retryAt };
  }
  return { allowed: true };
}

/** Whether this failure (already counted in `accountFailures`) should warn the account's owner. */
export const warnsOwner = (accountFailures: number, limits: LoginLimits): boolean =>
  accountFailures >= limits.perAccount;

// ----- API tokens --------------------------------------------------------------------------

export const TOKEN_DEFAULT_DAYS = 90;
export const TOKEN_MAX_DAYS = 365;
export const TOKEN_MIN_DAYS = 1;

export type TokenRole = 'admin' | 'support' | 'client';

const rank: Record<TokenRole, number> = { client: 0, support: 1, admin: 2 };

/**
 * The role a token acts with: the narrower of its owner's (today's) role and its own; null when
 * they are not of one kind (a staff token of a client, or the reverse), which is refused.
 */
export function effectiveRole(owner: TokenRole, token: TokenRole): TokenRole | null {
  if (owner === 'client' || token === 'client') return owner === token ? owner : null;
  return rank[token] < rank[owner] ? token : owner;
}

/** Whether a caller acting as `caller` may mint a token with `requested` (never wider, never another kind). */
export function mayGrant(caller: TokenRole, requested: TokenRole): boolean {
  if (caller === 'client' || requested === 'client') return caller === requested;
  return rank[requested] <= rank[caller];
}

export function tokenExpiry(createdAt: Date, days: number): Date {
  return new Date(createdAt.getTime() + days * DAY);
}
