// The panel in a real browser (Debian's Chromium driven by playwright-core) against the real
// server: platform started in-process on a fresh database, panel built by Vite and served by
// the control plane. Logs in as an admin (password + TOTP) and as a client.
// Run: node scripts/run-tests.ts --skip-static test/e2e/panel.test.ts
// Screenshots go to $SCREENSHOT_DIR (default: a temp dir, printed as a diagnostic).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Platform } from '../../src/control/platform.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { fillLogin, openBrowser, totpAt, waitForPath, type TestBrowser } from '../helpers/browser.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/lab-platform.ts';

const admin = {
  email: 'alice.admin@example.test',
  name: 'Alice Martin',
  password: 'correct horse battery staple 1',
};
const client = {
  accountName: 'Durand SARL',
  email: 'camille@durand.example.test',
  name: 'Camille Durand',
  password: 'another long passphrase 2',
};

let testPlatform: TestPlatform | undefined;
let platform: Platform;
let browser: TestBrowser | undefined;
let adminTotpSecret: string;
const pageErrors: string[] = [];

const totpNow = (secret: string) => totpAt(secret);

/** The next 30 s step's code (accepted: one step of drift): a code is spent once, and the current one may be. */
const totpNext = (secret: string) => totpAt(secret, Date.now() + 30_000);

