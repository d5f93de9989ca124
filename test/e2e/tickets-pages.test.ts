// The support desk's pages in a real browser (Debian's Chromium via playwright-core) against
// the real server (R4.3, R3.10): the client opens an admin request from its panel and reads its
// balance on the form (20 min left); staff answer from the console with 12 minutes beside the
// balance; the client's ticket then shows 12 used, 8 left; a second answer of 10 minutes shows
// the overage and needs a quote, which the client accepts in its panel. No VM: the VPS stays pending.
// Run: node scripts/run-tests.ts --skip-static test/e2e/tickets-pages.test.ts
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ManualClock } from '../../src/domain/clock.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import type { Platform } from '../../src/control/platform.ts';
import { logIn as logInAt, openBrowser, type TestBrowser } from '../helpers/browser.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/lab-platform.ts';

const admin = {
  email: 'desk.admin@example.test',
  name: 'Diane Support',
  password: 'correct horse battery staple 8',
};
const client = {
  accountName: 'Martin SARL',
  email: 'camille@martin.example.test',
  name: 'Camille Martin',
  password: 'another long passphrase 9',
};

let testPlatform: TestPlatform | undefined;
let platform: Platform;
let browser: TestBrowser | undefined;
let totpSecret: string;
const clock = new ManualClock('2026-04-10T08:00:00Z');
const pageErrors: string[] = [];

