// One-time secrets in mail (R3.1 access codes, R6.1 sign-up verification; the security issue's
// "one-time secrets readable in clear"): the outbox keeps a redacted copy and the link sealed
// until delivery; no usable token in any table, in any staff response or in the request logs;
// a staff read of a mail is audited; the sealed link is erased once delivered or expired; mails
// written before the fix are cleaned at start. Real SMTP server, real PostgreSQL, the clock moved.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { HOUR } from '../../src/domain/clock.ts';
import { buildApp, createLogger } from '../../src/control/app.ts';
import { flagLegacySecretMails } from '../../src/control/db/migrations/0012_mail_secrets.ts';
import type { MailOutboxExtraColumns } from '../../src/control/db/tables/mail.ts';
import type { JobDefinition } from '../../src/control/jobs/boss.ts';
import { allJobs } from '../../src/control/jobs/registry.ts';
import { MAIL_DELIVER_JOB } from '../../src/control/services/mail.ts';
import { appendNotice, contentHash } from '../../src/control/repositories/notices.ts';
import { newToken, tokenHash } from '../../src/control/security/tokens.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let smtp: TestSmtp;
let admin: Session;
let support: Session;
let supportId: string;
let dcId: string;

let ipSeq = 0;
const freshIp = () => `203.0.113.${++ipSeq}`;
const { get, post } = requests(() => t);

/** An admin session now (tests that move the clock outlive the first one's). */
async function freshAdmin(): Promise<Session> {
  const a = await makeStaff(t, 'admin');
  return login(t, a.email, { totpSecret: a.totpSecret });
}

// The jobs the services queued, with delivery held back: the mail stays in the outbox.
const holdDelivery = { name: MAIL_DELIVER_JOB, handler: async () => {} } as unknown as JobDefinition<never>;
const runJobsWithoutDelivery = () =>
  t.queue.runAll([...allJobs(t.services).filter((j) => j.name !== MAIL_DELIVER_JOB), holdDelivery]);

/** Every row of every table of the platform's schema, as text (what someone reading the database sees). */
async function wholeDatabase(): Promise<string> {
  const tables = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`.execute(t.database.db);
  const parts: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await sql<{ r: string }>`SELECT x::text AS r FROM ${sql.table(table_name)} x`.execute(
      t.database.db,
    );
    parts.push(...rows.rows.map((r) => `${table_name}: ${r.r}`));
  }
  return parts.join('\n');
}

function assertNoToken(haystack: string, tokens: string[], where: string): void {
  for (const token of tokens) {
    assert.ok(!haystack.includes(token), `${where} holds a usable one-time token`);
    assert.ok(
      !haystack.includes(encodeURIComponent(token)),
      `${where} holds a usable one-time token (encoded)`,
    );
  }
}

async function signUp(email: string): Promise<{ accountId: string; userId: string }> {
  const r = await post('/v1/signup', undefined, {
    lastName: 'Martin',
    firstName: 'Camille',
    address: { line1: '12 rue de la Paix', postalCode: '75002', city: 'Paris', country: 'FR' },
    phone: '06 12 34 56 78',
    email,
    password: 'correct horse battery staple',
    language: 'fr',
  });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { accountId: string; userId: string };
}

// The outbox with the columns the mail module adds (typed apart from the foundation's table).
const mailDb = () => t.database.db.withTables<{ mail_outbox: MailOutboxExtraColumns }>();
const outboxOf = (to: string, template: string) =>
  mailDb()
    .selectFrom('mail_outbox')
    .selectAll()
    .where('to_address', '=', to)
    .where('template', '=', template)
    .orderBy('created_at')
    .execute();

/** A VPS of the account whose provisioning is done but for its last step, the access-codes mail (R3.1). */
async function vpsAwaitingAccessCodes(accountId: string, hostname: string): Promise<string> {
  const v = await t.database.db.transaction().execute((tx) =>
    t.services.infra.requestVps(tx, {
      accountId,
      datacenterId: dcId,
      hostname,
      vcpus: 1,
      memoryMiB: 256,
      diskGiB: 1,
      billingAnchor: t.clock.now(),
      clientUsername: 'camille',
    }),
  );
  await t.database.db
    .updateTable('vps')
    .set({
      state: 'provisioning',
      ipv4: `192.0.2.${10 + ipSeq}/24`,
      root_password_enc: t.services.ctx.secrets.seal('root-secret-not-the-clients'),
      initial_password_enc: t.services.ctx.secrets.seal('initial-Password-4-client'),
      provision_step: 'accounts',
    })
    .where('id', '=', v.id)
    .execute();
  return v.id;
}

const linkToken = (text: string, page: 'verify' | 'access') => {
  const m = new RegExp(`https?://\\S+/${page}#token=([A-Za-z0-9_%-]+)`).exec(text);
  assert.ok(m, `a /${page}#token= link in:\n${text}`);
  return decodeURIComponent(m[1]!);
};

