// Who a mail about an account goes to (mail/recipients.ts) and how dates read in mails
// (mail/format.ts): one rule for every module.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CLIENT_TIME_ZONE, mailDate, mailDay } from '../../src/control/mail/format.ts';
import { recipientOf } from '../../src/control/mail/recipients.ts';
import { upsertIdentity } from '../../src/control/repositories/clients.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { testApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => t?.close());

async function account(email: string, language: 'fr' | 'en' = 'fr') {
  return t.services.identity.createClientAccount(
    {
      accountName: `Compte ${email}`,
      email,
      name: 'Zoé Martin',
      password: 'a long enough passphrase 1',
      language,
    },
    SYSTEM_ACTOR,
  );
}

test('R6.1: an account without identity data is written to at its oldest active user, in the account language', async () => {
  const c = await account('zoe@recipients.example.test', 'en');
  assert.deepEqual(await recipientOf(t.services.ctx.db, c.account.id), {
    to: 'zoe@recipients.example.test',
    name: 'Zoé Martin',
    language: 'en',
  });
});

test('R6.1: the identity email wins over the users; a named active user wins over both; a disabled one does not', async () => {
  const c = await account('paul@recipients.example.test');
  await upsertIdentity(
    t.services.ctx.db,
    c.account.id,
    {
      lastName: 'Durand',
      firstName: 'Paul',
      organisation: null,
      address: { line1: '1 rue de la Paix', line2: null, postalCode: '75002', city: 'Paris', country: 'FR' },
      phone: '+33612345678',
      email: 'contact@durand.example.test',
    },
    t.clock.now(),
  );
  const db = t.services.ctx.db;
  assert.equal((await recipientOf(db, c.account.id)).to, 'contact@durand.example.test');
  assert.equal((await recipientOf(db, c.account.id)).name, 'Paul Durand');
  assert.equal(
    (await recipientOf(db, c.account.id, { userId: c.user.id })).to,
    'paul@recipients.example.test',
  );
  await db.updateTable('users').set({ disabled_at: t.clock.now() }).where('id', '=', c.user.id).execute();
  assert.equal(
    (await recipientOf(db, c.account.id, { userId: c.user.id })).to,
    'contact@durand.example.test',
  );
});

test('an unknown account has no contact: a conflict, never a silent drop', async () => {
  await assert.rejects(recipientOf(t.services.ctx.db, '00000000-0000-4000-8000-000000000000'), {
    code: 'account.no_contact',
  });
});

test('mail dates read in Paris time in the client language, across the daylight-saving change', () => {
  assert.equal(CLIENT_TIME_ZONE, 'Europe/Paris');
  // 29 March 2026 01:30 UTC is 03:30 in Paris (summer time began at 01:00 UTC).
  const d = new Date('2026-03-29T01:30:00Z');
  assert.equal(mailDate(d, 'fr'), '29 mars 2026 à 03:30 (heure de Paris)');
  assert.equal(mailDate(d, 'en'), '29 March 2026 at 03:30 (Paris time)');
  // 31 December 23:30 UTC is already 1 January in Paris.
  assert.equal(mailDay(new Date('2026-12-31T23:30:00Z'), 'fr'), '1 janvier 2027');
});
