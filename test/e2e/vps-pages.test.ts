// The VPS pages in a real browser (Debian's Chromium via playwright-core) against the real
// server: console hosts (capacity bars), VPS list and detail, provisioning queue; the client's
// VPS list and page with its provisioning progress moving live (polled). VPS rows are set in
// the database (no VM here: the real power actions are test/agent/vps-power.test.ts).
// Run: node scripts/run-tests.ts --skip-static test/e2e/vps-pages.test.ts
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import type { Platform } from '../../src/control/platform.ts';
import { logIn, openBrowser, type TestBrowser } from '../helpers/browser.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/lab-platform.ts';
const admin = {
  email: 'vps.admin@example.test',
  name: 'Vera Admin',
  password: 'correct horse battery staple 9',
};
const client = {
  accountName: 'Martin SAS',
  email: 'lea@martin.example.test',
  name: 'Léa Martin',
  password: 'another long passphrase 8',
};

let testPlatform: TestPlatform | undefined;
let platform: Platform;
let browser: TestBrowser;
let totpSecret: string;
let provisioningId: string;
let runningId: string;
const pageErrors: string[] = [];

before(async () => {
  testPlatform = await startTestPlatform({ panel: true });
  ({ platform } = testPlatform);
  const s = platform.services;
  totpSecret = (await s.identity.createStaff({ ...admin, role: 'admin' }, SYSTEM_ACTOR)).totpSecret;
  const c = await s.identity.createClientAccount({ ...client, language: 'fr' }, SYSTEM_ACTOR);
  const dc = await s.infra.createDatacenter(
    { code: 'PAR1', name: 'Paris 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  const host = await s.infra.registerHost(
    { name: 'hv-par1', datacenterId: dc.id, cpuCores: 8, memoryMiB: 32768, diskGiB: 500 },
    SYSTEM_ACTOR,
  );
  const request = (hostname: string) =>
    platform.db.transaction().execute((tx) =>
      s.infra.requestVps(tx, {
        accountId: c.account.id,
        datacenterId: dc.id,
        hostname,
        vcpus: 2,
        memoryMiB: 2048,
        diskGiB: 40,
        billingAnchor: new Date(),
        clientUsername: 'lea',
      }),
    );
  // Rows set by hand, before any job can pick them up (the platform's workers are running).
  const a = await request('site-web');
  const b = await request('base-db');
  await platform.db
    .updateTable('vps')
    .set({ state: 'provisioning', provision_step: 'disk', provision_percent: 40 })
    .where('id', '=', a.id)
    .execute();
  await platform.db
    .updateTable('vps')
    .set({
      state: 'running',
      host_id: host.id,
      ipv4: '203.0.113.10/24',
      provision_step: 'access_codes',
      provision_percent: 100,
    })
    .where('id', '=', b.id)
    .execute();
  await platform.db
    .deleteFrom('pgboss.job' as never)
    .execute()
    .catch(() => undefined);
  provisioningId = a.id;
  runningId = b.id;

  browser = await openBrowser({ baseUrl: platform.url, name: 'vps', viewport: { width: 1280, height: 900 } });
});

after(async () => {
  await browser?.close();
  await testPlatform?.stop();
});

test('VPS pages: console hosts (R2.2: vCPU placed against cores × ratio), VPS list and detail, provisioning queue; the client’s VPS list and live progress', async (t) => {
  const page = await browser.page();
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await t.test(
    'console: hosts with capacity bars, VPS list with filters, VPS detail, provisioning queue',
    async () => {
      await logIn(page, platform.url, { ...admin, totpSecret });
      await page.waitForURL((u) => u.pathname === '/console');
      await page.getByTestId('dashboard-alerts').waitFor();
      await page.goto(`${platform.url}/console/hosts`);
      const card = page.getByTestId('host-card');
      await card.getByText('hv-par1').waitFor();
      assert.equal(await card.getByRole('progressbar').count(), 3);
      await card.getByText(/2 placés sur 32/).waitFor(); // 8 cores × 4 (default ratio)
      await page.goto(`${platform.url}/console/vps`);
      const table = page.getByTestId('console-vps-table');
      await table.getByRole('link', { name: 'base-db' }).waitFor();
      await table.getByRole('link', { name: 'site-web' }).waitFor();
      await page.getByLabel('État').selectOption('running');
      await table.getByRole('link', { name: 'site-web' }).waitFor({ state: 'detached' });
      await table.getByRole('link', { name: 'base-db' }).click();
      await page.waitForURL((u) => u.pathname === `/console/vps/${runningId}`);
      await page.getByRole('heading', { name: 'base-db' }).waitFor();
      for (const action of ['stop', 'reboot', 'poweroff'])
        await page.locator(`button[data-action="${action}"]`).waitFor();
      await page.goto(`${platform.url}/console/provisioning`);
      await page.getByTestId('provisioning-table').getByText('site-web').waitFor();
    },
  );

  await t.test(
    'client: My VPS, then the VPS page with its progress moving live and the managed-service note',
    async () => {
      await page.getByRole('button', { name: 'Se déconnecter' }).click();
      await page.waitForURL((u) => u.pathname === '/login');
      await logIn(page, platform.url, client);
      await page.waitForURL((u) => u.pathname === '/client');
      await page.goto(`${platform.url}/client/vps`);
      const table = page.getByTestId('client-vps-table');
      await table.getByText('203.0.113.10').waitFor();
      await table.getByRole('link', { name: 'site-web' }).click();
      await page.waitForURL((u) => u.pathname === `/client/vps/${provisioningId}`);
      await page.getByTestId('vps-managed-note').waitFor();
      await page.getByTestId('provision-percent').getByText('40 %').waitFor();
      await platform.db
        .updateTable('vps')
        .set({ provision_step: 'boot', provision_percent: 70 })
        .where('id', '=', provisioningId)
        .execute();
      await page.getByTestId('provision-percent').getByText('70 %').waitFor({ timeout: 8_000 });
      // The history reads as sentences, not `step: network · percent: 25`.
      await platform.db
        .insertInto('vps_events')
        .values({
          vps_id: provisioningId,
          at: new Date(),
          kind: 'provision',
          details: JSON.stringify({ step: 'network', percent: 25 }),
        })
        .execute();
      await page.reload();
      const history = page.getByTestId('vps-events');
      await history.getByText('Réseau configuré (25 %)').waitFor();
      await history.getByText('VPS créé, en attente de mise en service').waitFor();
      assert.equal(await history.getByText(/step:|percent:/).count(), 0);
      await page.goto(`${platform.url}/client/vps/${runningId}`);
      await page.locator('button[data-action="reboot"]').waitFor();
      assert.equal(
        await page.locator('button[data-action="poweroff"]').count(),
        0,
        'power off is the provider’s',
      );
    },
  );

  assert.deepEqual(pageErrors, []);
});
