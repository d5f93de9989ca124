// R3.3: QEMU confinement with guests that never run (-S, so no boot to wait for): each VM's
// QEMU has a uid of its own (one escaped guest cannot signal, trace or read another QEMU), the
// uid is kept across restarts, and a setting that would share uids with the machine's accounts
// or an image QEMU could not read are refused with a clear error.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { QemuDriver } from '../../src/agent/qemu/driver.ts';
import { idsInRange } from '../../src/agent/qemu/confine.ts';
import { run } from '../../src/agent/exec/run.ts';
import type { DomainError } from '../../src/domain/errors.ts';
import {
  baseConfig,
  createTestNet,
  imagesDir,
  killQemusUnder,
  removeDir,
  spec,
  tempDataDir,
} from './qemu-support.ts';

const dataDir = await tempDataDir();
const net = await createTestNet();
const BASE = 2_000_000_000;
const driver = await QemuDriver.open(baseConfig(dataDir, { startPaused: true }));
after(async () => {
  await driver.close();
  await killQemusUnder(dataDir);
  await net.cleanup();
  await removeDir(dataDir);
});

async function uidOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
}

test('R3.3: every VM runs as a uid of its own, never root, under seccomp; one cannot reach the other', async () => {
  await net.addTap('igtconf2');
  await driver.define(spec('conf-a', { network: { tap: net.tap, mac: '52:54:00:00:0d:01', netns: net.ns } }));
  await driver.define(
    spec('conf-b', { network: { tap: 'igtconf2', mac: '52:54:00:00:0d:02', netns: net.ns } }),
  );
  const a = await driver.start('conf-a');
  const b = await driver.start('conf-b');
  const [ua, ub] = [await uidOf(a.pid!), await uidOf(b.pid!)];
  assert.ok(ua > BASE && ua < BASE + 65_536 && ub > BASE && ub < BASE + 65_536, `${ua}, ${ub}`);
  assert.notEqual(ua, ub, 'two VMs, two uids');
  for (const pid of [a.pid!, b.pid!])
    assert.match(await readFile(`/proc/${pid}/status`, 'utf8'), /^Seccomp:\s+2$/m);
  // What A's uid may do to B's QEMU: nothing (no signal, no /proc/<pid>/mem or environ).
  const asA = (argv: string[]) =>
    run(['setpriv', `--reuid=${ua}`, `--regid=${ua}`, '--clear-groups', ...argv]).then(
      () => 'allowed',
      (e: Error) => e.message,
    );
  assert.match(await asA(['kill', '-0', String(b.pid)]), /not permitted/i);
  assert.match(await asA(['cat', `/proc/${b.pid}/environ`]), /Permission denied/);

  // The uid is the VM's: the same after a restart, and recorded in its state.
  await driver.powerOff('conf-a');
  const again = await driver.start('conf-a');
  assert.equal(await uidOf(again.pid!), ua);
  const state = JSON.parse(await readFile(path.join(dataDir, 'vms', 'conf-a', 'state.json'), 'utf8')) as {
    uid: number;
  };
  assert.equal(state.uid, ua);
  await driver.destroy('conf-a');
  await driver.destroy('conf-b');
});

test('R3.3: an image QEMU could not read as its own user is refused before anything starts', async () => {
  // A copy of the image in a directory only root may enter.
  const privateImages = path.join(dataDir, 'private-images');
  await mkdir(path.join(privateImages, 'infogere-mini'), { recursive: true, mode: 0o700 });
  for (const f of ['vmlinuz', 'initrd.img', 'cmdline'])
    await copyFile(path.join(imagesDir, 'infogere-mini', f), path.join(privateImages, 'infogere-mini', f));
  await driver.define(spec('conf-c'));
  await driver.close();
  const d2 = await QemuDriver.open(baseConfig(dataDir, { startPaused: true, imagesDir: privateImages }));
  try {
    await assert.rejects(
      d2.start('conf-c'),
      (e: DomainError) =>
        e.kind === 'unexpected_state' &&
        e.code === 'vm.image_unreadable' &&
        /readable by all/.test(e.message),
    );
    assert.equal((await d2.status('conf-c')).state, 'stopped');
    await d2.destroy('conf-c');
  } finally {
    await d2.close();
  }
});

test('R3.3: a VM uid range holding an account of the machine is refused', async () => {
  const passwd = path.join(dataDir, 'passwd');
  await writeFile(passwd, `root:x:0:0::/root:/bin/sh\nsomeone:x:${BASE + 7}:100::/home/x:/bin/sh\n`);
  assert.deepEqual(await idsInRange(BASE, [passwd]), [`someone (${BASE + 7}) in ${passwd}`]);
  assert.deepEqual(await idsInRange(BASE + 8, [passwd]), []);
  await assert.rejects(
    QemuDriver.open(baseConfig(dataDir, { vmUidBase: 100 })),
    /VM uid base 100/,
    'a base among system and regular accounts',
  );
});
