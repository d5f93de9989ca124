// The running platform (pg-boss, scheduler, HTTP) delivers mail by itself: the `mail.deliver`
// job queued in the caller's transaction runs after the commit and the relay receives the
// mail; a rolled-back transaction queues neither mail nor job (R3.1 and every notice).
// Real time here (the platform's own clock): the test waits for the SMTP server to receive.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPlatform, type Platform } from '../../src/control/platform.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestSmtp, type ReceivedMail, type TestSmtp } from '../helpers/smtp.ts';

let db: TestDatabase;
let dataDir: string;
let platform: Platform;
let smtp: TestSmtp;

before(async () => {
  smtp = await startTestSmtp();
  db = await freshDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'infogere-mail-platform-'));
  platform = await startPlatform({
    listen: false,
    env: {
      INFOGERE_DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      INFOGERE_SMTP_URL: smtp.url,
      INFOGERE_MAIL_FROM: 'infogere <noreply@platform.example.test>',
      INFOGERE_LOG_LEVEL: 'silent',
    },
  });
});
after(async () => {
  await platform?.stop();
  await db?.drop();
  await smtp?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Resolves when the SMTP server has received the message, or fails after `ms`. */
async function received(messageId: string, ms = 30_000): Promise<ReceivedMail> {
  const end = Date.now() + ms;
  for (;;) {
    const m = smtp.received.find((x) => x.messageId === messageId);
    if (m) return m;
    if (Date.now() > end) throw new Error(`mail ${messageId} not received within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the running platform delivers mail after the commit', () => {
  it('a mail queued in a transaction reaches the relay with no one calling deliverDue', async () => {
    const c = await platform.services.identity.createClientAccount(
      {
        accountName: 'Platform test',
        email: 'platform-client@example.test',
        name: 'Léa',
        password: 'correct horse battery staple',
        language: 'en',
      },
      SYSTEM_ACTOR,
    );
    const { outboxId } = await platform.db.transaction().execute((tx) =>
      platform.services.mail.send(tx, {
        to: c.user.email,
        template: 'account.welcome',
        language: 'en',
        vars: { name: 'Léa', email: c.user.email, loginUrl: `${platform.config.publicUrl}/login` },
        accountId: c.account.id,
        reason: 'account created (test)',
      }),
    );
    const row = await platform.services.mail.outboxItem(outboxId);
    const jobs = await platform.jobs.boss.findJobs('mail.deliver', { data: { outboxId } } as never);
    assert.equal((jobs as unknown[]).length, 1, 'the delivery job was committed with the mail');
    const m = await received(row.message_id!);
    assert.equal(m.subject, 'Welcome to infogere, Léa');
    for (let i = 0; i < 100 && (await platform.services.mail.outboxItem(outboxId)).status !== 'sent'; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal((await platform.services.mail.outboxItem(outboxId)).status, 'sent');
  });

  it('a rolled-back transaction leaves no mail, no notice and no job', async () => {
    let outboxId = '';
    await assert.rejects(
      platform.db.transaction().execute(async (tx) => {
        outboxId = (
          await platform.services.mail.send(tx, {
            to: 'nobody@example.test',
            template: 'account.welcome',
            language: 'fr',
            vars: { name: 'X', email: 'nobody@example.test', loginUrl: 'http://x.test' },
            accountId: null,
            reason: 'rolled back (test)',
          })
        ).outboxId;
        throw new Error('rollback');
      }),
      /rollback/,
    );
    assert.equal(
      await platform.db.selectFrom('mail_outbox').select('id').where('id', '=', outboxId).executeTakeFirst(),
      undefined,
    );
    assert.equal(
      await platform.db
        .selectFrom('mail_notices')
        .select('id')
        .where('outbox_id', '=', outboxId)
        .executeTakeFirst(),
      undefined,
    );
    const jobs = await platform.jobs.boss.findJobs('mail.deliver', { data: { outboxId } } as never);
    assert.equal((jobs as unknown[]).length, 0);
  });
});
