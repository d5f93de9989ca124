// R3.4, R3.1: the guest passwords the control plane hands to a host agent are SHA-512 crypt(3)
// hashes, checked against the real thing (OpenSSL's `passwd -6`, what the guest's libcrypt reads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../src/agent/exec/run.ts';
import { DomainError } from '../../src/domain/errors.ts';
import { guestPasswordHash } from '../../src/control/security/guest-passwords.ts';

const opensslHash = async (password: string, salt: string) =>
  (await run(['openssl', 'passwd', '-6', '-salt', salt, '-stdin'], { input: `${password}\n` })).stdout.trim();

test('R3.4: a guest password hash is the SHA-512 crypt OpenSSL computes for the same salt', async () => {
  for (const [password, salt] of [
    ['correct horse battery staple', 'abcdefgh'],
    ['Zx9-_ü€ with spaces', './0189AZaz'],
    ['x', 'ABCDEFGHIJKLMNOP'],
  ] as const)
    assert.equal(guestPasswordHash(password, salt), await opensslHash(password, salt));
});

test('R3.4: each hash gets a fresh 16-character salt, and OpenSSL finds the same hash with it', async () => {
  const a = guestPasswordHash('same password');
  const b = guestPasswordHash('same password');
  assert.notEqual(a, b);
  for (const h of [a, b]) {
    const m = /^\$6\$([./A-Za-z0-9]{16})\$[./A-Za-z0-9]{86}$/.exec(h);
    assert.ok(m, h);
    assert.equal(h, await opensslHash('same password', m[1]!));
  }
});

test('R3.4: an empty or multi-line password is refused, not hashed', () => {
  for (const bad of ['', 'two\nlines', 'cr\rhere'])
    assert.throws(
      () => guestPasswordHash(bad),
      (e: unknown) => e instanceof DomainError && e.code === 'guest_password.invalid',
    );
});