before(async () => {
  smtp = await startTestSmtp();
  t = await testApp({ INFOGERE_SMTP_URL: smtp.url, INFOGERE_PUBLIC_URL: 'https://panel.example.test' });
  const a = await makeStaff(t, 'admin');
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const s = await makeStaff(t, 'support');
  supportId = s.user.id;
  support = await login(t, s.email, { totpSecret: s.totpSecret });
  dcId = (
    await t.services.infra.createDatacenter(
      { code: 'SEC1', name: 'Secrets', city: 'Paris', country: 'FR', region: 'FR-IDF' },
      SYSTEM_ACTOR,
    )
  ).id;
});
after(async () => {
  await t?.close();
  await smtp?.stop();
});

describe('one-time links in mail: never stored usable, sealed until delivery (R3.1, R6.1)', () => {
  const email = `camille-${randomBytes(4).toString('hex')}@example.test`;
  let verifyMail: string;
  let accessMail: string;
  let vpsId: string;
  let verifyToken: string;
  let accessToken: string;

  it('R6.1 R3.1: after a sign-up and an access-codes mail, no table holds the token that verifies or reveals; the stored copy has the link withheld', async () => {
    const { accountId } = await signUp(email);
    vpsId = await vpsAwaitingAccessCodes(accountId, 'sec1');
    await runJobsWithoutDelivery();
    const [v] = await outboxOf(email, 'clients.signup_verify');
    const [c] = await outboxOf(email, 'vps.access_codes');
    assert.ok(v && c, 'both mails are in the outbox');
    assert.equal(v.status, 'pending');
    assert.equal(c.status, 'pending');
    verifyMail = v.id;
    accessMail = c.id;
    // The links exist only where delivery composes the message.
    verifyToken = linkToken((await t.services.mail.deliverable(v.id)).text, 'verify');
    accessToken = linkToken((await t.services.mail.deliverable(c.id)).text, 'access');

    assertNoToken(await wholeDatabase(), [verifyToken, accessToken], 'the database');
    for (const row of [v, c]) {
      assert.match(row.body_text, /⟦withheld:(verifyUrl|revealUrl)⟧/);
      assert.doesNotMatch(row.body_text, /token=/);
      assert.ok(row.secrets_sealed, 'the link is sealed for delivery');
      assert.ok(row.secrets_expire_at);
    }
    // The redacted copy cannot be used: what stands in place of the link is no token.
    const marker = /⟦withheld:verifyUrl⟧/.exec(v.body_text)![0];
    const tryMarker = await post('/v1/signup/verify', undefined, { token: marker.padEnd(30, 'x') });
    assert.equal(tryMarker.statusCode, 400);
    const tryReveal = await post('/v1/access-codes/reveal', undefined, {
      token: `withheld:revealUrl${'x'.repeat(10)}`,
    });
    assert.equal(tryReveal.statusCode, 404);
  });

  it('no staff API response holds the tokens (every staff GET, the outbox list and each mail, notices and their CSV), nor the client’s own notices', async () => {
    const doc = (await get('/v1/openapi.json')).json() as { paths: Record<string, Record<string, unknown>> };
    const plain = Object.entries(doc.paths)
      .filter(([p, ops]) => 'get' in ops && !p.includes('{'))
      .map(([p]) => p);
    assert.ok(plain.includes('/v1/admin/outbox') && plain.includes('/v1/admin/notices/export.csv'));
    const urls = [
      ...plain,
      `/v1/admin/outbox/${verifyMail}`,
      `/v1/admin/outbox/${accessMail}`,
      '/v1/admin/outbox?status=pending',
    ];
    for (const s of [support, admin])
      for (const url of urls)
        assertNoToken((await get(url, s)).body, [verifyToken, accessToken], `GET ${url}`);
    const one = (await get(`/v1/admin/outbox/${accessMail}`, support)).json() as {
      bodyText: string;
      oneTimeLinks: { held: boolean; expiresAt: string };
    };
    assert.match(one.bodyText, /⟦withheld:revealUrl⟧/);
    assert.equal(one.oneTimeLinks.held, true);

    const client = await login(t, email, { ip: freshIp() });
    const notices = (await get('/v1/notices', client)).json().items as { id: string }[];
    assert.ok(notices.length >= 2);
    for (const n of notices)
      assertNoToken((await get(`/v1/notices/${n.id}`, client)).body, [verifyToken, accessToken], 'a notice');
  });

  it('each staff read of a mail is audited: who, which mail, whose', async () => {
    const before = await t.database.db
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'mail.read')
      .where('target_id', '=', verifyMail)
      .execute();
    assert.equal((await get(`/v1/admin/outbox/${verifyMail}`, support)).statusCode, 200);
    const reads = await t.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'mail.read')
      .where('target_id', '=', verifyMail)
      .orderBy('id')
      .execute();
    assert.equal(reads.length, before.length + 1);
    const last = reads.at(-1)!;
    assert.equal(last.actor_user_id, supportId);
    assert.equal(last.target_type, 'mail');
    assert.equal((last.details as { to: string }).to, email);
    // Listing the outbox (no bodies) is not a read of a mail's text.
    await get('/v1/admin/outbox', support);
    const after = await t.database.db
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'mail.read')
      .where('target_id', '=', verifyMail)
      .execute();
    assert.equal(after.length, reads.length);
  });

  it('delivery puts the working links in the mails the client receives, then the sealed links are erased; the notices verify against the stored copy', async () => {
    const now = t.clock.now();
    await t.services.mail.deliverDue(now);
    const received = smtp.received.filter((m) => m.to.includes(email));
    const verifyReceived = received.find((m) => m.subject.includes('Confirmez'))!;
    const accessReceived = received.find((m) => m.subject.includes('sec1'))!;
    assert.ok(verifyReceived && accessReceived, 'both mails arrived');
    assert.equal(linkToken(verifyReceived.text, 'verify'), verifyToken);
    assert.equal(linkToken(accessReceived.text, 'access'), accessToken);
    assert.match(verifyReceived.text, /^ {2}https:\/\/panel\.example\.test\/verify#token=/m);

    for (const id of [verifyMail, accessMail]) {
      const row = await t.services.mail.outboxItem(id);
      assert.equal(row.status, 'sent');
      assert.equal(row.secrets_sealed, null, 'the sealed link is gone once delivered');
      assert.deepEqual(row.secrets_purged_at, now);
    }
    assertNoToken(await wholeDatabase(), [verifyToken, accessToken], 'the database after delivery');
    const detail = (await get(`/v1/admin/outbox/${accessMail}`, admin)).json() as {
      oneTimeLinks: { held: boolean; erasedAt: string };
    };
    assert.deepEqual(detail.oneTimeLinks.held, false);
    assert.equal(detail.oneTimeLinks.erasedAt, now.toISOString());

    // The links work (once): the address is verified, the password revealed.
    assert.equal((await post('/v1/signup/verify', undefined, { token: verifyToken })).statusCode, 200);
    const revealed = await post('/v1/access-codes/reveal', undefined, { token: accessToken });
    assert.equal(revealed.statusCode, 200, revealed.body);
    assert.equal(revealed.json().password, 'initial-Password-4-client');

    // What the notice's content hash covers: the stored copy; the received mail with its link
    // put back as the marker hashes to it.
    const notice = await t.database.db
      .selectFrom('mail_notices')
      .selectAll()
      .where('outbox_id', '=', accessMail)
      .executeTakeFirstOrThrow();
    const asStored = accessReceived.text.replace(
      /https?:\/\/\S+\/access#token=[A-Za-z0-9_%-]+/,
      '⟦withheld:revealUrl⟧',
    );
    assert.equal(
      contentHash({ subject: accessReceived.subject, text: asStored, html: null }),
      notice.content_sha256,
    );
    const chain = (await get('/v1/admin/notices/verify', admin)).json() as {
      ok: boolean;
      contentUnchecked: number;
    };
    assert.equal(chain.ok, true);
    assert.equal(chain.contentUnchecked, 0);
    const vpsRow = await t.database.db
      .selectFrom('vps')
      .select('state')
      .where('id', '=', vpsId)
      .executeTakeFirstOrThrow();
    assert.equal(vpsRow.state, 'running');
  });

  it('a link that expires before delivery is erased at its expiry; the mail fails without sending a dead link and a retry is refused (mail.secret_gone)', async () => {
    const late = `late-${randomBytes(4).toString('hex')}@example.test`;
    await signUp(late);
    const [row] = await outboxOf(late, 'clients.signup_verify');
    assert.ok(row?.secrets_sealed);
    t.clock.advance(72 * HOUR);
    const report = await t.services.mail.deliverDue(t.clock.now());
    assert.equal(report.failed, 1);
    const after = await t.services.mail.outboxItem(row.id);
    assert.equal(after.status, 'failed');
    assert.equal(after.secrets_sealed, null, 'the sealed link is erased at its expiry');
    assert.match(after.last_error!, /mail\.secret_expired/);
    assert.equal(smtp.received.filter((m) => m.to.includes(late)).length, 0, 'nothing was sent');
    const retry = await post(`/v1/admin/outbox/${row.id}/retry`, await freshAdmin(), {});
    assert.equal(retry.statusCode, 409);
    assert.equal(retry.json().code, 'mail.secret_gone');
  });

  it('the sweep erases expired links even with nothing to deliver (the scheduler tick)', async () => {
    const idle = `idle-${randomBytes(4).toString('hex')}@example.test`;
    await signUp(idle);
    const [row] = await outboxOf(idle, 'clients.signup_verify');
    // Sent, but its sealed link left behind (a mark that failed): the expiry still erases it.
    await t.database.db
      .updateTable('mail_outbox')
      .set({ status: 'sent' })
      .where('id', '=', row!.id)
      .execute();
    t.clock.advance(72 * HOUR);
    await t.scheduler.tick();
    const after = await t.services.mail.outboxItem(row!.id);
    assert.equal(after.secrets_sealed, null);
    assert.deepEqual(after.secrets_purged_at, t.clock.now());
  });

  it('a sealed link copied onto another mail is refused at delivery (bound to its mail and recipient)', async () => {
    const victim = `victim-${randomBytes(4).toString('hex')}@example.test`;
    const thief = `thief-${randomBytes(4).toString('hex')}@example.test`;
    await signUp(victim);
    await signUp(thief);
    const [v] = await outboxOf(victim, 'clients.signup_verify');
    const [th] = await outboxOf(thief, 'clients.signup_verify');
    await mailDb()
      .updateTable('mail_outbox')
      .set({ secrets_sealed: v!.secrets_sealed })
      .where('id', '=', th!.id)
      .execute();
    await assert.rejects(t.services.mail.deliverable(th!.id), /belong to another mail/);
    const admin2 = await freshAdmin();
    const early = await post(`/v1/admin/outbox/${th!.id}/retry`, admin2, {});
    assert.equal(early.statusCode, 409);
    assert.equal(early.json().code, 'mail.secret_unreadable');
    // Delivery fails that mail for good (it never goes out with another's link) and goes on.
    await t.services.mail.deliverDue(t.clock.now());
    const failed = await t.services.mail.outboxItem(th!.id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.last_error!, /mail\.secret_unreadable/);
    assert.equal(smtp.received.filter((m) => m.to.includes(thief)).length, 0);
    assert.equal((await t.services.mail.outboxItem(v!.id)).status, 'sent');
    const retry = await post(`/v1/admin/outbox/${th!.id}/retry`, admin2, {});
    assert.equal(retry.statusCode, 409);
    assert.equal(retry.json().code, 'mail.secret_gone');
  });

  it('a template value that looks like a one-time link but is not declared secret is refused (mail.secret_in_clear)', async () => {
    await assert.rejects(
      t.services.mail.send(t.database.db, {
        to: 'someone@example.test',
        template: 'account.welcome',
        language: 'fr',
        vars: {
          name: 'A',
          email: 'someone@example.test',
          loginUrl: 'https://panel.example.test/x?token=abc',
        },
        accountId: null,
        reason: 'test',
      }),
      { code: 'mail.secret_in_clear' },
    );
  });
});

