// One way for browser tests to drive the panel: Debian's Chromium through playwright-core,
// headless, in a throwaway profile, allowed to reach the platform under test and nothing else;
// a login helper that fills the panel's form (and the TOTP step for staff); screenshots in
// $SCREENSHOT_DIR (default: a new temp dir, the test prints it).
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as OTPAuth from 'otpauth';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

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
  /** The first context: its own cookies, like one person's browser. */
  context: BrowserContext;
  /** The first context's first page (a new one if it has none). */
  page(): Promise<Page>;
  /** Another context of the same browser (another person: its own cookies), same limits. */
  newContext(): Promise<BrowserContext>;
  shotsDir: string;
  /** A full-page screenshot `<prefix><name>.png` in shotsDir. */
  shot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowser(opts: {
  /** The platform's URL: the only host the browser may reach. */
  baseUrl: string;
  /** Prefix of screenshot names. */
  name: string;
  viewport?: { width: number; height: number };
  locale?: string;
  timezoneId?: string;
  /** Each action's time limit (ms). */
  timeoutMs?: number;
}): Promise<TestBrowser> {
  const shotsDir = process.env.SCREENSHOT_DIR ?? (await mkdtemp(path.join(tmpdir(), 'infogere-e2e-shots-')));
  await mkdir(shotsDir, { recursive: true });
  // A throwaway profile per launch (playwright's temp dir, removed at close).
  const browser: Browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
  });
  const allowed = new URL(opts.baseUrl).host;
  const newContext = async (): Promise<BrowserContext> => {
    const context = await browser.newContext({
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      locale: opts.locale ?? 'fr-FR',
      timezoneId: opts.timezoneId ?? 'Europe/Paris',
    });
    context.setDefaultTimeout(opts.timeoutMs ?? 15_000);
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      return url.host === allowed || url.protocol === 'data:'
        ? route.continue()
        : route.abort('blockedbyclient');
    });
    return context;
  };
  let context: BrowserContext;
  try {
    context = await newContext();
  } catch (e) {
    await browser.close().catch(() => undefined);
    throw e;
  }
  return {
    context,
    shotsDir,
    newContext,
    page: async () => context.pages()[0] ?? (await context.newPage()),
    shot: async (page, name) => {
      await page.screenshot({ path: path.join(shotsDir, `${opts.name}-${name}.png`), fullPage: true });
    },
    close: async () => {
      await browser.close().catch(() => undefined);
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
