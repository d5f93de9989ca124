// The login throttle's rule and the API tokens' role arithmetic (src/domain/auth.ts, issue 9).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accountDelayMs,
  effectiveRole,
  loginVerdict,
  mayGrant,
  type LoginCounts,
  type LoginLimits,
} from '../../src/domain/auth.ts';
import { MINUTE, SECOND } from '../../src/domain/clock.ts';

const limits: LoginLimits = { perAccount: 5, perAddress: 20, windowMs: 15 * MINUTE };
const now = new Date('2026-03-01T09:00:00Z');
const counts = (c: Partial<LoginCounts>): LoginCounts => ({
  address: 0,
  accountFromAddress: 0,
  account: 0,
  accountLatest: null,
  ...c,
});

describe('login throttle rule', () => {
  it('an address with the per-address limit of failures is refused on every account', () => {
    assert.deepEqual(loginVerdict(counts({ address: 20 }), limits, now), {
      allowed: false,
      rule: 'address',
      retryAt: null,
    });
    assert.equal(loginVerdict(counts({ address: 19 }), limits, now).allowed, true);
  });

  it('an address with the per-account limit of failures on one account is refused for it', () => {
    const v = loginVerdict(
      counts({ address: 5, accountFromAddress: 5, account: 5, accountLatest: now }),
      limits,
      now,
    );
    assert.equal(v.allowed, false);
    assert.equal(!v.allowed && v.rule, 'account_address');
  });

  it('an account past the limit delays addresses that failed (1 s, doubling, at most the window), never a clean one', () => {
    assert.equal(accountDelayMs(4, limits), 0);
    assert.equal(accountDelayMs(5, limits), SECOND);
    assert.equal(accountDelayMs(8, limits), 8 * SECOND);
    assert.equal(accountDelayMs(30, limits), 15 * MINUTE);
    assert.equal(accountDelayMs(10_000, limits), 15 * MINUTE);
    const latest = new Date(now.getTime() - 3 * SECOND);
    const failed = counts({ address: 1, accountFromAddress: 1, account: 7, accountLatest: latest });
    const v = loginVerdict(failed, limits, now);
    assert.equal(v.allowed, false);
    assert.deepEqual(!v.allowed && v.retryAt, new Date(latest.getTime() + 4 * SECOND));
    assert.equal(loginVerdict(failed, limits, new Date(latest.getTime() + 4 * SECOND)).allowed, true);
    // Clean: no failure from this address in the window, whatever the account's count.
    assert.equal(loginVerdict(counts({ account: 500, accountLatest: now }), limits, now).allowed, true);
  });
});

describe('API token roles', () => {
  it('a token acts with the narrower of its owner’s role and its own', () => {
    assert.equal(effectiveRole('admin', 'support'), 'support');
    assert.equal(effectiveRole('support', 'admin'), 'support');
    assert.equal(effectiveRole('admin', 'admin'), 'admin');
    assert.equal(effectiveRole('client', 'client'), 'client');
    assert.equal(effectiveRole('client', 'admin'), null);
    assert.equal(effectiveRole('admin', 'client'), null);
  });
  it('a caller may grant its role or a narrower one of the same kind', () => {
    assert.equal(mayGrant('admin', 'support'), true);
    assert.equal(mayGrant('admin', 'admin'), true);
    assert.equal(mayGrant('support', 'admin'), false);
    assert.equal(mayGrant('client', 'client'), true);
    assert.equal(mayGrant('client', 'support'), false);
    assert.equal(mayGrant('support', 'client'), false);
  });
});
