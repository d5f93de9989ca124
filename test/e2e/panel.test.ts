// The panel in a real browser (Debian's Chromium driven by playwright-core) against the real
// server: platform started in-process on a fresh database, panel built by Vite and served by
// the control plane. Logs in as an admin (password + TOTP) and as a client.
// Run: node scripts/run-tests.ts --skip-static test/e2e/panel.test.ts
// Screenshots go to $SCREENSHOT_DIR (default: a temp dir, printed as a diagnostic).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { startPlatform, type Platform } from '../../src/control/platform.ts';
import { ensurePanelBuilt } from '../helpers/panel-build.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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

let db: TestDatabase;
let dataDir: string;
let platform: Platform;
let context: BrowserContext;
let userDataDir: string;
let shotsDir: string;
let adminTotpSecret: string;
const pageErrors: string[] = [];

function totpNow(secret: string): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 }).generate();
}

/** The next 30 s step's code (accepted: one step of drift): a code is spent once, and the current one may be. */
function totpNext(secret: string): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
    timestamp: Date.now() + 30_000,
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
}

/** The path of the page's URL, once it matches. */
async function waitForPath(page: Page, pathname: string): Promise<void> {
  await page.waitForURL((url) => url.pathname === pathname);
}

async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel(/Adresse e-mail|Email address/).fill(email);
  await page.getByLabel(/^(Mot de passe|Password)$/).fill(password);
  await page.getByRole('button', { name: /Se connecter|Log in/ }).click();
}

before(async () => {
  await ensurePanelBuilt();
  db = await freshDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'infogere-e2e-data-'));
  platform = await startPlatform({
    root,
    env: {
      INFOGERE_DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      INFOGERE_HTTP_HOST: '127.0.0.1',
      INFOGERE_HTTP_PORT: '0',
      INFOGERE_LOG_LEVEL: 'warn',
    },
  });
  assert.match(platform.url, /^http:\/\/127\.0\.0\.1:\d+$/);

  const staff = await platform.services.identity.createStaff({ ...admin, role: 'admin' }, SYSTEM_ACTOR);
  adminTotpSecret = staff.totpSecret;
  await platform.services.identity.createClientAccount({ ...client, language: 'fr' }, SYSTEM_ACTOR);

  shotsDir = process.env.SCREENSHOT_DIR ?? (await mkdtemp(path.join(tmpdir(), 'infogere-e2e-shots-')));
  await mkdir(shotsDir, { recursive: true });
  userDataDir = await mkdtemp(path.join(tmpdir(), 'infogere-e2e-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
  });
  context.setDefaultTimeout(15_000);
  // The browser talks to the platform under test and nothing else.
  const allowed = new URL(platform.url).host;
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    return url.host === allowed || url.protocol === 'data:'
      ? route.continue()
      : route.abort('blockedbyclient');
  });
});

after(async () => {
  await context?.close();
  await platform?.stop();
  await db?.drop();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('the panel works for an admin and for a client in a real browser', async (t) => {
  t.diagnostic(`screenshots in ${shotsDir}`);
  const page = context.pages()[0] ?? (await context.newPage());
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
    await shot(page, '01-login');
  });

  await t.test('admin: password, then the TOTP code the API asks for, lands on the console', async () => {
    await logIn(page, admin.email, admin.password);
    const totp = page.getByLabel('Code de vérification');
    await totp.waitFor();
    await shot(page, '02-login-totp');
    await totp.fill(totpNow(adminTotpSecret));
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await waitForPath(page, '/console');
    await page.getByRole('heading', { name: `Bonjour ${admin.name}` }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Navigation principale' });
    for (const label of ['Tableau de bord', 'Clients', 'Hôtes', 'VPS', 'Commandes', "Journal d'audit"]) {
      await nav.getByRole('link', { name: label, exact: true }).waitFor();
    }
    await page.getByTestId('user-name').getByText(admin.name).waitFor();
    await shot(page, '03-console-dashboard');
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
    await shot(page, '04-console-audit');
  });

  await t.test('admin: the clients list and the hosts page with no host yet', async () => {
    const nav = page.getByRole('navigation', { name: 'Navigation principale' });
    await nav.getByRole('link', { name: 'Clients' }).click();
    await waitForPath(page, '/console/clients');
    await page.getByRole('cell', { name: client.accountName }).waitFor();
    await shot(page, '05a-console-clients');
    await nav.getByRole('link', { name: 'Hôtes' }).click();
    await page.getByText('Aucun hôte enregistré.').waitFor();
    await shot(page, '05b-console-hosts-empty');
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
    await logIn(page, client.email, 'not the password');
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
      await shot(page, '06-client-dashboard');
    },
  );

  await t.test('client: /console is not allowed', async () => {
    await page.goto(`${platform.url}/console`);
    await page.getByTestId('not-allowed').waitFor();
    await page.getByRole('heading', { name: 'Accès non autorisé' }).waitFor();
    assert.equal(await page.locator('a[href^="/console"]').count(), 0);
    await shot(page, '07-client-console-not-allowed');
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
    await shot(page, '08-client-vps-empty-en');
  });

  await t.test('client: enrols TOTP and manages API tokens (writes carry the CSRF token)', async () => {
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    await nav.getByRole('link', { name: 'Account & security' }).click();
    await waitForPath(page, '/client/account');
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
    assert.match(secret, /^[A-Z2-7]+=*$/);
    await page.getByRole('link', { name: /^otpauth:\/\/totp\// }).waitFor();
    await shot(page, '09-client-totp-enrolment');
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
    await shot(page, '10-client-account-en');
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
    await shot(page, '11-client-narrow-menu');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('no script error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
