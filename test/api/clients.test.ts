// Issue 5, R6.1: sign-up with email verification (one-time link, single use, expiry), identity
// data (phone in E.164, address checked), duplicate email, rate limit, what an unverified
// account may do, staff-only routes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HOUR } from '../../src/domain/clock.ts';
import type { DomainError } from '../../src/domain/errors.ts';
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

let ipSeq = 0;
const freshIp = () => `203.0.113.${++ipSeq}`;

const get = (url: string, s?: Session) =>
  t.app.inject({ method: 'GET', url, headers: s ? { cookie: s.cookie } : {} });
const send = (method: 'POST' | 'PUT', url: string, payload: unknown, s?: Session, ip?: string) =>
  t.app.inject({
    method,
    url,
    payload: payload as object,
    headers: s ? { cookie: s.cookie, 'x-csrf-token': s.csrf } : {},
    ...(ip ? { remoteAddress: ip } : {}),
  });

export function signupBody(over: Record<string, unknown> = {}) {
  return {
    lastName: 'Martin',
    firstName: 'Camille',
    address: { line1: '12 rue de la Paix', postalCode: '75002', city: 'Paris', country: 'FR' },
    phone: '06 12 34 56 78',
    email: `camille-${randomBytes(4).toString('hex')}@example.test`,
    password: PASSWORD,
    language: 'fr',
    ...over,
  };
}

async function outboxFor(to: string) {
  return t.database.db
    .selectFrom('mail_outbox')
    .selectAll()
    .where('to_address', '=', to)
    .orderBy('created_at')
    .execute();
}

/** The token of a verification mail's link, as delivery puts it in the message (the outbox keeps it sealed). */
async function tokenIn(outboxId: string): Promise<string> {
  const { text } = await t.services.mail.deliverable(outboxId);
  const m = /\/verify#token=([A-Za-z0-9_%-]+)/.exec(text);
  assert.ok(m, `a verification link in:\n${text}`);
  return decodeURIComponent(m[1]!);
}

