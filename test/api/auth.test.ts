// Foundation acceptance: login, logout, session expiry, TOTP, CSRF, API tokens, roles,
// tenancy (another account's user → 404), bad input (400 naming the field).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MINUTE, HOUR } from '../../src/domain/clock.ts';
import { totpCode } from '../../src/control/security/totp.ts';
import {
  login,
  makeClient,
  makeStaff,
  PASSWORD,
  testApp,
  type Session,
  type TestApp,
} from '../helpers/app.ts';

let t: TestApp;
before(async () => (t = await testApp()));
after(async () => t?.close());

const get = (url: string, s?: Session, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, headers: { ...(s ? { cookie: s.cookie } : {}), ...headers } });
const post = (
  url: string,
  payload: unknown,
  s?: Session,
  opts: { csrf?: boolean; headers?: Record<string, string> } = {},
) =>
  t.app.inject({
    method: 'POST',
    url,
    payload: payload as object,
    headers: {
      ...(s ? { cookie: s.cookie } : {}),
      ...(s && opts.csrf !== false ? { 'x-csrf-token': s.csrf } : {}),
      ...opts.headers,
    },
  });

describe('login and sessions', () => {
  it('a client logs in with email and password and gets an HttpOnly SameSite cookie with a 256-bit token', async () => {
    const c = await makeClient(t);
    const r = await post('/v1/auth/login', { email: c.email, password: PASSWORD });
    assert.equal(r.statusCode, 200);
    const cookie = r.cookies.find((k) => k.name === 'infogere_session');
    assert.ok(cookie);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(Buffer.from(cookie.value, 'base64url').length >= 16, 'token carries at least 128 bits');
    const body = r.json();
    assert.equal(body.user.email, c.email);
    assert.equal(body.user.kind, 'client');
    assert.equal(body.user.accountId, c.account.id);
    // The session works and says who we are.
    const s = { cookie: `infogere_session=${cookie.value}`, csrf: body.csrfToken };
    const me = await get('/v1/auth/session', s);
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().user.id, c.user.id);
  });

  it('each login gets a new session token', async () => {
    const c = await makeClient(t);
    const a = await login(t, c.email);
    const b = await login(t, c.email);
    assert.notEqual(a.cookie, b.cookie);
    assert.notEqual(a.csrf, b.csrf);
  });

  it('a wrong password or unknown email is 401 auth.invalid_credentials, with the same answer', async () => {
    const c = await makeClient(t);
    const wrong = await post('/v1/auth/login', { email: c.email, password: 'not the password' });
    const unknown = await post('/v1/auth/login', { email: 'nobody@example.test', password: 'whatever' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().code, 'auth.invalid_credentials');
    assert.deepEqual(unknown.json(), wrong.json());
  });

  it('logout ends the session', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const r = await post('/v1/auth/logout', undefined, s);
    assert.equal(r.statusCode, 204);
    const after = await get('/v1/auth/session', s);
    assert.equal(after.statusCode, 401);
    assert.equal(after.json().code, 'auth.unauthenticated');
  });

  it('a session ends after 30 minutes idle (clock moved)', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    t.clock.advance(29 * MINUTE);
    assert.equal((await get('/v1/auth/session', s)).statusCode, 200);
    t.clock.advance(29 * MINUTE); // used 29 min ago: still alive
    assert.equal((await get('/v1/auth/session', s)).statusCode, 200);
    t.clock.advance(31 * MINUTE);
    const r = await get('/v1/auth/session', s);
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().code, 'auth.session_expired');
  });

  it('a session ends 12 hours after login even when used all along', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    for (let i = 0; i < 11 * 3; i++) {
      t.clock.advance(20 * MINUTE);
      assert.equal(
        (await get('/v1/auth/session', s)).statusCode,
        200,
        `still alive after ${(i + 1) * 20} min`,
      );
    }
    t.clock.advance(HOUR + MINUTE);
    assert.equal((await get('/v1/auth/session', s)).json().code, 'auth.session_expired');
  });

  it('repeated failures from one address throttle that address on the account (429), even with the right password then', async () => {
    const c = await makeClient(t);
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await post('/v1/auth/login', { email: c.email, password: 'bad password!' })).statusCode,
        401,
      );
    const r = await post('/v1/auth/login', { email: c.email, password: PASSWORD });
    assert.equal(r.statusCode, 429);
    assert.equal(r.json().code, 'auth.throttled');
    t.clock.advance(16 * MINUTE);
    assert.equal((await post('/v1/auth/login', { email: c.email, password: PASSWORD })).statusCode, 200);
  });

  it('repeated failures from one address throttle that address across accounts', async () => {
    const t2 = await testApp({ INFOGERE_LOGIN_MAX_FAILURES_PER_ADDRESS: '3' });
    try {
      const c = await makeClient(t2);
      const from = (email: string, password: string, ip: string) =>
        t2.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          payload: { email, password },
          remoteAddress: ip,
        });
      for (let i = 0; i < 3; i++) await from(`nobody${i}@example.test`, 'x', '203.0.113.9');
      assert.equal((await from(c.email, PASSWORD, '203.0.113.9')).statusCode, 429);
      assert.equal((await from(c.email, PASSWORD, '203.0.113.10')).statusCode, 200);
    } finally {
      await t2.close();
    }
  });
});

