// The mail module without a relay, and the notices chain (issue 5 item 6, R3.1; the contract's
// "every notice" rule: what was sent to a client, when and why, tamper-evident and exportable).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { allJobs } from '../../src/control/jobs/registry.ts';
import { verifyNoticeChain } from '../../src/control/repositories/notices.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let admin: Session;
let support: Session;
let clientA: Awaited<ReturnType<typeof makeClient>>;
let clientB: Awaited<ReturnType<typeof makeClient>>;
let sessionA: Session;
let sessionB: Session;

before(async () => {
  t = await testApp();
  t.services.mail.registerTemplate({
    name: 'test.hello',
    vars: ['name'],
    subject: { fr: 'Bonjour {{name}}', en: 'Hello {{name}}' },
    text: { fr: 'Bonjour {{name}}, ceci est un essai.', en: 'Hello {{name}}, this is a test.' },
    html: { fr: '<p>Bonjour {{name}}</p>', en: '<p>Hello {{name}}</p>' },
  });
  const a = await makeStaff(t, 'admin');
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const s = await makeStaff(t, 'support');
  support = await login(t, s.email, { totpSecret: s.totpSecret });
  clientA = await makeClient(t);
  clientB = await makeClient(t);
  sessionA = await login(t, clientA.email);
  sessionB = await login(t, clientB.email);
});
after(async () => t?.close());

const hello = (to: string, accountId: string | null, name = 'Ana', language: 'fr' | 'en' = 'fr') => ({
  to,
  template: 'test.hello',
  language,
  vars: { name },
  accountId,
  reason: 'test: R3.1 access codes stand-in',
});