const counts = async () => ({
  accounts: Number(
    (
      await t.database.db
        .selectFrom('accounts')
        .select((e) => e.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  ),
  outbox: Number(
    (
      await t.database.db
        .selectFrom('mail_outbox')
        .select((e) => e.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  ),
});

describe('R6.1 sign-up with email verification', () => {
  it('creates the account, its first user and its identity, unverified, and emails a one-time link that works once', async () => {
    const body = signupBody({ organisation: 'Martin Conseil' });
    const r = await send('POST', '/v1/signup', body, undefined, freshIp());
    assert.equal(r.statusCode, 201, r.body);
    const { accountId, userId } = r.json();
    assert.equal(r.json().emailVerified, false);
    const account = await t.database.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    assert.equal(account.name, 'Martin Conseil');
    const user = await t.database.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    assert.equal(user.account_id, accountId);
    assert.equal(user.name, 'Camille Martin');

    // The mail is in the outbox (French), with its tamper-evident notice; the token is stored
    // hashed, and the link only sealed for delivery (test/api/mail-secrets.test.ts).
    const mails = await outboxFor(body.email);
    assert.equal(mails.length, 1);
    assert.equal(mails[0]!.template, 'clients.signup_verify');
    assert.equal(mails[0]!.language, 'fr');
    const token = await tokenIn(mails[0]!.id);
    const notice = await t.database.db
      .selectFrom('mail_notices')
      .selectAll()
      .where('outbox_id', '=', mails[0]!.id)
      .executeTakeFirst();
    assert.ok(notice, 'the email is recorded as a notice');
    const stored = await t.database.db
      .selectFrom('email_verifications')
      .selectAll()
      .where('user_id', '=', userId)
      .execute();
    assert.equal(stored.length, 1);
    assert.ok(!stored[0]!.token_hash.includes(token));

    // Unverified: may log in and read its identity, may not order.
    const s = await login(t, body.email);
    const standing = await get('/v1/account/standing', s);
    assert.equal(standing.statusCode, 200);
    assert.equal(standing.json().emailVerified, false);
    const identity = (await get('/v1/account/identity', s)).json().identity;
    assert.equal(identity.phone, '+33612345678');
    assert.equal(identity.organisation, 'Martin Conseil');
    await assert.rejects(
      t.services.clients.assertMayOrder(t.database.db, accountId),
      (e: DomainError) => e.code === 'account.email_unverified',
    );

    const ok = await send('POST', '/v1/signup/verify', { token });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { email: body.email, verified: true });
    assert.equal((await get('/v1/account/standing', s)).json().emailVerified, true);
    await t.services.clients.assertMayOrder(t.database.db, accountId);

    // Single use.
    const again = await send('POST', '/v1/signup/verify', { token });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'signup.token_used');
    const bogus = await send('POST', '/v1/signup/verify', { token: 'not-a-token' });
    assert.equal(bogus.statusCode, 400);
    assert.equal(bogus.json().code, 'signup.token_invalid');
  });

  it('a link used after 72 h is refused (signup.token_expired); a new link replaces the old one', async () => {
    const body = signupBody({ language: 'en' });
    assert.equal((await send('POST', '/v1/signup', body, undefined, freshIp())).statusCode, 201);
    const first = await tokenIn((await outboxFor(body.email))[0]!.id);
    assert.equal((await outboxFor(body.email))[0]!.language, 'en');
    t.clock.advance(72 * HOUR + 1000);
    const late = await send('POST', '/v1/signup/verify', { token: first });
    assert.equal(late.statusCode, 409);
    assert.equal(late.json().code, 'signup.token_expired');

    const s = await login(t, body.email);
    assert.equal((await send('POST', '/v1/account/verify/resend', undefined, s)).statusCode, 204);
    const mails = await outboxFor(body.email);
    assert.equal(mails.length, 2);
    const second = await tokenIn(mails[1]!.id);
    assert.notEqual(second, first);
    assert.equal(
      (await send('POST', '/v1/signup/verify', { token: first })).json().code,
      'signup.token_expired',
    );
    assert.equal((await send('POST', '/v1/signup/verify', { token: second })).statusCode, 200);
    const already = await send('POST', '/v1/account/verify/resend', undefined, s);
    assert.equal(already.statusCode, 409);
    assert.equal(already.json().code, 'signup.already_verified');
  });

  it('a duplicate email (any case) is 409 user.email_taken and creates nothing, not even a mail', async () => {
    const body = signupBody();
    assert.equal((await send('POST', '/v1/signup', body, undefined, freshIp())).statusCode, 201);
    const before = await counts();
    const dup = await send(
      'POST',
      '/v1/signup',
      { ...body, email: body.email.toUpperCase() },
      undefined,
      freshIp(),
    );
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'user.email_taken');
    assert.deepEqual(await counts(), before);
  });

  it('an invalid phone, country, postal code or short password is 400 naming the field, and creates nothing', async () => {
    const before = await counts();
    const cases: [Record<string, unknown>, string][] = [
      [{ phone: '0612' }, 'validation.phone'],
      [{ phone: '+33 6 12' }, 'validation.phone'],
      [
        { address: { line1: '1 rue X', postalCode: '75002', city: 'Paris', country: 'XX' } },
        'validation.address.country',
      ],
      [
        { address: { line1: '1 rue X', postalCode: 'ABC', city: 'Paris', country: 'FR' } },
        'validation.address.postalCode',
      ],
      [{ address: { line1: '1 rue X', postalCode: '75002', city: 'Paris' } }, 'validation.address.country'],
      [{ password: 'short pass' }, 'validation.password'],
      [{ email: 'not an email' }, 'validation.email'],
      [{ language: 'de' }, 'validation.language'],
    ];
    for (const [over, code] of cases) {
      const r = await send('POST', '/v1/signup', signupBody(over), undefined, freshIp());
      assert.equal(r.statusCode, 400, `${JSON.stringify(over)}: ${r.body}`);
      assert.equal(r.json().code, code, JSON.stringify(over));
      assert.equal(r.json().field, code.slice('validation.'.length));
    }
    assert.deepEqual(await counts(), before);
  });

  it('sign-ups are limited per address: the 11th within an hour is 429, another address is not affected', async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++)
      assert.equal((await send('POST', '/v1/signup', signupBody(), undefined, ip)).statusCode, 201);
    const r = await send('POST', '/v1/signup', signupBody(), undefined, ip);
    assert.equal(r.statusCode, 429);
    assert.equal(r.json().code, 'auth.throttled');
    assert.equal((await send('POST', '/v1/signup', signupBody(), undefined, freshIp())).statusCode, 201);
    t.clock.advance(HOUR + 1000);
    assert.equal((await send('POST', '/v1/signup', signupBody(), undefined, ip)).statusCode, 201);
  });

  it('accounts created by staff count as verified (staff vouch for them)', async () => {
    const c = await makeClient(t);
    await t.services.clients.assertMayOrder(t.database.db, c.account.id);
    const s = await login(t, c.email);
    assert.equal((await get('/v1/account/standing', s)).json().emailVerified, true);
    assert.equal((await get('/v1/account/identity', s)).json().identity, null);
  });
});

