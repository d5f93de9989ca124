// Crash test of the provisioning workflow (issue 5): the platform is killed (SIGKILL) while
// each step is under way, in turn, and started again; at the end there is exactly one running
// VM, one IPv4, one disk and one access-codes email.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { provisioningSteps, stepIndex } from '../../src/domain/provisioning.ts';
import { listInfogereQemus } from '../../src/agent/qemu/process.ts';
import { childEnv } from '../helpers/child-env.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { createVpsLab, type VpsLab } from '../helpers/vps-lab.ts';

let lab: VpsLab;
let database: TestDatabase;
let child: ChildProcess | undefined;
let out = '';

async function startChild(): Promise<void> {
  out = '';
  child = spawn(process.execPath, [path.join(import.meta.dirname, '..', 'helpers', 'provision-child.ts')], {
    env: childEnv({ ...lab.env, DATABASE_URL: database.url }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitFor('READY', () => out.includes('READY'), 60_000);
}

async function kill(): Promise<void> {
  const c = child!;
  if (c.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  });
}

async function waitFor<T>(
  what: string,
  f: () => T | Promise<T>,
  ms = 120_000,
  everyMs = 20,
): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${out.slice(-3000)}`);
    await sleep(everyMs);
  }
}

async function command(line: string, answer: RegExp): Promise<RegExpExecArray> {
  const from = out.length;
  child!.stdin!.write(`${line}\n`);
  return waitFor(
    line,
    () =>
      answer.exec(out.slice(from)) ??
      (out.slice(from).includes('ERROR') ? assert.fail(out.slice(from)) : null),
    60_000,
  );
}

before(async () => {
  lab = await createVpsLab();
  database = await freshDatabase();
});
after(async () => {
  if (child) await kill();
  await lab?.cleanup();
  await database?.drop();
});

describe('R3.1 provisioning survives the platform being killed at each step', () => {
  it('exactly one running VM, one IPv4, one disk and one access-codes email after a kill at every step', async () => {
    await startChild();
    const [, accountId, dcId] = await command('setup', /SETUP (\S+) (\S+)/);
    const [, vpsId] = await command(`request ${accountId} ${dcId} crashy`, /VPS (\S+)/);
    const row = () =>
      database.db.selectFrom('vps').selectAll().where('id', '=', vpsId!).executeTakeFirstOrThrow();
    const killedDuring: string[] = [];
    // Kill while each step is under way: right after the step before it was recorded.
    for (let i = 0; i < provisioningSteps.length; i++) {
      const step = provisioningSteps[i]!.step;
      const done = await waitFor(`step ${step} to start`, async () => {
        const r = await row();
        if (r.state === 'failed') assert.fail(`provisioning failed: ${r.state_reason}`);
        return stepIndex(r.provision_step) >= i - 1 ? r : null;
      });
      if (stepIndex(done.provision_step) >= i) continue; // this step was over before we could catch it
      await kill();
      killedDuring.push(step);
      console.log(`# killed while ${step} was under way (${new Date().toISOString()})`);
      await startChild();
    }
    const final = await waitFor('the VPS to run', async () => {
      const r = await row();
      if (r.state === 'failed') assert.fail(`provisioning failed: ${r.state_reason}`);
      return r.state === 'running' ? r : null;
    });
    assert.ok(killedDuring.length >= 4, `killed during ${killedDuring.join(', ')}`);
    // One VM process for this VPS, one address, one disk file, one access-codes mail.
    const qemus = (await listInfogereQemus()).filter((q) => q.vmId === vpsId);
    assert.equal(qemus.length, 1, `QEMU processes: ${JSON.stringify(qemus.map((q) => q.pid))}`);
    const addrs = await database.db
      .selectFrom('ip_addresses')
      .selectAll()
      .where('vps_id', '=', vpsId!)
      .execute();
    assert.equal(addrs.length, 1);
    assert.equal(`${addrs[0]!.address}`.split('/')[0], final.ipv4!.split('/')[0]);
    const disks = (await readdir(path.join(lab.dataDir, 'agent', 'disks'))).filter((f) => f.includes(vpsId!));
    assert.equal(disks.length, 1, `disks: ${disks.join(', ')}`);
    const outbox = await database.db
      .selectFrom('mail_outbox')
      .select('id')
      .where('template', '=', 'vps.access_codes')
      .execute();
    assert.equal(outbox.length, 1);
    await waitFor('the mail at the SMTP server', () => lab.smtp.received.length > 0, 120_000, 100);
    assert.equal(lab.smtp.received.filter((m) => m.subject.includes('crashy')).length, 1);
    assert.equal(final.provision_errors, 0, 'being killed is not a step error');
    console.log(`# killed during: ${killedDuring.join(', ')}`);
  });
});
