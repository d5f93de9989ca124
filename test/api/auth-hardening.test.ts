// Issue 9, items 1, 2, 5 and 9: login throttling under concurrency, TOTP single use under
// concurrency, trusted proxies, no hard account lock (the owner is mailed instead), API token
// expiry, re-authentication and roles.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DAY, MINUTE, SECOND } from '../../src/domain/clock.ts';
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

const signupBody = () => ({
  lastName: 'Martin',
  firstName: 'Camille',
  address: { line1: '12 rue de la Paix', postalCode: '75002', city: 'Paris', country: 'FR' },
  phone: '06 12 34 56 78',
  email: `camille-${randomBytes(4).toString('hex')}@example.test`,
  password: PASSWORD,
  language: 'fr',
});

let ipSeq = 0;
/** An address no other test used: each test's counts start at zero. */
const freshIp = () => `198.51.100.${100 + ++ipSeq}`;

const loginFrom = (
  app: TestApp,
  body: { email: string; password: string; totp?: string },
  ip: string,
  headers: Record<string, string> = {},
) => app.app.inject({ method: 'POST', url: '/v1/auth/login', payload: body, remoteAddress: ip, headers });

const withSession = (method: 'GET' | 'POST', url: string, s: Session, payload?: object) =>
  t.app.inject({
    method,
    url,
    headers: { cookie: s.cookie, ...(method === 'POST' ? { 'x-csrf-token': s.csrf } : {}) },
    ...(payload ? { payload } : {}),
  });
const withToken = (method: 'GET' | 'POST', url: string, token: string, payload?: object) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload ? { payload } : {}),
  });

/** A fresh code (the next 30 s step): each use of a step is single. */
const nextCode = (secret: string) => totpCode(secret, t.clock.advance(30 * SECOND));

const outboxOf = (to: string, template: string) =>
  t.database.db
    .selectFrom('mail_outbox')
    .selectAll()
    .where('to_address', '=', to)
    .where('template', '=', template)
    .orderBy('created_at')
    .execute();

describe('login throttle under concurrency (issue 9 item 1)', () => {
  it('60 parallel logins for one email from one address: at most the limit (5) reach the password check; the right password is refused once it is reached', async () => {
    const c = await makeClient(t);
    const ip = freshIp();
    const bodies = Array.from({ length: 60 }, (_, i) => ({
      email: c.email,
      password: i === 59 ? PASSWORD : `wrong password ${i}`,
    }));
    const answers = await Promise.all(bodies.map((b) => loginFrom(t, b, ip)));
    const through = answers.filter((r) => r.statusCode !== 429);
    assert.equal(through.length, 5, answers.map((r) => r.statusCode).join(','));
    for (const r of answers.filter((x) => x.statusCode === 429))
      assert.equal(r.json().code, 'auth.throttled');
    const rows = await t.database.db
      .selectFrom('login_attempts')
      .select(['success'])
      .where('email', '=', c.email)
      .execute();
    assert.equal(rows.length, 5, 'only the attempts let through are recorded');
    // The right password was either among the five let through, or refused: never past the limit.
    const right = answers[59]!;
    assert.ok([200, 429].includes(right.statusCode), right.body);
    if (right.statusCode === 429) {
      const after = await loginFrom(t, { email: c.email, password: PASSWORD }, ip);
      assert.equal(after.statusCode, 429);
      assert.equal(after.json().code, 'auth.throttled');
    }
  });

  it('60 parallel logins from one address on 60 emails: at most the per-address limit (20) get an answer other than 429', async () => {
    const ip = freshIp();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        loginFrom(t, { email: `nobody-${ipSeq}-${i}@example.test`, password: 'guess' }, ip),
      ),
    );
    assert.equal(answers.filter((r) => r.statusCode === 401).length, 20);
    assert.equal(answers.filter((r) => r.statusCode === 429).length, 40);
  });

  it('30 parallel sign-ups from one address: exactly the limit (10) are created', async () => {
    const ip = freshIp();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        t.app.inject({ method: 'POST', url: '/v1/signup', payload: signupBody(), remoteAddress: ip }),
      ),
    );
    assert.equal(answers.filter((r) => r.statusCode === 201).length, 10);
    assert.equal(answers.filter((r) => r.statusCode === 429).length, 20);
    const rows = await t.database.db
      .selectFrom('signup_attempts')
      .select('id')
      .where('ip', '=', ip)
      .execute();
    assert.equal(rows.length, 10);
  });
});

