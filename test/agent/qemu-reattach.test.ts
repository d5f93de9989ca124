// Survive restarts: an agent (a child process running the driver) starts a real VM and is killed
// with SIGKILL; a new driver on the same data dir reattaches without restarting the VM (same pid,
// guest uptime continues, still confined, its console recorded again), and reports (then
// cleans) an orphan process, disk, state dir and tap.
// This file is also the child: with IGQ_AGENT_CHILD=1 it runs the agent side only.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { QemuDriver } from '../../src/agent/qemu/driver.ts';
import { MiB } from '../../src/agent/disks/disks.ts';
import { startDetached, run } from '../../src/agent/exec/run.ts';
import { isAlive, readCmdline, waitGone } from '../../src/agent/qemu/process.ts';
import { until } from '../helpers/until.ts';
import {
  baseConfig,
  createTestNet,
  eventLog,
  killQemusUnder,
  removeDir,
  spec,
  suffix,
  tempDataDir,
} from './qemu-support.ts';

if (process.env.IGQ_AGENT_CHILD === '1') {
  // ---- the agent that gets killed
  const dataDir = process.env.IGQ_DATA_DIR!;
  const d = await QemuDriver.open(
    baseConfig(dataDir, {
      listener: (e) => process.stdout.write(JSON.stringify({ event: e }) + '\n'),
    }),
  );
  await d.define(
    spec('keep-a', {
      network: { tap: process.env.IGQ_TAP!, mac: '52:54:00:00:0b:01', netns: process.env.IGQ_NS! },
    }),
  );
  const st = await d.start('keep-a');
  process.stdout.write(JSON.stringify({ started: st }) + '\n');
  setInterval(() => undefined, 60_000); // until killed
} else {
  const dataDir = await tempDataDir();
  const net = await createTestNet();
  const orphanTap = `igt${suffix()}`;
  let ghostPid: number | undefined;
  after(async () => {
    await killQemusUnder(dataDir);
    if (ghostPid) await waitGone(ghostPid, 1_000);
    await net.cleanup();
    await removeDir(dataDir);
  });

  test('agent killed while a VM runs: a new agent reattaches (same pid, uptime continues), orphans reported then cleaned', async () => {
    const child = spawn(process.execPath, [import.meta.filename], {
      env: { ...process.env, IGQ_AGENT_CHILD: '1', IGQ_DATA_DIR: dataDir, IGQ_TAP: net.tap, IGQ_NS: net.ns },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const agentUp = new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`the child agent saw no guest agent within 120 s: ${out}`)),
        120_000,
      );
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"guest_agent_up"')) {
          clearTimeout(t);
          resolve();
        }
      });
      child.once('exit', (c) => {
        clearTimeout(t);
        reject(new Error(`child agent exited (${c}): ${out}`));
      });
    });
    try {
      await agentUp;
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
    );
    const started = JSON.parse(out.split('\n').find((l) => l.startsWith('{"started"'))!) as {
      started: { pid: number; startedAt: string };
    };
    const pid = started.started.pid;
    assert.ok(await isAlive(pid), 'QEMU survives its agent');

    // Orphans made while no agent runs: a QEMU of ours with no VM, a disk, a state dir, a tap.
    const ghostSock = path.join(dataDir, 'ghost-qmp.sock');
    const ghost = startDetached([
      'qemu-system-x86_64',
      '-name',
      'guest=infogere-ghost,debug-threads=on',
      '-S',
      '-nodefaults',
      '-no-user-config',
      '-machine',
      'none',
      '-display',
      'none',
      '-chardev',
      `socket,id=qmp0,path=${ghostSock},server=on,wait=off`,
      '-mon',
      'chardev=qmp0,mode=control',
    ]);
    ghostPid = ghost.pid;
    const ghostDisk = path.join(dataDir, 'disks', 'ghost.raw');
    await writeFile(ghostDisk, Buffer.alloc(MiB, 7));
    await mkdir(path.join(dataDir, 'vms', 'junk'), { recursive: true });
    await run(['ip', '-n', net.ns, 'tuntap', 'add', 'dev', orphanTap, 'mode', 'tap']);
    while (!(await readCmdline(ghostPid!))?.includes('guest=infogere-ghost,debug-threads=on'))
      await new Promise((r) => setTimeout(r, 20));

    // The guest's uptime before the new agent arrives.
    const log = eventLog();
    const d = await QemuDriver.open(baseConfig(dataDir, { listener: log.listener, orphanNetns: [net.ns] }));
    try {
      const st = await d.status('keep-a');
      assert.equal(st.state, 'running');
      assert.equal(st.pid, pid, 'same QEMU process');
      assert.equal(st.startedAt, started.started.startedAt);
      await log.waitFor((e) => e.type === 'guest_agent_up' && e.vmId === 'keep-a', 60_000);
      const up1 = Number((await d.guestExec('keep-a', ['cat', '/proc/uptime'])).stdout.split(' ')[0]);
      await new Promise((r) => setTimeout(r, 1_000));
      const up2 = Number((await d.guestExec('keep-a', ['cat', '/proc/uptime'])).stdout.split(' ')[0]);
      assert.ok(up1 > 3 && up2 > up1, `guest uptime continues (${up1} → ${up2}), no reboot`);
      assert.equal(log.events.filter((e) => e.type === 'crashed' || e.type === 'started').length, 0);
      // R3.3: still its confined QEMU; the new agent records its console again.
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      assert.doesNotMatch(status, /^Uid:\s+0\s/m);
      assert.match(status, /^Seccomp:\s+2$/m);
      const marker = `igq-reattached-${suffix()}`;
      await d.guestExec('keep-a', ['sh', '-c', `echo ${marker} > /dev/ttyS0`]);
      await until('the marker on the console after the reattach', async () =>
        (await d.consoleLog('keep-a', { lines: 50 })).lines.some((l) => l.includes(marker)),
      );

      const o = await d.orphans();
      assert.deepEqual(
        o.processes.map((p) => [p.pid, p.vmId]),
        [[ghostPid, 'ghost']],
      );
      assert.deepEqual(o.disks, [ghostDisk]);
      assert.deepEqual(o.stateDirs, [path.join(dataDir, 'vms', 'junk')]);
      assert.deepEqual(o.taps, [`${net.ns}/${orphanTap}`]);
      assert.deepEqual(o.sockets, []);

      const cleaned = await d.cleanOrphans();
      assert.equal(cleaned.processes.length, 1);
      assert.ok(await waitGone(ghostPid!, 5_000));
      assert.equal(existsSync(ghostDisk), false);
      const o2 = await d.orphans();
      assert.deepEqual([o2.processes, o2.disks, o2.stateDirs, o2.sockets], [[], [], [], []]);
      assert.ok(await isAlive(pid), 'the owned VM is untouched');

      // Reattached VM is fully driven by the new agent: its stop ladder works.
      const r = await d.shutdown('keep-a', [
        { kind: 'guest_agent', timeoutMs: 30_000 },
        { kind: 'sigkill', timeoutMs: 5_000 },
      ]);
      assert.equal(r.endedBy, 'guest_agent');
      assert.equal(await isAlive(pid), false);
      assert.equal(log.events.filter((e) => e.type === 'crashed').length, 0);
      await d.destroy('keep-a');
    } finally {
      await d.close();
    }
  });

  test('a VM that died while the agent was away is reported failed (crashed) on reattach', async () => {
    const d1 = await QemuDriver.open(baseConfig(dataDir, { startPaused: true }));
    await d1.define(spec('gone-b'));
    const st = await d1.start('gone-b');
    await d1.close(); // the agent goes away...
    process.kill(st.pid!, 'SIGKILL'); // ...and its VM dies meanwhile
    await waitGone(st.pid!, 5_000);
    const log = eventLog();
    const d2 = await QemuDriver.open(baseConfig(dataDir, { listener: log.listener }));
    try {
      const s = await d2.status('gone-b');
      assert.equal(s.state, 'failed');
      assert.match(s.failure ?? '', /ended while the agent was away/);
      assert.ok(log.events.some((e) => e.type === 'crashed' && e.vmId === 'gone-b'));
      await d2.destroy('gone-b');
    } finally {
      await d2.close();
    }
  });
}