describe('mail outbox without a relay (INFOGERE_SMTP_URL unset)', () => {
  it('send renders the template in the language asked, and the mail waits in the outbox, readable by staff', async () => {
    const { outboxId } = await t.services.mail.send(
      t.database.db,
      hello(clientA.email, clientA.account.id, 'Zoé <b>', 'fr'),
    );
    assert.deepEqual(await t.services.mail.deliverDue(t.clock.now()), { sent: 0, retrying: 0, failed: 0 });
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/outbox?status=pending',
      headers: { cookie: support.cookie },
    });
    assert.equal(list.statusCode, 200, list.body);
    const body = list.json() as {
      relayConfigured: boolean;
      counts: { pending: number };
      items: { id: string; status: string; attempts: number; subject: string; messageId: string }[];
    };
    assert.equal(body.relayConfigured, false);
    const item = body.items.find((i) => i.id === outboxId)!;
    assert.equal(item.status, 'pending');
    assert.equal(item.attempts, 0, 'nothing was attempted without a relay');
    assert.equal(item.subject, 'Bonjour Zoé <b>');
    assert.match(item.messageId, new RegExp(`^<${outboxId}@[a-z0-9.-]+>$`));
    const one = await t.app.inject({
      method: 'GET',
      url: `/v1/admin/outbox/${outboxId}`,
      headers: { cookie: support.cookie },
    });
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().bodyText, 'Bonjour Zoé <b>, ceci est un essai.');
    assert.equal(
      one.json().bodyHtml,
      '<p>Bonjour Zoé &lt;b&gt;</p>',
      'variables are HTML-escaped in HTML bodies',
    );
    // The delivery job was queued with the mail.
    assert.ok(
      t.queue.sent.some(
        (j) => j.name === 'mail.deliver' && (j.data as { outboxId: string }).outboxId === outboxId,
      ),
    );
    await t.queue.runAll(allJobs(t.services));
    assert.equal((await t.services.mail.outboxItem(outboxId)).status, 'pending');
  });

  it('English on request', async () => {
    const { outboxId } = await t.services.mail.send(
      t.database.db,
      hello(clientB.email, clientB.account.id, 'Bob', 'en'),
    );
    const row = await t.services.mail.outboxItem(outboxId);
    assert.equal(row.subject, 'Hello Bob');
    assert.equal(row.language, 'en');
  });

  it('the outbox row and its notice are written in the caller’s transaction: rolled back, neither exists', async () => {
    const before = await t.database.db
      .selectFrom('mail_notices')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    let outboxId = '';
    await assert.rejects(
      t.database.db.transaction().execute(async (tx) => {
        outboxId = (await t.services.mail.send(tx, hello(clientA.email, clientA.account.id))).outboxId;
        throw new Error('the fact failed');
      }),
      /the fact failed/,
    );
    assert.ok(outboxId);
    assert.equal(
      await t.database.db
        .selectFrom('mail_outbox')
        .select('id')
        .where('id', '=', outboxId)
        .executeTakeFirst(),
      undefined,
    );
    const after = await t.database.db
      .selectFrom('mail_notices')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(after.n, before.n);
    // Committed with the caller: both exist.
    const ok = await t.database.db
      .transaction()
      .execute((tx) => t.services.mail.send(tx, hello(clientA.email, clientA.account.id)));
    assert.ok(
      await t.database.db
        .selectFrom('mail_notices')
        .select('id')
        .where('outbox_id', '=', ok.outboxId)
        .executeTakeFirst(),
    );
  });

  it('an unknown template, a missing variable, a bad address or no reason is refused, and nothing is written', async () => {
    const count = async () =>
      Number(
        (
          await t.database.db
            .selectFrom('mail_outbox')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const n = await count();
    await assert.rejects(
      t.services.mail.send(t.database.db, { ...hello('a@example.test', null), template: 'no.such' }),
      { code: 'mail.unknown_template' },
    );
    await assert.rejects(
      t.services.mail.send(t.database.db, { ...hello('a@example.test', null), vars: {} }),
      {
        code: 'mail.unknown_template',
        message: /needs name/,
      },
    );
    await assert.rejects(t.services.mail.send(t.database.db, hello('not an address', null)), {
      code: 'mail.invalid_recipient',
    });
    await assert.rejects(
      t.services.mail.send(t.database.db, { ...hello('a@example.test', null), reason: ' ' }),
      { code: 'mail.reason_required' },
    );
    assert.equal(await count(), n);
  });

  it('retry is for admins (support 403), another id is 404, a waiting mail is due again now', async () => {
    const { outboxId } = await t.services.mail.send(t.database.db, hello(clientA.email, clientA.account.id));
    const bySupport = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/outbox/${outboxId}/retry`,
      headers: { cookie: support.cookie, 'x-csrf-token': support.csrf },
    });
    assert.equal(bySupport.statusCode, 403);
    const byClient = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/outbox',
      headers: { cookie: sessionA.cookie },
    });
    assert.equal(byClient.statusCode, 403);
    const missing = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/outbox/00000000-0000-4000-8000-000000000000/retry',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'mail.not_found');
    const ok = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/outbox/${outboxId}/retry`,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().status, 'pending');
    const audit = await t.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'mail.retry')
      .where('target_id', '=', outboxId)
      .executeTakeFirst();
    assert.ok(audit, 'the retry is in the audit log');
  });
});

