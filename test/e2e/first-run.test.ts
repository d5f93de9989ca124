// The first-run setup in a real browser (Debian's Chromium) against the real platform on an
// empty database: the console home's guide only — datacenter and pool (192.0.2.0/24), this
// machine enrolled as a lab host, a plan, a test client's VPS ordered, paid and validated —
// then the VPS provisioned on a real QEMU guest (TCG) until it runs, shown on its console page.
// The lab host's namespace is named by the test (INFOGERE_LAB_NETNS), made by the platform
// (docs/first-run.md) and removed by the test in after(), even on failure; the platform's own
// lab (startLabPlatform) holds the SMTP server and is cleaned the same way.
// Run: node scripts/run-tests.ts --skip-static test/e2e/first-run.test.ts
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../src/agent/exec/run.ts';
import { listInfogereQemus, signal, waitGone } from '../../src/agent/qemu/process.ts';
import type { Platform } from '../../src/control/platform.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { logIn, openBrowser, type TestBrowser } from '../helpers/browser.ts';
import { startLabPlatform, type LabPlatform } from '../helpers/lab-platform.ts';

const admin = {
  email: 'first.admin@example.test',
  name: 'Ada Admin',
  password: 'correct horse battery staple 5',
};
const labNs = `igfr-${randomBytes(3).toString('hex')}`;

let lab: LabPlatform | undefined;
let platform: Platform;
let browser: TestBrowser | undefined;
let totpSecret: string;
const pageErrors: string[] = [];

before(async () => {
  lab = await startLabPlatform({ panel: true, env: { INFOGERE_LAB_NETNS: labNs } });
  ({ platform } = lab);
  totpSecret = (await platform.services.identity.createStaff({ ...admin, role: 'admin' }, SYSTEM_ACTOR))
    .totpSecret;
  browser = await openBrowser({
    baseUrl: platform.url,
    name: 'first-run',
    viewport: { width: 1280, height: 1000 },
  });
});

after(async () => {
  await browser?.close();
  // QEMUs in the lab namespace belong to this platform's data dir: lab.stop() kills them.
  await lab?.stop();
  for (const q of await listInfogereQemus())
    if (q.cmdline.some((a) => a.includes(labNs))) {
      signal(q.pid, 'SIGKILL');
      await waitGone(q.pid, 10_000);
    }
  await run(['ip', 'netns', 'del', labNs]).catch(() => undefined);
});

test('R3.1 R2.1 R2.2: from an empty data dir to a running VPS using only the console’s first-run guide', async () => {
  const page = await browser!.page();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.setDefaultTimeout(30_000);
  await logIn(page, platform.url, { ...admin, totpSecret });
  await page.waitForURL((u) => u.pathname === '/console');
  const guide = page.getByTestId('first-run');
  await guide.waitFor();
  await browser!.shot(page, 'empty');
  const step = (id: string) => page.getByTestId(`setup-${id}`);
  const doStep = async (id: string, button: RegExp) => {
    await step(id).getByRole('button', { name: button }).click();
    await page.waitForSelector(`[data-testid="setup-${id}"][data-state="done"]`);
  };
  await doStep('datacenter', /Créer le datacenter et le bloc/);
  assert.equal(await step('host').getByRole('checkbox').isChecked(), true, 'the lab network is the default');
  await doStep('host', /Enregistrer cette machine/);
  await doStep('plan', /Créer l’offre/);
  await browser!.shot(page, 'three-done');
  await step('vps')
    .getByRole('button', { name: /Commander et valider/ })
    .click();
  await page.waitForURL((u) => /^\/console\/vps\/[0-9a-f-]{36}$/.test(u.pathname));
  const vpsId = new URL(page.url()).pathname.split('/').pop()!;

  const host = await platform.db.selectFrom('hosts').selectAll().executeTakeFirstOrThrow();
  assert.equal(host.netns, labNs, 'enrolled as a lab host in the namespace the test named');

  // Provisioning on the real guest (TCG: minutes on a loaded machine).
  const end = Date.now() + 600_000;
  for (;;) {
    const v = await platform.db
      .selectFrom('vps')
      .select(['state', 'state_reason'])
      .where('id', '=', vpsId)
      .executeTakeFirstOrThrow();
    if (v.state === 'running') break;
    assert.notEqual(v.state, 'failed', `provisioning failed: ${v.state_reason}`);
    assert.ok(Date.now() < end, `still ${v.state} after 10 minutes`);
    await sleep(2000);
  }
  const netns = await run(['ip', 'netns', 'list']);
  assert.ok(netns.stdout.includes(labNs), 'the platform made the lab namespace');
  await page.reload();
  await page.getByText('En marche').first().waitFor();
  await browser!.shot(page, 'vps-running');

  // Back home: the guide is gone (everything set up) and the figures count the VPS.
  await page.goto(`${platform.url}/console`);
  await page.getByTestId('stat-vps').waitFor();
  assert.equal(await page.getByTestId('first-run').count(), 0);
  assert.match(await page.getByTestId('stat-vps').innerText(), /^1\b/);
  assert.deepEqual(pageErrors, []);
});