describe('TOTP second factor', () => {
  it('staff must give a TOTP code: without it 401 auth.totp_required, a wrong one auth.totp_invalid', async () => {
    const a = await makeStaff(t, 'admin');
    const r = await post('/v1/auth/login', { email: a.email, password: PASSWORD });
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().code, 'auth.totp_required');
    assert.equal(r.cookies.length, 0);
    const bad = await post('/v1/auth/login', { email: a.email, password: PASSWORD, totp: '000000' });
    assert.equal(bad.json().code, 'auth.totp_invalid');
    const s = await login(t, a.email, { totpSecret: a.totpSecret });
    assert.equal((await get('/v1/auth/session', s)).json().user.role, 'admin');
  });

  it('a TOTP code cannot be used twice', async () => {
    const a = await makeStaff(t, 'support');
    const code = totpCode(a.totpSecret, t.clock.advance(30_000));
    assert.equal(
      (await post('/v1/auth/login', { email: a.email, password: PASSWORD, totp: code })).statusCode,
      200,
    );
    const again = await post('/v1/auth/login', { email: a.email, password: PASSWORD, totp: code });
    assert.equal(again.statusCode, 401);
    assert.equal(again.json().code, 'auth.totp_invalid');
  });

  it('the database refuses a staff member without a second factor', async () => {
    await assert.rejects(
      t.database.db
        .insertInto('users')
        .values({
          kind: 'staff',
          role: 'admin',
          account_id: null,
          email: 'no2fa@example.test',
          name: 'x',
          language: 'fr',
          password_hash: 'x',
          totp_enabled: false,
          created_at: new Date(),
        })
        .execute(),
      /users_staff_totp/,
    );
  });

  it('a client can enrol TOTP; afterwards login asks for it', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const setup = await post('/v1/auth/totp/setup', undefined, s);
    assert.equal(setup.statusCode, 200);
    const { secret, otpauthUrl } = setup.json();
    assert.match(otpauthUrl, /^otpauth:\/\/totp\//);
    assert.equal(
      (await post('/v1/auth/totp/enable', { code: '123456' }, s)).json().code,
      'auth.totp_invalid',
    );
    assert.equal(
      (await post('/v1/auth/totp/enable', { code: totpCode(secret, t.clock.now()) }, s)).statusCode,
      204,
    );
    assert.equal(
      (await post('/v1/auth/login', { email: c.email, password: PASSWORD })).json().code,
      'auth.totp_required',
    );
    await login(t, c.email, { totpSecret: secret });
  });
});

describe('CSRF', () => {
  it('a cookie-authenticated write without the CSRF header is refused (403 auth.csrf), with it accepted', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const refused = await post('/v1/me/tokens', { name: 'ci' }, s, { csrf: false });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, 'auth.csrf');
    const wrong = await post('/v1/me/tokens', { name: 'ci' }, s, {
      csrf: false,
      headers: { 'x-csrf-token': 'forged' },
    });
    assert.equal(wrong.json().code, 'auth.csrf');
    assert.equal((await post('/v1/me/tokens', { name: 'ci', password: PASSWORD }, s)).statusCode, 201);
  });
});