describe('TOTP single use under concurrency (issue 9 item 2)', () => {
  it('three simultaneous staff logins with one code: exactly one session', async () => {
    const a = await makeStaff(t, 'admin');
    const code = nextCode(a.totpSecret);
    const ip = freshIp();
    const answers = await Promise.all(
      [0, 1, 2].map(() => loginFrom(t, { email: a.email, password: PASSWORD, totp: code }, ip)),
    );
    assert.deepEqual(
      answers.map((r) => r.statusCode).sort(),
      [200, 401, 401],
      answers.map((r) => r.body).join('\n'),
    );
    for (const r of answers.filter((x) => x.statusCode === 401))
      assert.equal(r.json().code, 'auth.totp_invalid');
    const sessions = await t.database.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', a.user.id)
      .execute();
    assert.equal(sessions.length, 1);
  });
});

describe('no hard lock of an account (issue 9 item 5)', () => {
  it('5 wrong passwords from one address do not lock the admin: the attacker’s address is refused, the admin logs in from a clean address', async () => {
    const a = await makeStaff(t, 'admin');
    const attacker = freshIp();
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await loginFrom(t, { email: a.email, password: `guess ${i}` }, attacker)).statusCode,
        401,
      );
    const again = await loginFrom(
      t,
      { email: a.email, password: PASSWORD, totp: nextCode(a.totpSecret) },
      attacker,
    );
    assert.equal(again.statusCode, 429);
    const owner = await loginFrom(
      t,
      { email: a.email, password: PASSWORD, totp: nextCode(a.totpSecret) },
      freshIp(),
    );
    assert.equal(owner.statusCode, 200, owner.body);
  });

  it('guessing from many addresses stays throttled: past the limit, an address that failed waits a delay that doubles with each failure; a clean address gets one try', async () => {
    const c = await makeClient(t);
    const addresses = Array.from({ length: 5 }, freshIp);
    for (const ip of addresses)
      assert.equal((await loginFrom(t, { email: c.email, password: 'guess' }, ip)).statusCode, 401);
    // 5 failures on the account: an address that failed waits 1 s after the latest failure.
    const first = addresses[0]!;
    assert.equal((await loginFrom(t, { email: c.email, password: 'guess' }, first)).statusCode, 429);
    t.clock.advance(SECOND);
    assert.equal((await loginFrom(t, { email: c.email, password: 'guess' }, first)).statusCode, 401);
    // 6 failures: 2 s now.
    t.clock.advance(SECOND);
    assert.equal((await loginFrom(t, { email: c.email, password: 'guess' }, addresses[1]!)).statusCode, 429);
    t.clock.advance(SECOND);
    assert.equal((await loginFrom(t, { email: c.email, password: 'guess' }, addresses[1]!)).statusCode, 401);
    // A clean address is not delayed, once: after its failure it waits like the others (8 failures: 8 s).
    const clean = freshIp();
    assert.equal((await loginFrom(t, { email: c.email, password: 'guess' }, clean)).statusCode, 401);
    assert.equal((await loginFrom(t, { email: c.email, password: 'guess' }, clean)).statusCode, 429);
    t.clock.advance(7 * SECOND);
    assert.equal((await loginFrom(t, { email: c.email, password: 'guess' }, clean)).statusCode, 429);
    t.clock.advance(SECOND);
    assert.equal((await loginFrom(t, { email: c.email, password: 'guess' }, clean)).statusCode, 401);
    // The owner, from its own clean address, is never delayed.
    assert.equal((await loginFrom(t, { email: c.email, password: PASSWORD }, freshIp())).statusCode, 200);
  });

  it('the owner is mailed (in its language) once per window when its account sees repeated failures, not once per attempt', async () => {
    const c = await makeClient(t);
    const ip = freshIp();
    for (let i = 0; i < 4; i++) await loginFrom(t, { email: c.email, password: 'guess' }, ip);
    assert.equal((await outboxOf(c.email, 'auth.login_failures')).length, 0, 'not before the limit');
    await loginFrom(t, { email: c.email, password: 'guess' }, ip);
    const mails = await outboxOf(c.email, 'auth.login_failures');
    assert.equal(mails.length, 1);
    assert.equal(mails[0]!.language, 'fr');
    assert.match(mails[0]!.subject, /Tentatives de connexion échouées/);
    assert.match(mails[0]!.body_text, /5 tentatives de connexion échouées/);
    // More failures from other addresses in the same window: no second mail.
    for (let i = 0; i < 6; i++) {
      t.clock.advance(MINUTE);
      await loginFrom(t, { email: c.email, password: 'guess' }, freshIp());
    }
    assert.equal((await outboxOf(c.email, 'auth.login_failures')).length, 1);
    // A window later, a new run of failures: a second mail.
    t.clock.advance(16 * MINUTE);
    for (let i = 0; i < 5; i++) await loginFrom(t, { email: c.email, password: 'guess' }, freshIp());
    assert.equal((await outboxOf(c.email, 'auth.login_failures')).length, 2);
    // An English-speaking owner gets it in English.
    const en = await makeClient(t);
    await t.database.db.updateTable('users').set({ language: 'en' }).where('id', '=', en.user.id).execute();
    for (let i = 0; i < 5; i++) await loginFrom(t, { email: en.email, password: 'guess' }, freshIp());
    const [english] = await outboxOf(en.email, 'auth.login_failures');
    assert.equal(english?.language, 'en');
    assert.match(english.subject, /Failed login attempts on your account/);
  });
});