describe('notices chain (every email to a client, as proof)', () => {
  it('each notice records template, recipient, time, Message-ID, reason and account, chained by hash', async () => {
    const rows = await t.database.db.selectFrom('mail_notices').selectAll().orderBy('id').execute();
    assert.ok(rows.length >= 4);
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prev_hash, rows[i - 1]!.hash);
    const outbox = await t.database.db.selectFrom('mail_outbox').selectAll().execute();
    for (const n of rows) {
      const o = outbox.find((x) => x.id === n.outbox_id)!;
      assert.equal(n.message_id, o.message_id);
      assert.equal(n.recipient, o.to_address);
      assert.equal(n.template, 'test.hello');
      assert.equal(n.reason, 'test: R3.1 access codes stand-in');
      assert.equal(new Date(n.at).toISOString(), new Date(o.created_at).toISOString());
    }
    const v = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/notices/verify',
      headers: { cookie: support.cookie },
    });
    assert.equal(v.statusCode, 200);
    assert.equal(v.json().ok, true);
    assert.equal(v.json().checked, rows.length);
    assert.equal(v.json().lastHash, rows.at(-1)!.hash);
  });

  it('a concurrent burst of sends still forms one chain', async () => {
    await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        t.services.mail.send(t.database.db, hello(clientB.email, clientB.account.id, `n${i}`)),
      ),
    );
    assert.equal((await verifyNoticeChain(t.database.db)).ok, true);
  });

  it('the table is append-only: UPDATE and DELETE are refused by the database', async () => {
    const one = await t.database.db
      .selectFrom('mail_notices')
      .select('id')
      .limit(1)
      .executeTakeFirstOrThrow();
    await assert.rejects(
      sql`UPDATE mail_notices SET reason = 'x' WHERE id = ${one.id}`.execute(t.database.db),
      /append-only/,
    );
    await assert.rejects(
      sql`DELETE FROM mail_notices WHERE id = ${one.id}`.execute(t.database.db),
      /append-only/,
    );
  });

  it('staff list and filter notices by account and time, and export them as CSV', async () => {
    const all = await t.app.inject({
      method: 'GET',
      url: `/v1/admin/notices?accountId=${clientA.account.id}`,
      headers: { cookie: support.cookie },
    });
    assert.equal(all.statusCode, 200, all.body);
    const items = all.json().items as {
      accountId: string;
      recipient: string;
      messageId: string;
      delivery: { status: string };
    }[];
    assert.ok(items.length >= 3);
    assert.ok(items.every((n) => n.accountId === clientA.account.id && n.recipient === clientA.email));
    assert.equal(items[0]!.delivery.status, 'pending');
    const later = new Date(t.clock.now().getTime() + 1000).toISOString();
    const none = await t.app.inject({
      method: 'GET',
      url: `/v1/admin/notices?from=${encodeURIComponent(later)}`,
      headers: { cookie: support.cookie },
    });
    assert.deepEqual(none.json(), { items: [], nextCursor: null });
    const csv = await t.app.inject({
      method: 'GET',
      url: `/v1/admin/notices/export.csv?accountId=${clientA.account.id}`,
      headers: { cookie: support.cookie },
    });
    assert.equal(csv.statusCode, 200);
    assert.match(csv.headers['content-type'] as string, /^text\/csv/);
    assert.match(csv.headers['content-disposition'] as string, /attachment; filename="notices.csv"/);
    const lines = csv.body.trim().split('\r\n');
    assert.equal(
      lines[0],
      'id,at,account_id,recipient,template,language,subject,message_id,reason,outbox_id,content_sha256,prev_hash,hash,delivery_status,sent_at',
    );
    assert.equal(lines.length, items.length + 1);
    assert.ok(lines.slice(1).every((l) => l.includes(clientA.account.id)));
    assert.ok(csv.body.includes(items[0]!.messageId));
    const byClient = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/notices/export.csv',
      headers: { cookie: sessionA.cookie },
    });
    assert.equal(byClient.statusCode, 403);
  });

  it('a client sees its own notices only; another account’s notice is 404', async () => {
    const mine = await t.app.inject({
      method: 'GET',
      url: '/v1/notices',
      headers: { cookie: sessionA.cookie },
    });
    assert.equal(mine.statusCode, 200);
    const list = mine.json().items as { id: string; accountId: string }[];
    assert.ok(list.length >= 3);
    assert.ok(list.every((n) => n.accountId === clientA.account.id));
    const one = await t.app.inject({
      method: 'GET',
      url: `/v1/notices/${list[0]!.id}`,
      headers: { cookie: sessionA.cookie },
    });
    assert.equal(one.statusCode, 200);
    assert.match(one.json().bodyText, /Bonjour/);
    const theirs = await t.app.inject({
      method: 'GET',
      url: `/v1/notices/${list[0]!.id}`,
      headers: { cookie: sessionB.cookie },
    });
    assert.equal(theirs.statusCode, 404);
    assert.equal(theirs.json().code, 'notice.not_found');
    // Asking for the other account by filter does not widen the scope.
    const filtered = await t.app.inject({
      method: 'GET',
      url: `/v1/notices?accountId=${clientA.account.id}`,
      headers: { cookie: sessionB.cookie },
    });
    assert.equal(filtered.statusCode, 400, 'accountId is not a client filter');
    const bList = (
      await t.app.inject({ method: 'GET', url: '/v1/notices', headers: { cookie: sessionB.cookie } })
    ).json().items as { accountId: string }[];
    assert.ok(bList.length > 0 && bList.every((n) => n.accountId === clientB.account.id));
    const staffOnClientRoute = await t.app.inject({
      method: 'GET',
      url: '/v1/notices',
      headers: { cookie: support.cookie },
    });
    assert.equal(staffOnClientRoute.statusCode, 403);
  });

  it('a tampered notice, or a changed mail text, is found at that notice (the trigger disabled first)', async () => {
    const victim = await t.database.db
      .selectFrom('mail_notices')
      .selectAll()
      .orderBy('id')
      .offset(2)
      .limit(1)
      .executeTakeFirstOrThrow();
    await sql`ALTER TABLE mail_notices DISABLE TRIGGER mail_notices_no_change`.execute(t.database.db);
    try {
      await sql`UPDATE mail_notices SET reason = 'nothing to see' WHERE id = ${victim.id}`.execute(
        t.database.db,
      );
      const r = await verifyNoticeChain(t.database.db);
      assert.equal(r.ok, false);
      assert.equal(r.firstBadId, victim.id);
      assert.match(r.reason!, /changed/);
      const api = await t.app.inject({
        method: 'GET',
        url: '/v1/admin/notices/verify',
        headers: { cookie: admin.cookie },
      });
      assert.equal(api.json().ok, false);
      assert.equal(api.json().firstBadId, victim.id);
      await sql`UPDATE mail_notices SET reason = ${victim.reason} WHERE id = ${victim.id}`.execute(
        t.database.db,
      );
      assert.equal((await verifyNoticeChain(t.database.db)).ok, true);
      // The outbox keeps the text; the notice's content hash proves it.
      await sql`UPDATE mail_outbox SET body_text = body_text || ' (edited)' WHERE id = ${victim.outbox_id}`.execute(
        t.database.db,
      );
      const c = await verifyNoticeChain(t.database.db);
      assert.equal(c.ok, false);
      assert.equal(c.firstBadId, victim.id);
      assert.match(c.reason!, /mail text changed/);
      await sql`UPDATE mail_outbox SET body_text = replace(body_text, ' (edited)', '') WHERE id = ${victim.outbox_id}`.execute(
        t.database.db,
      );
      assert.equal((await verifyNoticeChain(t.database.db)).ok, true);
      // A removed notice breaks the link of the next one.
      await sql`DELETE FROM mail_notices WHERE id = ${victim.id}`.execute(t.database.db);
      const d = await verifyNoticeChain(t.database.db);
      assert.equal(d.ok, false);
      assert.match(d.reason!, /link/);
    } finally {
      await sql`ALTER TABLE mail_notices ENABLE TRIGGER mail_notices_no_change`.execute(t.database.db);
    }
  });
});

describe('templates', () => {
  it('account.welcome is registered, in French and English', () => {
    const names = t.services.mail.templates().map((x) => x.name);
    assert.ok(names.includes('account.welcome'));
    const vars = { name: 'Léa', email: 'lea@example.test', loginUrl: 'http://127.0.0.1:8080/login' };
    assert.match(t.services.mail.render('account.welcome', 'fr', vars).subject, /^Bienvenue/);
    assert.match(t.services.mail.render('account.welcome', 'en', vars).subject, /^Welcome/);
  });
});