describe('request logs never hold a one-time token', () => {
  it('pino output captured during /verify?token=…, /access?token=… and the API calls that spend tokens holds none of them', async () => {
    let captured = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        captured += chunk.toString();
        done();
      },
    });
    const app = await buildApp(t.services, {
      logger: createLogger('trace', stream),
      webDir: path.join(t.dataDir, 'no-panel'),
    });
    await app.ready();
    try {
      const secrets = Array.from({ length: 6 }, () => newToken());
      const [a, b, c, d, e, f] = secrets as [string, string, string, string, string, string];
      await app.inject({ method: 'GET', url: `/verify?token=${a}` });
      await app.inject({ method: 'GET', url: `/access?token=${b}` });
      await app.inject({ method: 'GET', url: `/access?lang=fr&token=${encodeURIComponent(c)}` });
      await app.inject({ method: 'GET', url: `/v1/no-such-route?token=${d}` });
      await app.inject({ method: 'POST', url: '/v1/signup/verify', payload: { token: e } });
      await app.inject({ method: 'POST', url: '/v1/access-codes/reveal', payload: { token: f } });
      assert.match(captured, /request completed/, 'the requests were logged');
      assertNoToken(captured, secrets, 'the request log');
      assert.match(captured, /"url":"\/verify\?\[query omitted\]"/);
    } finally {
      await app.close();
    }
  });
});

