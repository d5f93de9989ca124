// Mail through a real SMTP server (the `smtp-server` package, in this process, on 127.0.0.1):
// issue 5 item 6, R3.1 access codes and the contract's "every notice" rule. The clock is moved,
// never slept on.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MINUTE } from '../../src/domain/clock.ts';
import { allJobs } from '../../src/control/jobs/registry.ts';
import { CLAIM_LEASE_MS, MAX_ATTEMPTS, retryDelayMs } from '../../src/control/services/mail.ts';
import { claimDue } from '../../src/control/repositories/mail.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';

let t: TestApp;
let smtp: TestSmtp;
let admin: Session;
let adminUser: Awaited<ReturnType<typeof makeStaff>>;
let client: Awaited<ReturnType<typeof makeClient>>;

before(async () => {
  smtp = await startTestSmtp();
  t = await testApp({
    INFOGERE_SMTP_URL: smtp.url,
    INFOGERE_MAIL_FROM: 'infogere <noreply@mail.example.test>',
  });
  adminUser = await makeStaff(t, 'admin');
  admin = await login(t, adminUser.email, { totpSecret: adminUser.totpSecret });
  client = await makeClient(t);
});
after(async () => {
  await t?.close();
  await smtp?.stop();
});
beforeEach(() => {
  smtp.refuse = null;
});

const welcome = (language: 'fr' | 'en', name = 'Zoé Lefèvre') => ({
  to: client.email,
  template: 'account.welcome',
  language,
  vars: { name, email: client.email, loginUrl: 'http://127.0.0.1:8080/login?from=mail&x=<1>' },
  accountId: client.account.id,
  reason: 'R3.1 access codes (test)',
});
const row = (id: string) => t.services.mail.outboxItem(id);
const arrived = (messageId: string) => smtp.received.filter((m) => m.messageId === messageId);