before(async () => {
  testPlatform = await startTestPlatform({ panel: true, clock });
  ({ platform } = testPlatform);
  const s = platform.services;
  totpSecret = (await s.identity.createStaff({ ...admin, role: 'admin' }, SYSTEM_ACTOR)).totpSecret;
  const c = await s.identity.createClientAccount({ ...client, language: 'fr' }, SYSTEM_ACTOR);
  const dc = await s.infra.createDatacenter(
    { code: 'PAR1', name: 'Paris 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  const plan = await s.commerce.createPlan(
    {
      code: 'S1',
      name: 'VPS S',
      vcpus: 1,
      memoryMiB: 1024,
      diskGiB: 20,
      monthlyPriceCents: 599,
      vatRateBp: 2000,
      datacenterIds: [dc.id],
    },
    SYSTEM_ACTOR,
  );
  const { order, invoice } = await s.commerce.placeOrder(
    { kind: 'client', userId: c.user.id, accountId: c.account.id },
    c.user.id,
    { planId: plan.id, datacenterId: dc.id, kind: 'fixed', termMonths: 12, hostname: 'boutique' },
    SYSTEM_ACTOR,
  );
  await s.commerce.recordPayment(
    invoice.id,
    { method: 'transfer', reference: 'VIR-1', amountCents: invoice.total_cents },
    SYSTEM_ACTOR,
  );
  await s.commerce.validateOrder(order.id, SYSTEM_ACTOR);
  await platform.db
    .deleteFrom('pgboss.job' as never)
    .execute()
    .catch(() => undefined);
  browser = await openBrowser({
    baseUrl: platform.url,
    name: 'tickets',
    viewport: { width: 1280, height: 900 },
  });
});

after(async () => {
  await browser?.close();
  await testPlatform?.stop();
});

const logIn = (page: Page, email: string, password: string, secret?: string) =>
  logInAt(page, platform.url, { email, password, totpSecret: secret, totpAt: () => clock.now().getTime() });

test('R4.3 R3.10 tickets in the panel: 12 minutes leave 8, 10 more need a quote the client accepts', async (t) => {
  const page = await browser!.page();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const staffContext = await browser!.newContext();
  const staff = await staffContext.newPage();
  staff.on('pageerror', (e) => pageErrors.push(String(e)));
  let ticketPath = '';

  await t.test('R3.10 the client opens an admin request; the form shows its balance', async () => {
    await logIn(page, client.email, client.password);
    await page.waitForURL((u) => u.pathname === '/client');
    await page.getByRole('link', { name: 'Tickets de support' }).first().click();
    await page.waitForURL((u) => u.pathname === '/client/tickets');
    await page
      .getByTestId('support-balance')
      .getByText(/0 min utilisées, 20 restantes ce mois-ci/)
      .waitFor();
    await page.getByLabel('Objet').fill('Installer PostgreSQL 16');
    await page.getByLabel('Message').fill('Pourriez-vous installer PostgreSQL 16 sur boutique ?');
    await page.getByRole('button', { name: 'Ouvrir le ticket' }).click();
    await page.waitForURL((u) => /^\/client\/tickets\/[0-9a-f-]{36}$/.test(u.pathname));
    ticketPath = new URL(page.url()).pathname;
    await page.getByTestId('ticket-status').getByText('nouveau').waitFor();
  });

  await t.test('R3.10 staff answer with 12 minutes from the console, beside the balance', async () => {
    await logIn(staff, admin.email, admin.password, totpSecret);
    await staff.waitForURL((u) => u.pathname === '/console');
    await staff.goto(`${platform.url}/console/tickets`);
    await staff.getByTestId('ticket-queue').getByRole('link', { name: 'Installer PostgreSQL 16' }).click();
    await staff.waitForURL((u) => u.pathname.startsWith('/console/tickets/'));
    await staff
      .getByTestId('support-balance')
      .getByText(/20 restantes/)
      .waitFor();
    const form = staff.getByTestId('staff-reply');
    await form.getByLabel('Message').fill('PostgreSQL 16 est installé.');
    await form.getByLabel('Minutes passées').fill('12');
    await form.getByRole('button', { name: 'Envoyer' }).click();
    await staff.locator('[data-testid="support-balance"][data-left="8"]').waitFor();
  });

  await t.test('R3.10 the client’s ticket shows 12 used, 8 left', async () => {
    await page.goto(`${platform.url}${ticketPath}`);
    await page.getByText('PostgreSQL 16 est installé.').waitFor();
    await page
      .locator('[data-testid="support-balance"][data-left="8"]')
      .getByText(/12 min utilisées, 8 restantes ce mois-ci, remise à zéro le 10 mai/)
      .waitFor();
    await page.getByTestId('ledger').getByText('12').first().waitFor();
  });

  await t.test(
    'R3.10 a 10-minute answer shows the overage and needs a quote; the client accepts it',
    async () => {
      const form = staff.getByTestId('staff-reply');
      await form.getByLabel('Message').fill('Réglages de performance faits.');
      await form.getByLabel('Minutes passées').fill('10');
      await form.getByRole('button', { name: 'Envoyer' }).click();
      await staff.getByText(/proposez un devis, que le client doit accepter/).waitFor();
      const quote = staff.getByTestId('quote-form');
      await quote.getByLabel('Minutes', { exact: true }).fill('30');
      await quote.getByLabel('Travail proposé').fill('Réglages de performance PostgreSQL');
      await quote.getByRole('button', { name: 'Proposer un devis' }).click();
      await staff
        .getByTestId('quotes')
        .getByText(/proposé/)
        .waitFor();

      await page.reload();
      await page.getByRole('button', { name: 'Accepter le devis' }).click();
      await page.locator('[data-testid="quote"][data-status="accepted"]').waitFor();

      await form.getByLabel('Message').fill('Réglages de performance faits.');
      await form.getByLabel('Minutes passées').fill('10');
      await form.getByRole('button', { name: 'Envoyer' }).click();
      await staff.getByText('Réglages de performance faits.').waitFor();
      await staff.locator('[data-testid="support-balance"][data-left="0"]').waitFor();
      const invoices = await platform.db
        .selectFrom('invoices')
        .select(['net_cents'])
        .where('order_id', 'is', null)
        .execute();
      assert.deepEqual(
        invoices.map((i) => i.net_cents),
        [3000],
      );
    },
  );

  await staffContext.close();
  assert.deepEqual(pageErrors, []);
});
