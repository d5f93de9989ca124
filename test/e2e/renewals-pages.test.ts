// The term-and-renewal pages in a real browser (Debian's Chromium via playwright-core) against
// the real server (R11.1, R11.2, R11.3): the client goes from its VPS page to the contract page,
// reads the end of its fixed term in Paris time, switches to a subscription (confirmed), stops
// and resumes the renewal (each confirmed, a dismissed confirmation changes nothing); staff see
// the contract on the console's Renewals due page. No VM: the contract's VPS stays pending.
// Run: node scripts/run-tests.ts --skip-static test/e2e/renewals-pages.test.ts
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ManualClock } from '../../src/domain/clock.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import type { Platform } from '../../src/control/platform.ts';
import { logIn as logInAt, openBrowser, type TestBrowser } from '../helpers/browser.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/lab-platform.ts';
const admin = {
  email: 'renew.admin@example.test',
  name: 'Rémi Admin',
  password: 'correct horse battery staple 7',
};
const client = {
  accountName: 'Durand SARL',
  email: 'ines@durand.example.test',
  name: 'Inès Durand',
  password: 'another long passphrase 6',
};

let testPlatform: TestPlatform | undefined;
let platform: Platform;
let browser: TestBrowser | undefined;
let totpSecret: string;
let contract: { id: string; vps_id: string; expires_at: Date };
// The platform runs on a clock chosen here, never on today's date: a one-month term opened on
// 10 April ends on 10 May, 30 days later, inside the console's default 30-day window whatever
// the month the suite runs in (a December run has 31-day months).
const clock = new ManualClock('2026-04-10T08:00:00Z');
const pageErrors: string[] = [];

before(async () => {
  testPlatform = await startTestPlatform({ panel: true, clock });
  ({ platform } = testPlatform);
  const s = platform.services;
  const staff = await s.identity.createStaff({ ...admin, role: 'admin' }, SYSTEM_ACTOR);
  totpSecret = staff.totpSecret;
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
  // A fixed term of one month, opened at the test's clock.
  const { order, invoice } = await s.commerce.placeOrder(
    { kind: 'client', userId: c.user.id, accountId: c.account.id },
    c.user.id,
    { planId: plan.id, datacenterId: dc.id, kind: 'fixed', termMonths: 1, hostname: 'boutique' },
    SYSTEM_ACTOR,
  );
  await s.commerce.recordPayment(
    invoice.id,
    { method: 'transfer', reference: 'VIR-1', amountCents: invoice.total_cents },
    SYSTEM_ACTOR,
  );
  const v = await s.commerce.validateOrder(order.id, SYSTEM_ACTOR);
  contract = v.contract;
  await platform.db
    .deleteFrom('pgboss.job' as never)
    .execute()
    .catch(() => undefined);

  browser = await openBrowser({
    baseUrl: platform.url,
    name: 'renewals',
    viewport: { width: 1280, height: 900 },
    // The browser in another zone: the page still shows Paris time (the API's timeZone).
    timezoneId: 'America/New_York',
  });
});

after(async () => {
  await browser?.close();
  await testPlatform?.stop();
});

/** Logs in; staff's TOTP code is computed at the platform's clock. */
const logIn = (page: Page, email: string, password: string, totpSecret?: string) =>
  logInAt(page, platform.url, { email, password, totpSecret, totpAt: () => clock.now().getTime() });

const paris = (d: Date) =>
  new Intl.DateTimeFormat('fr-FR', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'Europe/Paris',
  }).format(d);

test('term and renewal pages: the client’s contract page with confirmed choices; the console’s renewals due', async (t) => {
  const page = await browser!.page();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  let answer: 'accept' | 'dismiss' = 'accept';
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void (answer === 'accept' ? d.accept() : d.dismiss());
  });
  const end = paris(contract.expires_at);

  await t.test('client: from the VPS page to the contract; the end in Paris time', async () => {
    await logIn(page, client.email, client.password);
    await page.waitForURL((u) => u.pathname === '/client');
    await page.goto(`${platform.url}/client/vps/${contract.vps_id}`);
    await page.getByRole('link', { name: 'Durée et renouvellement' }).click();
    await page.waitForURL((u) => u.pathname === `/client/contracts/${contract.id}`);
    await page.getByRole('heading', { name: 'Contrat de boutique' }).waitFor();
    await page.getByTestId('contract-ends').getByText(end).waitFor();
    await page.getByText('Dates et heures au fuseau Europe/Paris.').waitFor();
    await page.getByText(/le VPS est supprimé avec toutes ses données/).waitFor();
  });

  await t.test(
    'switch to subscription: dismissed changes nothing; confirmed renews from the end date',
    async () => {
      const button = page.locator('button[data-action="switch_to_subscription"]');
      answer = 'dismiss';
      await button.click();
      assert.match(dialogs.at(-1)!, new RegExp(`à partir du ${end}`));
      assert.equal(await page.getByTestId('contract-kind').getAttribute('data-kind'), 'fixed');
      answer = 'accept';
      await button.click();
      await page.getByText('Le contrat est désormais un abonnement mensuel.').waitFor();
      await page.locator('[data-testid="contract-kind"][data-kind="subscription"]').waitFor();
      await page.getByTestId('contract-renews').getByText(end).waitFor();
      await page.getByText(/La facture du mois suivant sera émise le/).waitFor();
    },
  );

  await t.test('stop, then resume the renewal, each confirmed', async () => {
    await page.locator('button[data-action="stop_renewal"]').click();
    assert.match(dialogs.at(-1)!, /le VPS sera supprimé avec toutes ses données/);
    await page.getByText('Le renouvellement est arrêté.').waitFor();
    await page.getByTestId('contract-ends').getByText(end).waitFor();
    await page.locator('button[data-action="resume_renewal"]').click();
    await page.getByText('Le renouvellement a repris.').waitFor();
    await page.getByTestId('contract-renews').getByText(end).waitFor();
    const row = await platform.db
      .selectFrom('contracts')
      .select(['kind', 'renewal_stopped_at', 'expires_at'])
      .where('id', '=', contract.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      [row.kind, row.renewal_stopped_at, row.expires_at.getTime()],
      ['subscription', null, contract.expires_at.getTime()],
    );
  });

  await t.test('console: Renewals due lists the contract, renewing, with its client', async () => {
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    await logIn(page, admin.email, admin.password, totpSecret);
    await page.waitForURL((u) => u.pathname === '/console');
    await page.getByRole('link', { name: 'Renouvellements à venir' }).first().click();
    await page.waitForURL((u) => u.pathname === '/console/renewals');
    const table = page.getByTestId('renewals');
    await table.getByRole('link', { name: 'Durand SARL' }).waitFor();
    await table.locator('tr[data-outcome="renews"]').getByText('boutique').waitFor();
    await table.getByText(end).waitFor();
    await page.getByRole('button', { name: '7 jours' }).click();
    await page.getByText('Aucune échéance dans cette période.').waitFor();
  });

  assert.deepEqual(pageErrors, []);
});