describe('trusted proxies (issue 9 item 5)', () => {
  it('with INFOGERE_TRUSTED_PROXIES, limits apply per client address (X-Forwarded-For) and audit rows carry it; without it, the header is ignored', async () => {
    const behind = await testApp({
      INFOGERE_TRUSTED_PROXIES: '127.0.0.1, 192.0.2.0/24',
      INFOGERE_LOGIN_MAX_FAILURES_PER_ADDRESS: '3',
    });
    try {
      const c = await makeClient(behind);
      const viaProxy = (body: { email: string; password: string }, client: string, proxy = '127.0.0.1') =>
        loginFrom(behind, body, proxy, { 'x-forwarded-for': client });
      for (let i = 0; i < 3; i++)
        assert.equal(
          (await viaProxy({ email: `nobody${i}@example.test`, password: 'x' }, '203.0.113.66')).statusCode,
          401,
        );
      assert.equal((await viaProxy({ email: c.email, password: PASSWORD }, '203.0.113.66')).statusCode, 429);
      // Another client behind the same proxy (two proxies deep, both trusted) is not affected.
      const ok = await loginFrom(behind, { email: c.email, password: PASSWORD }, '127.0.0.1', {
        'x-forwarded-for': '203.0.113.77, 192.0.2.10',
      });
      assert.equal(ok.statusCode, 200, ok.body);
      const audit = await behind.database.db
        .selectFrom('audit_log')
        .select(['action', 'ip'])
        .where('action', 'in', ['auth.login', 'auth.login_failed'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        audit.map((r) => `${r.action} ${r.ip}`),
        [
          'auth.login_failed 203.0.113.66',
          'auth.login_failed 203.0.113.66',
          'auth.login_failed 203.0.113.66',
          'auth.login 203.0.113.77',
        ],
      );
      // The header from an address that is not a listed proxy is not believed.
      const forged = await loginFrom(
        behind,
        { email: 'forged@example.test', password: 'x' },
        '198.51.100.250',
        { 'x-forwarded-for': '203.0.113.200' },
      );
      assert.equal(forged.statusCode, 401);
      const last = await behind.database.db
        .selectFrom('audit_log')
        .select('ip')
        .where('action', '=', 'auth.login_failed')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      assert.equal(last.ip, '198.51.100.250');
    } finally {
      await behind.close();
    }

    const direct = await testApp({ INFOGERE_LOGIN_MAX_FAILURES_PER_ADDRESS: '3' });
    try {
      const c = await makeClient(direct);
      for (let i = 0; i < 3; i++)
        await loginFrom(direct, { email: `nobody${i}@example.test`, password: 'x' }, '127.0.0.1', {
          'x-forwarded-for': `203.0.113.${10 + i}`,
        });
      // Every request has the connecting address: the limit holds whatever the header says.
      const r = await loginFrom(direct, { email: c.email, password: PASSWORD }, '127.0.0.1', {
        'x-forwarded-for': '203.0.113.99',
      });
      assert.equal(r.statusCode, 429);
      const ips = await direct.database.db
        .selectFrom('audit_log')
        .select('ip')
        .where('action', '=', 'auth.login_failed')
        .execute();
      assert.deepEqual(
        ips.map((x) => x.ip),
        ['127.0.0.1', '127.0.0.1', '127.0.0.1'],
      );
    } finally {
      await direct.close();
    }
  });

  it('a wrong INFOGERE_TRUSTED_PROXIES stops the start with a message naming the setting', async () => {
    const { loadConfig } = await import('../../src/control/config.ts');
    assert.throws(
      () => loadConfig({ INFOGERE_TRUSTED_PROXIES: '127.0.0.1,not-an-address' }),
      /INFOGERE_TRUSTED_PROXIES: expected comma-separated IP addresses or CIDRs, got "not-an-address"/,
    );
    assert.throws(() => loadConfig({ INFOGERE_TRUSTED_PROXIES: '10.0.0.0/33' }), /INFOGERE_TRUSTED_PROXIES/);
    assert.deepEqual(loadConfig({ INFOGERE_TRUSTED_PROXIES: ' ::1 , 10.0.0.0/8' }).trustedProxies, [
      '::1',
      '10.0.0.0/8',
    ]);
    assert.deepEqual(loadConfig({}).trustedProxies, []);
  });
});

describe('API tokens: expiry, re-authentication, roles (issue 9 item 9)', () => {
  const create = (s: Session, body: object) => withSession('POST', '/v1/me/tokens', s, body);

  it('a token expires (default 90 days, chosen at creation); an expired token is refused with 401 auth.token_expired', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const short = await create(s, { name: 'one day', password: PASSWORD, expiresInDays: 1 });
    assert.equal(short.statusCode, 201, short.body);
    const created = new Date(short.json().createdAt).getTime();
    assert.equal(new Date(short.json().expiresAt).getTime(), created + DAY);
    const long = await create(s, { name: 'default', password: PASSWORD });
    assert.equal(
      new Date(long.json().expiresAt).getTime(),
      new Date(long.json().createdAt).getTime() + 90 * DAY,
    );
    assert.equal((await withToken('GET', '/v1/account', short.json().token)).statusCode, 200);
    t.clock.advance(DAY);
    const refused = await withToken('GET', '/v1/account', short.json().token);
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.json().code, 'auth.token_expired');
    assert.equal((await withToken('GET', '/v1/account', long.json().token)).statusCode, 200);
    // The list shows last use and expiry, and which ones have expired.
    const s2 = await login(t, c.email);
    const list = (await withSession('GET', '/v1/me/tokens', s2)).json() as {
      name: string;
      lastUsedAt: string | null;
      expiresAt: string;
      expired: boolean;
      role: string;
    }[];
    assert.deepEqual(
      list.map((x) => [x.name, x.expired, x.role, x.lastUsedAt !== null]),
      [
        ['one day', true, 'client', true],
        ['default', false, 'client', true],
      ],
    );
    // Limits: 1 to 365 days.
    for (const days of [0, 366])
      assert.equal(
        (await create(s2, { name: 'x', password: PASSWORD, expiresInDays: days })).json().code,
        'validation.expiresInDays',
      );
  });

  it('creating a token needs the password: without it 400, a wrong one 403 (counted like a failed login)', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const none = await create(s, { name: 'ci' });
    assert.equal(none.statusCode, 400);
    assert.equal(none.json().code, 'validation.password');
    const wrong = await create(s, { name: 'ci', password: 'not the password' });
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json().code, 'auth.reauth_password_wrong');
    const failed = await t.database.db
      .selectFrom('login_attempts')
      .select('success')
      .where('email', '=', c.email)
      .where('success', '=', false)
      .execute();
    assert.equal(failed.length, 1);
    const tokens = await t.database.db
      .selectFrom('api_tokens')
      .select('id')
      .where('user_id', '=', c.user.id)
      .execute();
    assert.equal(tokens.length, 0);
  });

  it('staff need a TOTP code to create a token: without one refused, a used one refused, a fresh one accepted', async () => {
    const a = await makeStaff(t, 'support');
    const s = await login(t, a.email, { totpSecret: a.totpSecret, ip: freshIp() });
    const without = await create(s, { name: 'ops', password: PASSWORD });
    assert.equal(without.statusCode, 403);
    assert.equal(without.json().code, 'auth.reauth_totp_required');
    const used = totpCode(a.totpSecret, t.clock.now()); // the step the login just spent
    const replay = await create(s, { name: 'ops', password: PASSWORD, totp: used });
    assert.equal(replay.statusCode, 403);
    assert.equal(replay.json().code, 'auth.reauth_totp_invalid');
    const ok = await create(s, { name: 'ops', password: PASSWORD, totp: nextCode(a.totpSecret) });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.json().role, 'support');
  });

  it('a support user cannot mint an admin token; an admin’s support-scoped token is refused on an admin route', async () => {
    const sup = await makeStaff(t, 'support');
    const ss = await login(t, sup.email, { totpSecret: sup.totpSecret, ip: freshIp() });
    const wider = await create(ss, {
      name: 'escalate',
      password: PASSWORD,
      totp: nextCode(sup.totpSecret),
      role: 'admin',
    });
    assert.equal(wider.statusCode, 403);
    assert.equal(wider.json().code, 'token.role_too_wide');

    const adm = await makeStaff(t, 'admin');
    const as = await login(t, adm.email, { totpSecret: adm.totpSecret, ip: freshIp() });
    const scoped = await create(as, {
      name: 'support only',
      password: PASSWORD,
      totp: nextCode(adm.totpSecret),
      role: 'support',
    });
    assert.equal(scoped.statusCode, 201, scoped.body);
    assert.equal(scoped.json().role, 'support');
    const token = scoped.json().token as string;
    const adminRoute = await withToken('GET', '/v1/admin/audit', token);
    assert.equal(adminRoute.statusCode, 403);
    assert.equal(adminRoute.json().code, 'auth.forbidden');
    assert.equal((await withToken('GET', '/v1/admin/accounts', token)).statusCode, 200);
    assert.equal((await withToken('GET', '/v1/auth/session', token)).json().user.role, 'support');
    // The admin's own session still reaches it.
    assert.equal((await withSession('GET', '/v1/admin/audit', as)).statusCode, 200);
  });

  it('a token acts with its owner’s role of today: an admin token of an admin later made support is support', async () => {
    const adm = await makeStaff(t, 'admin');
    const as = await login(t, adm.email, { totpSecret: adm.totpSecret, ip: freshIp() });
    const r = await create(as, { name: 'full', password: PASSWORD, totp: nextCode(adm.totpSecret) });
    assert.equal(r.json().role, 'admin');
    const token = r.json().token as string;
    assert.equal((await withToken('GET', '/v1/admin/audit', token)).statusCode, 200);
    await t.database.db.updateTable('users').set({ role: 'support' }).where('id', '=', adm.user.id).execute();
    assert.equal((await withToken('GET', '/v1/admin/audit', token)).statusCode, 403);
  });

  it('a client cannot mint a staff token', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const r = await create(s, { name: 'x', password: PASSWORD, role: 'support' });
    assert.equal(r.statusCode, 403);
    assert.equal(r.json().code, 'token.role_too_wide');
  });
});