describe('delivery through a real SMTP server', () => {
  it('a mail sent through the outbox arrives with its subject, text, HTML, language and Message-ID (French)', async () => {
    const { outboxId } = await t.services.mail.send(t.database.db, welcome('fr'));
    const queued = await row(outboxId);
    assert.match(queued.message_id!, new RegExp(`^<${outboxId}@mail\\.example\\.test>$`));
    assert.deepEqual(await t.services.mail.deliverDue(t.clock.now()), { sent: 1, retrying: 0, failed: 0 });
    const [m, ...more] = arrived(queued.message_id!);
    assert.ok(m, 'the mail arrived');
    assert.equal(more.length, 0);
    assert.equal(m.subject, 'Bienvenue chez infogere, Zoé Lefèvre');
    assert.equal(m.language, 'fr');
    assert.deepEqual(m.to, [client.email]);
    assert.match(m.from, /noreply@mail\.example\.test/);
    assert.match(m.text, /Votre compte client infogere est ouvert/);
    assert.match(m.text, /http:\/\/127\.0\.0\.1:8080\/login\?from=mail&x=<1>/);
    assert.match(m.html!, /href="http:\/\/127\.0\.0\.1:8080\/login\?from=mail&amp;x=&lt;1&gt;"/);
    assert.equal(m.headers['x-infogere-template'], 'account.welcome');
    const sent = await row(outboxId);
    assert.equal(sent.status, 'sent');
    assert.equal(sent.attempts, 1);
    assert.match(sent.smtp_response!, /Queued as test/);
    assert.equal(new Date(sent.sent_at!).toISOString(), t.clock.now().toISOString());
    // The notice shows the delivery next to the chained facts.
    const notices = await t.services.mail.notices(
      { kind: 'client', userId: client.user.id, accountId: client.account.id },
      {},
      { limit: 10 },
    );
    const n = notices.items.find((x) => x.outbox_id === outboxId)!;
    assert.equal(n.message_id, m.messageId);
    assert.equal(n.delivery_status, 'sent');
    // Nothing left to do: a second run sends nothing.
    assert.deepEqual(await t.services.mail.deliverDue(t.clock.now()), { sent: 0, retrying: 0, failed: 0 });
  });

  it('in English when the client reads English', async () => {
    const { outboxId } = await t.services.mail.send(t.database.db, welcome('en', 'Sam'));
    await t.services.mail.deliverDue(t.clock.now());
    const [m] = arrived((await row(outboxId)).message_id!);
    assert.equal(m!.subject, 'Welcome to infogere, Sam');
    assert.equal(m!.language, 'en');
    assert.match(m!.text, /Your infogere client account is open/);
  });

  it('the mail.deliver job queued with the mail delivers it (what the platform runs after the commit)', async () => {
    const { outboxId } = await t.database.db
      .transaction()
      .execute((tx) => t.services.mail.send(tx, welcome('fr')));
    assert.ok(
      t.queue.sent.some(
        (j) => j.name === 'mail.deliver' && (j.data as { outboxId: string }).outboxId === outboxId,
      ),
    );
    await t.queue.runAll(allJobs(t.services));
    assert.equal((await row(outboxId)).status, 'sent');
    assert.equal(arrived((await row(outboxId)).message_id!).length, 1);
  });

  it('refused by the server: stays pending with backoff (1 min, 2 min, …), then gets through', async () => {
    smtp.refuse = { code: 451, message: 'Try again later' };
    const { outboxId } = await t.services.mail.send(t.database.db, welcome('fr'));
    const t0 = t.clock.now().getTime();
    assert.deepEqual(await t.services.mail.deliverDue(t.clock.now()), { sent: 0, retrying: 1, failed: 0 });
    let r = await row(outboxId);
    assert.equal(r.status, 'pending');
    assert.equal(r.attempts, 1);
    assert.match(r.last_error!, /451/);
    assert.equal(new Date(r.next_attempt_at).getTime(), t0 + MINUTE);
    // Not due before its time: no attempt.
    t.clock.advance(59_000);
    assert.deepEqual(await t.services.mail.deliverDue(t.clock.now()), { sent: 0, retrying: 0, failed: 0 });
    t.clock.advance(1_000);
    await t.scheduler.tick(); // the scheduler's tick sweeps the outbox too
    r = await row(outboxId);
    assert.equal(r.attempts, 2);
    assert.equal(new Date(r.next_attempt_at).getTime(), t.clock.now().getTime() + 2 * MINUTE);
    smtp.refuse = null;
    t.clock.advance(2 * MINUTE);
    assert.deepEqual(await t.services.mail.deliverDue(t.clock.now()), { sent: 1, retrying: 0, failed: 0 });
    r = await row(outboxId);
    assert.equal(r.status, 'sent');
    assert.equal(r.attempts, 3);
    assert.equal(arrived(r.message_id!).length, 1);
  });

  it('server down: stays pending, then gets through once it is back', async () => {
    await smtp.stop();
    const { outboxId } = await t.services.mail.send(t.database.db, welcome('fr'));
    try {
      assert.deepEqual(await t.services.mail.deliverDue(t.clock.now()), { sent: 0, retrying: 1, failed: 0 });
      const r = await row(outboxId);
      assert.equal(r.status, 'pending');
      assert.match(r.last_error!, /ECONNREFUSED|connect/i);
    } finally {
      await smtp.start();
    }
    t.clock.advance(MINUTE);
    assert.deepEqual(await t.services.mail.deliverDue(t.clock.now()), { sent: 1, retrying: 0, failed: 0 });
    assert.equal(arrived((await row(outboxId)).message_id!).length, 1);
  });

  it(`after ${MAX_ATTEMPTS} refusals the mail is failed with the last error; an admin's retry sends it`, async () => {
    smtp.refuse = { code: 450, message: 'Mailbox busy' };
    const { outboxId } = await t.services.mail.send(t.database.db, welcome('fr'));
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const rep = await t.services.mail.deliverDue(t.clock.now());
      assert.deepEqual(
        rep,
        attempt < MAX_ATTEMPTS ? { sent: 0, retrying: 1, failed: 0 } : { sent: 0, retrying: 0, failed: 1 },
      );
      t.clock.advance(retryDelayMs(attempt));
    }
    let r = await row(outboxId);
    assert.equal(r.status, 'failed');
    assert.equal(r.attempts, MAX_ATTEMPTS);
    assert.match(r.last_error!, /Mailbox busy/);
    t.clock.advance(24 * 60 * MINUTE);
    assert.deepEqual(
      await t.services.mail.deliverDue(t.clock.now()),
      { sent: 0, retrying: 0, failed: 0 },
      'a failed mail is not retried by itself',
    );
    admin = await login(t, adminUser.email, { totpSecret: adminUser.totpSecret }); // a day later: a new session
    const failedList = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/outbox?status=failed',
      headers: { cookie: admin.cookie },
    });
    assert.ok(
      (failedList.json() as { items: { id: string; lastError: string }[] }).items.some(
        (i) => i.id === outboxId && /Mailbox busy/.test(i.lastError),
      ),
    );

    smtp.refuse = null;
    const retry = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/outbox/${outboxId}/retry`,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    assert.equal(retry.statusCode, 200, retry.body);
    assert.equal(retry.json().status, 'pending');
    assert.equal(retry.json().attempts, 0);
    await t.queue.runAll(allJobs(t.services)); // the retry queued a delivery job
    r = await row(outboxId);
    assert.equal(r.status, 'sent');
    assert.equal(arrived(r.message_id!).length, 1);
    const again = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/outbox/${outboxId}/retry`,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'mail.already_sent');
  });

  it('two concurrent deliveries never send a mail twice', async () => {
    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, i) => t.services.mail.send(t.database.db, welcome('fr', `Client ${i}`))),
    );
    const before = smtp.received.length;
    const reports = await Promise.all([
      t.services.mail.deliverDue(t.clock.now()),
      t.services.mail.deliverDue(t.clock.now()),
      t.services.mail.deliverDue(t.clock.now()),
    ]);
    assert.equal(
      reports.reduce((s, r) => s + r.sent, 0),
      12,
    );
    assert.equal(smtp.received.length - before, 12);
    for (const { outboxId } of ids) assert.equal(arrived((await row(outboxId)).message_id!).length, 1);
  });

  it('a worker that dies holding a claim: the mail goes out when the claim ends (at-least-once, same Message-ID)', async () => {
    const { outboxId } = await t.services.mail.send(t.database.db, welcome('fr'));
    const now = t.clock.now();
    const claimed = await claimDue(t.database.db, now, new Date(now.getTime() + CLAIM_LEASE_MS), 100);
    assert.ok(claimed.some((c) => c.id === outboxId)); // … and the worker is gone
    assert.deepEqual(await t.services.mail.deliverDue(t.clock.now()), { sent: 0, retrying: 0, failed: 0 });
    t.clock.advance(CLAIM_LEASE_MS);
    assert.deepEqual(await t.services.mail.deliverDue(t.clock.now()), { sent: 1, retrying: 0, failed: 0 });
    const r = await row(outboxId);
    assert.equal(r.attempts, 2);
    assert.equal(arrived(r.message_id!)[0]!.messageId, `<${outboxId}@mail.example.test>`);
  });

  it('the notices chain still verifies after all of this', async () => {
    assert.equal((await t.services.mail.verifyNotices()).ok, true);
  });
});
