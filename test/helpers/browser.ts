// One way for browser tests to drive the panel: Debian's Chromium through playwright-core,
// headless, in a throwaway profile, allowed to reach the platform under test and nothing else;
// a login helper that fills the panel's form (and the TOTP step for staff); screenshots in
// $SCREENSHOT_DIR (default: a new temp dir, the test prints it).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as OTPAuth from 'otpauth';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The browser: CHROMIUM_PATH, else Debian's. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  /** The context's first page (a new one if it has none). */
  page(): Promise<Page>;
  shotsDir: string;
  /** A full-page screenshot `<prefix><name>.png` in shotsDir. */
  shot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowser(opts: {
  /** The platform's URL: the only host the browser may reach. */
  baseUrl: string;
  /** Prefix of the profile's temp dir and of screenshot names. */
  name: string;
  viewport?: { width: number; height: number };
  locale?: string;
  timezoneId?: string;
}): Promise<TestBrowser> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), `infogere-e2e-${opts.name}-chromium-`));
  const shotsDir = process.env.SCREENSHOT_DIR ?? (await mkdtemp(path.join(tmpdir(), 'infogere-e2e-shots-')));
  await mkdir(shotsDir, { recursive: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      locale: opts.locale ?? 'fr-FR',
      timezoneId: opts.timezoneId ?? 'Europe/Paris',
    });
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
  context.setDefaultTimeout(15_000);
  const allowed = new URL(opts.baseUrl).host;
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    return url.host === allowed || url.protocol === 'data:'
      ? route.continue()
      : route.abort('blockedbyclient');
  });
  return {
    context,
    shotsDir,
    page: async () => context.pages()[0] ?? (await context.newPage()),
    shot: async (page, name) => {
      await page.screenshot({ path: path.join(shotsDir, `${opts.name}-${name}.png`), fullPage: true });
    },
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A TOTP code for `secret` at `at` (ms; default now). */
export function totpAt(secret: string, at = Date.now()): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
    timestamp: at,
  });
}

/** Waits until the page's URL has this path. */
export async function waitForPath(page: Page, pathname: string): Promise<void> {
  await page.waitForURL((url) => url.pathname === pathname);
}

/** Fills the login form already on the page and submits it. */
export async function fillLogin(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel(/Adresse e-mail|Email address/).fill(email);
  await page.getByLabel(/^(Mot de passe|Password)$/).fill(password);
  await page.getByRole('button', { name: /Se connecter|Log in/ }).click();
}

/**
 * Opens the login page and logs in; staff give their TOTP secret (and the time to compute the
 * code at, when the platform runs on a moved clock).
 */
export async function logIn(
  page: Page,
  baseUrl: string,
  user: { email: string; password: string; totpSecret?: string; totpAt?: () => number },
): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await fillLogin(page, user.email, user.password);
  if (user.totpSecret) {
    const field = page.getByLabel(/Code de vérification|Verification code/);
    await field.waitFor();
    await field.fill(totpAt(user.totpSecret, user.totpAt?.()));
    await page.getByRole('button', { name: /Se connecter|Log in/ }).click();
  }
}
