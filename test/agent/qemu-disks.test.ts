// Disks and placement: R2.1 (dedicated, fully reserved, refused beyond free space), R2.2
// (vCPU/RAM within overcommit ratios), R12.4 (wiped before removal), bad input.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { QemuDriver } from '../../src/agent/qemu/driver.ts';
import { allocatedBytes, filesystemFreeBytes, GiB, MiB, wipeFile } from '../../src/agent/disks/disks.ts';
import type { DomainError } from '../../src/domain/errors.ts';
import { baseConfig, removeDir, spec, tempDataDir } from './qemu-support.ts';

const dataDir = await tempDataDir();
after(() => removeDir(dataDir));

const driver = await QemuDriver.open(
  baseConfig(dataDir, { cores: 2, memoryMiB: 2048, cpuRatio: 2, ramRatio: 1 }),
);
after(() => driver.close());

const isKind = (kind: string, code?: string) => (e: unknown) =>
  (e as DomainError).kind === kind && (code === undefined || (e as DomainError).code === code);

test('R2.1: a disk of N GiB really reserves N GiB (allocated blocks), from the image', async () => {
  const st = await driver.define(spec('disk-a', { diskGiB: 3 }));
  assert.equal(st.state, 'stopped');
  const size = statSync(st.diskPath).size;
  assert.equal(size, 3 * GiB);
  assert.ok((await allocatedBytes(st.diskPath)) >= 3 * GiB, 'every block allocated');
  assert.ok(st.diskAllocatedBytes >= 3 * GiB);
  // The image's ext4 superblock is there (magic 0xEF53 at 1024 + 56).
  const head = Buffer.alloc(2048);
  const fd = openSync(st.diskPath, 'r');
  readSync(fd, head, 0, 2048, 0);
  closeSync(fd);
  assert.equal(head.readUInt16LE(1024 + 56), 0xef53);
  // Grow only: a shrink is invalid_data, a grow keeps every block reserved.
  await assert.rejects(driver.resize('disk-a', { diskGiB: 2 }), isKind('invalid_data', 'vm.disk_shrink'));
  const r = await driver.resize('disk-a', { diskGiB: 4 });
  assert.equal(r.diskGiB, 'next_start');
  assert.ok((await allocatedBytes(st.diskPath)) >= 4 * GiB);
});

test('R2.1: a definition beyond the host free disk is refused (conflict), nothing left behind', async () => {
  const free = await filesystemFreeBytes(driver.diskDir);
  const tooBig = Math.ceil(free / GiB) + 10;
  await assert.rejects(
    driver.define(spec('disk-huge', { diskGiB: tooBig })),
    isKind('conflict', 'host.disk_full'),
  );
  assert.equal(existsSync(path.join(driver.diskDir, 'disk-huge.raw')), false);
  assert.equal(existsSync(path.join(dataDir, 'vms', 'disk-huge')), false);
  await assert.rejects(driver.status('disk-huge'), isKind('not_found'));
});

test('R2.2: vCPU and RAM placement within cores × ratio and RAM × ratio', async () => {
  // host: 2 cores × 2 = 4 vCPUs, 2048 MiB × 1 = 2048 MiB; disk-a holds 1 vCPU, 256 MiB.
  await assert.rejects(
    driver.define(spec('cpu-big', { vcpus: 4 })),
    (e: DomainError) => e.code === 'host.cpu_full' && /R2\.2/.test(e.message),
  );
  await assert.rejects(
    driver.define(spec('ram-big', { memoryMiB: 1900 })),
    isKind('conflict', 'host.ram_full'),
  );
  await driver.define(spec('cpu-ok', { vcpus: 3 }));
  const cap = await driver.capacity();
  assert.equal(cap.vcpusPlaced, 4);
  await assert.rejects(driver.resize('cpu-ok', { vcpus: 4 }), isKind('conflict', 'host.cpu_full'));
  await driver.destroy('cpu-ok');
});

test('bad input: unknown VM, duplicate, invalid spec, wrong state', async () => {
  await assert.rejects(driver.start('nope'), isKind('not_found', 'vm.not_found'));
  await assert.rejects(driver.destroy('nope'), isKind('not_found'));
  await assert.rejects(driver.define(spec('disk-a')), isKind('conflict', 'vm.exists'));
  await assert.rejects(driver.define(spec('Bad Id')), isKind('invalid_data'));
  await assert.rejects(driver.define(spec('x1', { diskGiB: 0 })), isKind('invalid_data'));
  await assert.rejects(driver.define(spec('x2', { image: '../etc' })), isKind('invalid_data'));
  await assert.rejects(
    driver.define(spec('x3', { image: 'no-such-image' })),
    isKind('not_found', 'image.not_found'),
  );
  // A seed the config drive refuses: invalid_data, and no disk or directory left behind.
  await assert.rejects(
    driver.define(spec('x4', { seed: { hostname: 'bad host!', user: { name: 'client' } } })),
    isKind('invalid_data'),
  );
  assert.equal(existsSync(path.join(driver.diskDir, 'x4.raw')), false);
  assert.equal(existsSync(path.join(dataDir, 'vms', 'x4')), false);
  // Stopped VM: operations that need it running are conflicts, answered at once.
  const t0 = Date.now();
  await assert.rejects(driver.shutdown('disk-a'), isKind('conflict', 'vm.wrong_state'));
  await assert.rejects(driver.pause('disk-a'), isKind('conflict'));
  await assert.rejects(driver.resume('disk-a'), isKind('conflict'));
  await assert.rejects(driver.reboot('disk-a'), isKind('conflict'));
  await assert.rejects(driver.powerOff('disk-a'), isKind('conflict'));
  await assert.rejects(driver.guestExec('disk-a', ['id']), isKind('conflict'));
  await assert.rejects(driver.guestMemory('disk-a'), isKind('conflict'));
  await assert.rejects(driver.fsfreeze('disk-a'), isKind('conflict'));
  await assert.rejects(driver.guestExec('disk-a', 'id -u' as unknown as string[]), isKind('invalid_data'));
  assert.ok(Date.now() - t0 < 2_000);
});

test('R12.4: destroy wipes the disk and removes every file of the VM', async () => {
  const st = await driver.status('disk-a');
  await driver.destroy('disk-a');
  assert.equal(existsSync(st.diskPath), false);
  assert.equal(existsSync(path.join(dataDir, 'vms', 'disk-a')), false);
  await assert.rejects(driver.status('disk-a'), isKind('not_found'));
  const o = await driver.orphans();
  assert.deepEqual([o.disks, o.sockets, o.stateDirs, o.processes], [[], [], [], []]);
});

for (const mode of ['overwrite', 'discard'] as const) {
  test(`R12.4: wipe (${mode}) leaves none of the data readable`, async () => {
    const f = path.join(dataDir, `wipe-${mode}.raw`);
    const canary = Buffer.from('CLIENT-SECRET-CANARY-0123456789');
    const buf = Buffer.alloc(80 * MiB);
    for (const off of [0, 5 * MiB, 70 * MiB, 80 * MiB - 4096]) canary.copy(buf, off);
    await writeFile(f, buf);
    await wipeFile(f, mode, { keepFile: true });
    const after = readFileSync(f);
    assert.equal(after.indexOf(canary), -1);
    if (mode === 'discard') assert.ok((await allocatedBytes(f)) < MiB, 'blocks released');
    await wipeFile(f, mode);
    assert.equal(existsSync(f), false);
  });
}
