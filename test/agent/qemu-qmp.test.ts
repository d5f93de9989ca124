// QMP client against a real QEMU (-machine none -S starts instantly).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDetached } from '../../src/agent/exec/run.ts';
import { QmpClient } from '../../src/agent/qemu/qmp.ts';
import type { QmpEvent, QmpError } from '../../src/agent/qemu/qmp.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'igqmp-real-'));
const sock = path.join(dir, 'qmp.sock');
const child = startDetached([
  'qemu-system-x86_64',
  '-name',
  'guest=infogere-qmptest,debug-threads=on',
  '-S',
  '-nodefaults',
  '-no-user-config',
  '-machine',
  'none',
  '-display',
  'none',
  '-chardev',
  `socket,id=qmp0,path=${sock},server=on,wait=off`,
  '-mon',
  'chardev=qmp0,mode=control',
]);
after(() => {
  try {
    if (child.pid) process.kill(child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  rmSync(dir, { recursive: true, force: true });
});

async function connectRetry(): Promise<QmpClient> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await QmpClient.connect(sock);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

test('qmp (real QEMU): greeting, commands, errors, events, quit', async () => {
  const c = await connectRetry();
  assert.ok(c.greeting && 'version' in c.greeting);
  const v = await c.execute<{ qemu: { major: number } }>('query-version');
  assert.ok(v.qemu.major >= 7);
  const st = await c.execute<{ status: string; running: boolean }>('query-status');
  assert.equal(st.status, 'prelaunch');
  await assert.rejects(c.execute('no-such-command'), (e: QmpError) => e.errorClass === 'CommandNotFound');
  // Several commands queued at once come back in order, each to its caller.
  const many = await Promise.all([1, 2, 3, 4, 5].map(() => c.execute<{ status: string }>('query-status')));
  assert.equal(many.length, 5);
  const events: QmpEvent[] = [];
  c.on('event', (e: QmpEvent) => events.push(e));
  await c.execute('cont');
  await c.execute('stop');
  const deadline = Date.now() + 5_000;
  while (!events.some((e) => e.event === 'STOP') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(
    events.some((e) => e.event === 'RESUME'),
    'RESUME event',
  );
  assert.ok(
    events.some((e) => e.event === 'STOP'),
    'STOP event',
  );
  const closed = new Promise((r) => c.once('close', r));
  await c.execute('quit');
  await closed;
  const gone = Date.now() + 10_000;
  while (existsSync(`/proc/${child.pid}`) && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
  // child is ours: reaped by node, so /proc entry disappears
  assert.equal(existsSync(`/proc/${child.pid}/cmdline`) && child.exitCode === null, false);
});
