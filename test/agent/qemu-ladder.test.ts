// The stop ladder against guests that ignore everything (QEMU started with -S: vCPUs never run,
// so no guest agent and no ACPI handling), a crash seen as `crashed` with its reason, and calls
// in the wrong state answered at once with a conflict.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { QemuDriver } from '../../src/agent/qemu/driver.ts';
import { isAlive, readCmdline, signal } from '../../src/agent/qemu/process.ts';
import type { DomainError } from '../../src/domain/errors.ts';
import type { StopRung } from '../../src/agent/driver.ts';
import {
  baseConfig,
  createTestNet,
  eventLog,
  killQemusUnder,
  removeDir,
  spec,
  tempDataDir,
} from './qemu-support.ts';

const dataDir = await tempDataDir();
const net = await createTestNet();
const log = eventLog();
const driver = await QemuDriver.open(baseConfig(dataDir, { startPaused: true, listener: log.listener }));
after(async () => {
  await driver.close();
  await killQemusUnder(dataDir);
  await net.cleanup();
  await removeDir(dataDir);
});

const ladder: StopRung[] = [
  { kind: 'guest_agent', timeoutMs: 1_000 },
  { kind: 'acpi', timeoutMs: 1_500 },
  { kind: 'sigterm', timeoutMs: 2_000 },
  { kind: 'sigkill', timeoutMs: 3_000 },
];

test('stop ladder: a guest ignoring agent and ACPI ends by SIGTERM within its timeouts', async () => {
  const st0 = await driver.define(
    spec('lad-a', { network: { tap: net.tap, mac: '52:54:00:00:0a:01', netns: net.ns } }),
  );
  assert.equal(st0.state, 'stopped');
  const st = await driver.start('lad-a');
  assert.equal(st.state, 'paused'); // -S
  assert.ok(st.pid && (await readCmdline(st.pid))?.includes('guest=infogere-lad-a,debug-threads=on'));
  const r = await driver.shutdown('lad-a', ladder);
  assert.equal(r.endedBy, 'sigterm', JSON.stringify(r));
  assert.deepEqual(
    r.rungs.map((x) => [x.kind, x.outcome, x.ended]),
    [
      ['guest_agent', 'skipped', false],
      ['acpi', 'sent', false],
      ['sigterm', 'sent', true],
    ],
  );
  assert.ok(r.elapsedMs < 1_000 + 1_500 + 2_000 + 1_000, `${r.elapsedMs} ms`);
  assert.equal((await driver.status('lad-a')).state, 'stopped');
  assert.equal(await isAlive(st.pid), false);
  const ev = await log.waitFor((e) => e.type === 'stopped' && e.vmId === 'lad-a', 1_000);
  assert.match(ev.reason ?? '', /sigterm/);
  console.log(`# ladder A (guest ignores agent + ACPI): ended by ${r.endedBy} in ${r.elapsedMs} ms`);
});

test('stop ladder: a hung QEMU (SIGSTOPped, ignores SIGTERM) ends by SIGKILL within its timeouts', async () => {
  const st = await driver.start('lad-a');
  assert.ok(st.pid);
  signal(st.pid, 'SIGSTOP'); // QEMU itself stuck: no QMP answer, SIGTERM stays pending
  // While the ladder runs, other calls are conflicts at once (never a hang).
  const p = driver.shutdown('lad-a', ladder);
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  await assert.rejects(driver.start('lad-a'), (e: DomainError) => e.kind === 'conflict');
  await assert.rejects(
    driver.shutdown('lad-a'),
    (e: DomainError) => e.kind === 'conflict' && e.code === 'vm.busy',
  );
  assert.ok(Date.now() - t0 < 500);
  const r = await p;
  assert.equal(r.endedBy, 'sigkill', JSON.stringify(r));
  assert.deepEqual(
    r.rungs.map((x) => [x.kind, x.ended]),
    [
      ['guest_agent', false],
      ['acpi', false],
      ['sigterm', false],
      ['sigkill', true],
    ],
  );
  assert.equal(r.rungs[1]?.outcome, 'failed'); // system_powerdown timed out on a stopped QEMU
  assert.ok(r.elapsedMs < 1_000 + 1_500 + 2_000 + 3_000 + 1_000, `${r.elapsedMs} ms`);
  assert.equal(await isAlive(st.pid), false);
  assert.equal((await driver.status('lad-a')).state, 'stopped');
  console.log(
    `# ladder B (QEMU hung): ended by ${r.endedBy} in ${r.elapsedMs} ms: ${JSON.stringify(r.rungs)}`,
  );
});

test('a QEMU killed from outside → crashed event with the reason, status failed; restartable', async () => {
  const st = await driver.start('lad-a');
  assert.ok(st.pid);
  signal(st.pid, 'SIGKILL');
  const ev = await log.waitFor((e) => e.type === 'crashed' && e.vmId === 'lad-a', 10_000);
  assert.match(ev.reason ?? '', /SIGKILL/);
  const s = await driver.status('lad-a');
  assert.equal(s.state, 'failed');
  assert.match(s.failure ?? '', /SIGKILL/);
  // failed → start is allowed; powerOff then ends it.
  const again = await driver.start('lad-a');
  assert.equal(again.failure, null);
  const off = await driver.powerOff('lad-a');
  assert.equal(off.state, 'stopped');
  await assert.rejects(driver.powerOff('lad-a'), (e: DomainError) => e.kind === 'conflict');
});

test('pause/resume (suspension) and destroy of a running VM', async () => {
  await driver.start('lad-a');
  const resumed = await driver.resume('lad-a'); // -S: starts paused
  assert.equal(resumed.state, 'running');
  await assert.rejects(driver.resume('lad-a'), (e: DomainError) => e.kind === 'conflict');
  assert.equal((await driver.pause('lad-a')).state, 'paused');
  await log.waitFor((e) => e.type === 'paused' && e.vmId === 'lad-a', 1_000);
  const pid = (await driver.status('lad-a')).pid;
  const d = await driver.destroy('lad-a');
  assert.equal(d.wiped.length, 2);
  assert.equal(await isAlive(pid ?? -1), false);
  await assert.rejects(driver.status('lad-a'), (e: DomainError) => e.kind === 'not_found');
});