before(async () => {
  testPlatform = await startTestPlatform({ panel: true });
  ({ platform } = testPlatform);
  assert.match(platform.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const staff = await platform.services.identity.createStaff({ ...admin, role: 'admin' }, SYSTEM_ACTOR);
  adminTotpSecret = staff.totpSecret;
  await platform.services.identity.createClientAccount({ ...client, language: 'fr' }, SYSTEM_ACTOR);

  browser = await openBrowser({ baseUrl: platform.url, name: 'panel' });
});

after(async () => {
  await browser?.close();
  await testPlatform?.stop();
});

test('the panel works for an admin and for a client in a real browser', async (t) => {
  t.diagnostic(`screenshots in ${browser!.shotsDir}`);
  const page = await browser!.page();
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    // Chromium reports every 4xx answer (e.g. 401 before login) as a console error: not a bug.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      pageErrors.push(message.text());
    }
  });

  await t.test('an anonymous visitor is sent to the login page, in French', async () => {
    await page.goto(`${platform.url}/`);
    await waitForPath(page, '/login');
    await page.getByRole('heading', { name: 'Connexion' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
    await browser!.shot(page, '01-login');
  });

  await t.test('admin: password, then the TOTP code the API asks for, lands on the console', async () => {
    await fillLogin(page, admin.email, admin.password);
    const totp = page.getByLabel('Code de vérification');
    await totp.waitFor();
    await browser!.shot(page, '02-login-totp');
    await totp.fill(totpNow(adminTotpSecret));
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await waitForPath(page, '/console');
    await page.getByRole('heading', { name: `Bonjour ${admin.name}` }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Navigation principale' });
    for (const label of ['Tableau de bord', 'Clients', 'Hôtes', 'VPS', 'Commandes', "Journal d'audit"]) {
      await nav.getByRole('link', { name: label, exact: true }).waitFor();
    }
    await page.getByTestId('user-name').getByText(admin.name).waitFor();
    await browser!.shot(page, '03-console-dashboard');
  });

  await t.test('admin: the audit log shows the login and a verified chain', async () => {
    const nav = page.getByRole('navigation', { name: 'Navigation principale' });
    await nav.getByRole('link', { name: "Journal d'audit" }).click();
    await waitForPath(page, '/console/audit');
    await page.getByRole('heading', { name: "Journal d'audit" }).waitFor();
    assert.equal(await page.title(), "Journal d'audit · infogere");
    const verify = page.getByTestId('audit-verify');
    await verify.waitFor();
    assert.equal(await verify.getAttribute('data-ok'), 'true');
    assert.match((await verify.textContent()) ?? '', /Chaîne intègre : \d+ entrées vérifiées/);
    await page.locator('table.audit tbody tr').filter({ hasText: 'auth.login' }).first().waitFor();
    await browser!.shot(page, '04-console-audit');
  });

  await t.test('admin: the clients list and the hosts page with no host yet', async () => {
    const nav = page.getByRole('navigation', { name: 'Navigation principale' });
    await nav.getByRole('link', { name: 'Clients' }).click();
    await waitForPath(page, '/console/clients');
    await page.getByRole('cell', { name: client.accountName }).waitFor();
    await browser!.shot(page, '05a-console-clients');
    await nav.getByRole('link', { name: 'Hôtes' }).click();
    await page.getByText('Aucun hôte enregistré.').waitFor();
    await browser!.shot(page, '05b-console-hosts-empty');
  });

  await t.test('admin logs out', async () => {
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await waitForPath(page, '/login');
    await page.getByText('Vous êtes déconnecté.').waitFor();
    // The session is gone server-side too: the console sends back to the login page,
    // which remembers where the visitor wanted to go.
    await page.goto(`${platform.url}/console`);
    await waitForPath(page, '/login');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/console');
  });

  await t.test('a wrong password gets a clear message', async () => {
    await fillLogin(page, client.email, 'not the password');
    await page.getByRole('alert').getByText('Adresse e-mail ou mot de passe incorrect.').waitFor();
  });

  await t.test(
    'client: lands on the client area (not on the console asked for), with their name and no console links',
    async () => {
      await page.getByLabel(/^Mot de passe$/).fill(client.password);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await waitForPath(page, '/client');
      await page.getByRole('heading', { name: `Bonjour ${client.name}` }).waitFor();
      await page.getByTestId('user-name').getByText(client.name).waitFor();
      const nav = page.getByRole('navigation', { name: 'Navigation principale' });
      for (const label of [
        'Tableau de bord',
        'Mes VPS',
        'Factures',
        'Tickets de support',
        'Compte et sécurité',
      ]) {
        await nav.getByRole('link', { name: label, exact: true }).waitFor();
      }
      assert.equal(await page.locator('a[href^="/console"]').count(), 0, 'a client sees no console link');
      await browser!.shot(page, '06-client-dashboard');
    },
  );

  await t.test('client: /console is not allowed', async () => {
    await page.goto(`${platform.url}/console`);
    await page.getByTestId('not-allowed').waitFor();
    await page.getByRole('heading', { name: 'Accès non autorisé' }).waitFor();
    assert.equal(await page.locator('a[href^="/console"]').count(), 0);
    await browser!.shot(page, '07-client-console-not-allowed');
  });

  await t.test('client: switching to English, kept across reloads', async () => {
    await page.getByRole('button', { name: 'EN', exact: true }).click();
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await page.getByRole('link', { name: 'Back to my area' }).click();
    await waitForPath(page, '/client');
    await page.getByRole('heading', { name: `Hello ${client.name}` }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: `Hello ${client.name}` }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    await nav.getByRole('link', { name: 'My VPS' }).click();
    await page.getByText('No VPS.').waitFor();
    await browser!.shot(page, '08-client-vps-empty-en');
  });

  await t.test('client: enrols TOTP and manages API tokens (writes carry the CSRF token)', async () => {
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    await nav.getByRole('link', { name: 'Account & security' }).click();
    await waitForPath(page, '/client/account');
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
    assert.match(secret, /^[A-Z2-7]+=*$/);
    await page.getByRole('link', { name: /^otpauth:\/\/totp\// }).waitFor();
    await browser!.shot(page, '09-client-totp-enrolment');
    await page.getByLabel('6-digit code').fill(totpNow(secret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Two-factor authentication is now on.').waitFor();

    // A token needs the password and, TOTP being on, a code; it expires after the chosen validity.
    await page
      .getByText('Creating a token needs your password and a code from your authenticator app.')
      .waitFor();
    await page.getByLabel('New token name').fill('backup script');
    await page.getByLabel('Valid for').selectOption({ label: '30 days' });
    await page.getByLabel('Your password').fill('not the password');
    await page.getByLabel('6-digit code').fill(totpNext(secret));
    await page.getByRole('button', { name: 'Create a token' }).click();
    await page.getByText('Wrong password.').waitFor();
    await page.getByLabel('Your password').fill(client.password);
    await page.getByLabel('6-digit code').fill(totpNext(secret));
    await page.getByRole('button', { name: 'Create a token' }).click();
    const token = (await page.getByTestId('new-token').textContent())?.trim() ?? '';
    assert.ok(token.length >= 20, 'the new token is shown once');
    await page.getByText(/^Valid until /).waitFor();
    await page.getByRole('cell', { name: 'backup script' }).waitFor();
    await page.getByRole('columnheader', { name: 'Expires' }).waitFor();
    await browser!.shot(page, '10-client-account-en');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('No tokens yet.').waitFor();
  });

  await t.test('on a narrow screen the navigation folds behind a menu button', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${platform.url}/client`);
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    await nav.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Menu' }).click();
    await nav.getByRole('link', { name: 'Invoices' }).click();
    await waitForPath(page, '/client/invoices');
    await page.getByRole('heading', { name: 'Invoices' }).waitFor();
    await page.getByRole('button', { name: 'Menu' }).click();
    await browser!.shot(page, '11-client-narrow-menu');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('no script error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