describe('mails written before the fix (0012) with a link in clear', () => {
  it('at start, a still-usable link is redacted and sealed (the mail still delivers it); a spent one is left as proof; the notices chain still verifies', async () => {
    const who = `legacy-${randomBytes(4).toString('hex')}@example.test`;
    const { accountId, userId } = await signUp(who);
    const now = t.clock.now();
    // Two mails as the code before 0012 wrote them: the token in the query, the text in clear.
    const live = newToken();
    const spent = newToken();
    await t.database.db
      .insertInto('email_verifications')
      .values([
        {
          user_id: userId,
          token_hash: tokenHash(live),
          created_at: now,
          expires_at: new Date(+now + 72 * HOUR),
        },
        {
          user_id: userId,
          token_hash: tokenHash(spent),
          created_at: now,
          expires_at: new Date(+now + 72 * HOUR),
          used_at: now,
        },
      ])
      .execute();
    const legacy = async (token: string, status: 'pending' | 'sent') => {
      const id = randomUUID();
      const text = `Bonjour,\n\n  https://panel.example.test/verify?token=${token}\n\nL'équipe infogere\n`;
      await t.database.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('mail_outbox')
          .values({
            id,
            created_at: now,
            to_address: who,
            subject: 'Confirmez votre adresse email',
            body_text: text,
            body_html: null,
            template: 'clients.signup_verify',
            language: 'fr',
            account_id: accountId,
            status,
            next_attempt_at: now,
            message_id: `<${id}@legacy.example.test>`,
          })
          .execute();
        await appendNotice(tx, {
          at: now,
          accountId,
          recipient: who,
          template: 'clients.signup_verify',
          language: 'fr',
          subject: 'Confirmez votre adresse email',
          messageId: `<${id}@legacy.example.test>`,
          reason: 'R6.1 sign-up: confirm the email address',
          outboxId: id,
          contentSha256: contentHash({ subject: 'Confirmez votre adresse email', text, html: null }),
        });
      });
      return { id, text };
    };
    const liveMail = await legacy(live, 'pending');
    const spentMail = await legacy(spent, 'sent');
    await flagLegacySecretMails(t.database.db as never);

    assert.deepEqual(await t.services.mail.sealLegacySecrets(), { spent: 1, redacted: 1 });
    assert.deepEqual(await t.services.mail.sealLegacySecrets(), { spent: 0, redacted: 0 }, 'once');
    assertNoToken(await wholeDatabase(), [live], 'the database after the clean-up');
    const redacted = await t.services.mail.outboxItem(liveMail.id);
    assert.equal(redacted.legacy_secret, 'redacted');
    assert.match(redacted.body_text, /⟦withheld:verifyUrl⟧/);
    assert.equal((await t.services.mail.outboxItem(spentMail.id)).legacy_secret, 'spent');
    // Still to send: the client gets the mail exactly as it was written.
    assert.equal((await t.services.mail.deliverable(liveMail.id)).text, liveMail.text);
    await t.services.mail.deliverDue(t.clock.now());
    const arrived = smtp.received.find((m) => m.messageId === `<${liveMail.id}@legacy.example.test>`);
    assert.equal(arrived?.text, liveMail.text);
    assert.equal((await t.services.mail.outboxItem(liveMail.id)).secrets_sealed, null);
    assert.equal((await post('/v1/signup/verify', undefined, { token: live })).statusCode, 200);

    const chain = await t.services.mail.verifyNotices();
    assert.equal(chain.ok, true, chain.reason ?? '');
    assert.equal(chain.contentUnchecked, 1, 'the redacted mail is counted apart');
  });
});
