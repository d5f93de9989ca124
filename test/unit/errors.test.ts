import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  conflict,
  DomainError,
  errorKinds,
  invalidData,
  notAllowed,
  notFound,
  unexpectedState,
} from '../../src/domain/errors.ts';
import { errorHandler, statusFor } from '../../src/control/http/errors.ts';

function fakeReply() {
  const r = { status: 0, body: undefined as unknown };
  const reply = {
    status(s: number) {
      r.status = s;
      return reply;
    },
    send(b: unknown) {
      r.body = b;
      return reply;
    },
  };
  return { r, reply };
}
const req = { log: { error() {} } };

describe('DomainError', () => {
  it('has the five kinds with their constructors and a stable code', () => {
    assert.deepEqual(
      [...errorKinds],
      ['not_found', 'not_allowed', 'conflict', 'invalid_data', 'unexpected_state'],
    );
    const made = [
      notFound('a.b', 'm'),
      notAllowed('a.b', 'm'),
      conflict('a.b', 'm'),
      invalidData('a.b', 'm'),
      unexpectedState('a.b', 'm'),
    ];
    assert.deepEqual(
      made.map((e) => e.kind),
      [...errorKinds],
    );
    for (const e of made) assert.ok(e instanceof DomainError && e.code === 'a.b');
  });
  it('maps kinds to HTTP statuses, with 401/429 for authentication codes', () => {
    assert.equal(statusFor('not_found', 'x'), 404);
    assert.equal(statusFor('not_allowed', 'auth.forbidden'), 403);
    assert.equal(statusFor('conflict', 'x'), 409);
    assert.equal(statusFor('invalid_data', 'x'), 400);
    assert.equal(statusFor('unexpected_state', 'x'), 500);
    assert.equal(statusFor('not_allowed', 'auth.unauthenticated'), 401);
    assert.equal(statusFor('not_allowed', 'auth.throttled'), 429);
  });
  it('the mapper sends {code, message} and hides 5xx details', () => {
    const a = fakeReply();
    errorHandler(
      invalidData('validation.email', 'Not a valid email', { field: 'email' }),
      req as never,
      a.reply as never,
    );
    assert.equal(a.r.status, 400);
    assert.deepEqual(a.r.body, { code: 'validation.email', message: 'Not a valid email', field: 'email' });
    const b = fakeReply();
    errorHandler(
      unexpectedState('vps.bad', 'secret internal detail /var/lib/x'),
      req as never,
      b.reply as never,
    );
    assert.deepEqual(b.r.body, { code: 'vps.bad', message: 'Internal error' });
    const c = fakeReply();
    errorHandler(new Error('boom at /src/x.ts:12'), req as never, c.reply as never);
    assert.equal(c.r.status, 500);
    assert.deepEqual(c.r.body, { code: 'internal', message: 'Internal error' });
  });
});