describe('API tokens', () => {
  it('a personal API token authenticates scripts (no CSRF), is stored hashed, and stops working once revoked', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const created = await post('/v1/me/tokens', { name: 'backup script', password: PASSWORD }, s);
    const { id, token } = created.json();
    assert.match(token, /^igt_/);
    const row = await t.database.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.notEqual(row.token_hash, token);
    assert.ok(!row.token_hash.includes(token));
    const bearer = { authorization: `Bearer ${token}` };
    assert.equal((await get('/v1/account', undefined, bearer)).statusCode, 200);
    // Writes with a token need no CSRF header.
    const w = await t.app.inject({
      method: 'POST',
      url: '/v1/me/tokens',
      headers: bearer,
      payload: { name: 'second', password: PASSWORD },
    });
    assert.equal(w.statusCode, 201);
    const list = await get('/v1/me/tokens', s);
    assert.deepEqual(
      list
        .json()
        .map((x: { name: string }) => x.name)
        .sort(),
      ['backup script', 'second'],
    );
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/tokens/${id}`,
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
    });
    assert.equal(del.statusCode, 204);
    const after = await get('/v1/account', undefined, bearer);
    assert.equal(after.statusCode, 401);
    assert.equal(after.json().code, 'auth.bad_token');
  });

  it('an unknown or malformed token is 401', async () => {
    assert.equal((await get('/v1/account', undefined, { authorization: 'Bearer igt_nope' })).statusCode, 401);
    assert.equal(
      (await get('/v1/account', undefined, { authorization: 'Basic abc' })).json().code,
      'auth.bad_token',
    );
  });
});

describe('roles and tenancy', () => {
  it('a client cannot reach the provider console (403); support cannot create staff (403); admin can', async () => {
    const c = await makeClient(t);
    const cs = await login(t, c.email);
    const r = await get('/v1/admin/accounts', cs);
    assert.equal(r.statusCode, 403);
    assert.equal(r.json().code, 'auth.forbidden');
    const sup = await makeStaff(t, 'support');
    const ss = await login(t, sup.email, { totpSecret: sup.totpSecret });
    assert.equal((await get('/v1/admin/accounts', ss)).statusCode, 200);
    const staffBody = { email: 'new-staff@example.test', name: 'New', password: PASSWORD, role: 'support' };
    assert.equal((await post('/v1/admin/staff', staffBody, ss)).statusCode, 403);
    assert.equal((await get('/v1/admin/audit', ss)).statusCode, 403);
    const adm = await makeStaff(t, 'admin');
    const as = await login(t, adm.email, { totpSecret: adm.totpSecret });
    const created = await post('/v1/admin/staff', staffBody, as);
    assert.equal(created.statusCode, 201);
    assert.ok(created.json().totpSecret);
    assert.equal((await post('/v1/admin/staff', staffBody, as)).json().code, 'user.email_taken');
  });

  it("a client asking for another account's user gets 404, the same as a missing one", async () => {
    const a = await makeClient(t);
    const b = await makeClient(t);
    const as = await login(t, a.email);
    const own = await get(`/v1/users/${a.user.id}`, as);
    assert.equal(own.statusCode, 200);
    const other = await get(`/v1/users/${b.user.id}`, as);
    assert.equal(other.statusCode, 404);
    assert.equal(other.json().code, 'user.not_found');
    const missing = await get('/v1/users/00000000-0000-4000-8000-000000000000', as);
    assert.deepEqual(missing.json(), other.json());
    // And the account's user list holds only its own users.
    const list = await get('/v1/account/users', as);
    assert.deepEqual(
      list.json().map((u: { id: string }) => u.id),
      [a.user.id],
    );
  });

  it('staff can see any account and its users', async () => {
    const c = await makeClient(t);
    const adm = await makeStaff(t, 'admin');
    const s = await login(t, adm.email, { totpSecret: adm.totpSecret });
    assert.equal((await get(`/v1/users/${c.user.id}`, s)).statusCode, 200);
    const users = await get(`/v1/admin/accounts/${c.account.id}/users`, s);
    assert.deepEqual(
      users.json().map((u: { id: string }) => u.id),
      [c.user.id],
    );
  });
});

describe('bad input', () => {
  it('a missing field is 400 validation.<field>', async () => {
    const r = await post('/v1/auth/login', { email: 'a@b.test' });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'validation.password');
    assert.equal(r.json().field, 'password');
  });
  it('an unknown field, a wrong type and a malformed path parameter are 400 naming the field', async () => {
    const extra = await post('/v1/auth/login', { email: 'a@b.test', password: 'x', admin: true });
    assert.equal(extra.json().code, 'validation.admin');
    const type = await post('/v1/auth/login', { email: 'a@b.test', password: { $ne: null } });
    assert.equal(type.statusCode, 400);
    assert.equal(type.json().code, 'validation.password');
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const path = await get('/v1/users/not-a-uuid', s);
    assert.equal(path.statusCode, 400);
    assert.equal(path.json().code, 'validation.id');
  });
  it('malformed JSON is 400 request.malformed; an unknown route 404 not_found; no stack trace anywhere', async () => {
    const r = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: '{"email": ',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'request.malformed');
    const nf = await get('/v1/nothing-here');
    assert.equal(nf.statusCode, 404);
    assert.equal(nf.json().code, 'not_found');
    for (const res of [r, nf]) assert.ok(!/at .*\.ts:\d+/.test(res.body), 'no stack trace');
  });
  it('a weak password or bad email at account creation is 400 with the field', async () => {
    const adm = await makeStaff(t, 'admin');
    const s = await login(t, adm.email, { totpSecret: adm.totpSecret });
    const weak = await post(
      '/v1/admin/accounts',
      { accountName: 'X', email: 'x@example.test', name: 'X', password: 'short' },
      s,
    );
    assert.equal(weak.statusCode, 400);
    assert.equal(weak.json().code, 'validation.password');
    const email = await post(
      '/v1/admin/accounts',
      { accountName: 'X', email: 'not-an-email', name: 'X', password: PASSWORD },
      s,
    );
    assert.equal(email.json().code, 'validation.email');
  });
});

describe('ops endpoints', () => {
  it('healthz says the database answers; metrics are Prometheus text; the OpenAPI document lists the routes', async () => {
    const h = await get('/healthz');
    assert.deepEqual(h.json(), { status: 'ok', database: 'ok' });
    const m = await get('/metrics');
    assert.match(m.headers['content-type'] as string, /text\/plain/);
    assert.match(m.body, /infogere_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    const doc = (await get('/v1/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    for (const p of [
      '/v1/auth/login',
      '/v1/auth/session',
      '/v1/me/tokens',
      '/v1/admin/audit',
      '/v1/users/{id}',
    ])
      assert.ok(doc.paths[p], `missing ${p}`);
  });
});