describe('R6.1 identity data', () => {
  it('a client reads and updates its own identity; the phone is stored in E.164 with the address country as region', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const body = {
      lastName: 'Peeters',
      firstName: 'Lotte',
      organisation: 'Peeters BV',
      address: { line1: 'Grote Markt 1', line2: null, postalCode: '1000', city: 'Bruxelles', country: 'be' },
      phone: '0470 12 34 56',
      email: 'lotte@example.test',
    };
    const r = await send('PUT', '/v1/account/identity', body, s);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().identity.phone, '+32470123456');
    assert.equal(r.json().identity.address.country, 'BE');
    const again = await get('/v1/account/identity', s);
    assert.deepEqual(again.json().identity, r.json().identity);
    const bad = await send('PUT', '/v1/account/identity', { ...body, phone: '12' }, s);
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'validation.phone');
    assert.equal((await get('/v1/account/identity', s)).json().identity.phone, '+32470123456');

    // Staff read it; the audit log has the change.
    const a = await makeStaff(t, 'support');
    const ss = await login(t, a.email, { totpSecret: a.totpSecret });
    const detail = await get(`/v1/admin/clients/${c.account.id}`, ss);
    assert.equal(detail.statusCode, 200);
    assert.equal(detail.json().identity.lastName, 'Peeters');
    const audit = await t.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', c.account.id)
      .execute();
    assert.ok(audit.some((x) => x.action === 'identity.update'));
  });

  it('clients get 403 on the console routes, and their own account only', async () => {
    const c = await makeClient(t);
    const other = await makeClient(t);
    const s = await login(t, c.email);
    for (const url of [
      '/v1/admin/clients',
      `/v1/admin/clients/${c.account.id}`,
      '/v1/admin/identity/requests',
    ]) {
      const r = await get(url, s);
      assert.equal(r.statusCode, 403, url);
      assert.equal(r.json().code, 'auth.forbidden');
    }
    const post = await send(
      'POST',
      `/v1/admin/clients/${other.account.id}/identity/requests`,
      { kind: 'identity' },
      s,
    );
    assert.equal(post.statusCode, 403);
  });

  it('the console lists clients with identity status, soonest open deadline first', async () => {
    const a = await makeStaff(t, 'admin');
    const ss = await login(t, a.email, { totpSecret: a.totpSecret });
    const c1 = await makeClient(t);
    const c2 = await makeClient(t);
    assert.equal(
      (await send('POST', `/v1/admin/clients/${c1.account.id}/identity/requests`, { kind: 'identity' }, ss))
        .statusCode,
      201,
    );
    t.clock.advance(60_000);
    await send(
      'POST',
      `/v1/admin/clients/${c2.account.id}/identity/requests`,
      { kind: 'sites', note: 'Liste des domaines' },
      ss,
    );
    const list = await get('/v1/admin/clients', ss);
    assert.equal(list.statusCode, 200, list.body);
    const ids = list.json().items.map((x: { id: string }) => x.id);
    assert.ok(ids.indexOf(c1.account.id) < ids.indexOf(c2.account.id));
    const row = list.json().items.find((x: { id: string }) => x.id === c1.account.id);
    assert.equal(row.identityStatus, 'requested');
    assert.equal(row.openRequests, 1);
    assert.ok(row.nextDueAt);
    assert.ok(list.json().now);
  });
});
