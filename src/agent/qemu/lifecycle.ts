// Defining and destroying a VM: its dedicated disk (R2.1) and NoCloud config drive, its record,
// and at the end the wipe of client data (R12.4). Starting it is launch.ts.
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { conflict, invalidData, notFound } from '../../domain/errors.ts';
import type { VmNetwork, VmSeed, VmSpec, VmStatus } from '../driver.ts';
import { createDiskFromImage, GiB, wipeFile } from '../disks/disks.ts';
import { writeConfigDrive } from '../image/config-drive.ts';
import { vmPaths } from '../state/store.ts';
import type { VmRecord } from '../state/store.ts';
import type { QemuHost, Vm } from './context.ts';
import { image, newVm, uidFor, vmStatus } from './context.ts';
import { checkPlacement, serialPlacement, validateSpec } from './host.ts';
import { detach } from './monitor.ts';
import { isAlive } from './process.ts';
import { KILL_LADDER, stopByLadder } from './stop-ladder.ts';

export async function define(host: QemuHost, spec: VmSpec): Promise<VmStatus> {
  validateSpec(spec);
  const paths = vmPaths(host.config.dataDir, host.diskDir, spec.id);
  if (Buffer.byteLength(paths.guestAgentSocket) > 107 || Buffer.byteLength(paths.qmpSocket) > 107)
    throw invalidData(
      'vm.path_too_long',
      `Socket paths under ${paths.dir} exceed the 107-byte unix socket limit`,
    );
  const img = image(host, spec.image);
  for (const f of img.boot === 'kernel' ? [img.kernel, img.initrd, img.rootfs] : [img.rootfs])
    if (!existsSync(f))
      throw notFound('image.not_found', `Image ${spec.image} is missing ${path.basename(f)} (${img.dir})`, {
        image: spec.image,
      });
  const diskBytes = spec.diskGiB * GiB;
  const rootfsBytes = (await stat(img.rootfs)).size;
  if (rootfsBytes > diskBytes)
    throw invalidData(
      'vm.disk_too_small',
      `Image ${spec.image} needs at least ${Math.ceil(rootfsBytes / GiB)} GiB`,
    );

  return serialPlacement(host, async () => {
    if (host.vms.has(spec.id) || existsSync(paths.dir) || existsSync(paths.disk))
      throw conflict('vm.exists', `VM ${spec.id} already exists on this host`, { id: spec.id });
    await checkPlacement(host, spec.id, {
      vcpus: spec.vcpus,
      memoryMiB: spec.memoryMiB,
      extraDiskBytes: diskBytes,
    });
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    try {
      // R2.1: a disk of its own, of the plan's size, every block reserved now (the config
      // drive is written meanwhile).
      const made = await Promise.allSettled([
        createDiskFromImage(img.rootfs, paths.disk, diskBytes),
        writeSeed(host, spec, paths.seed),
      ]);
      for (const m of made) if (m.status === 'rejected') throw m.reason; // both finished: cleanup below is safe
      // Client data: root's only (QEMU gets them open, never by path).
      for (const f of [paths.disk, paths.seed]) await chmod(f, 0o600);
      const rec: VmRecord = {
        version: 1,
        spec: structuredClone(spec),
        paths,
        state: 'stopped',
        pid: null,
        startedAt: null,
        argv: null,
        accel: host.caps.accel,
        bootVcpus: null,
        bootMemoryMiB: null,
        growFilesystemPending: false,
        failure: null,
      };
      rec.uid = uidFor(host, rec); // synchronous with the set below: no two VMs share a uid
      const vm = newVm(rec);
      host.vms.set(spec.id, vm);
      await host.store.save(rec);
      return vmStatus(host, vm);
    } catch (e) {
      host.vms.delete(spec.id);
      await rm(paths.disk, { force: true });
      await rm(paths.dir, { recursive: true, force: true });
      throw e;
    }
  });
}

async function writeSeed(host: QemuHost, spec: VmSpec, file: string): Promise<void> {
  const writer = host.config.writeConfigDrive ?? writeConfigDrive;
  const seedSpec: VmSeed & { instanceId: string; network?: VmNetwork } = {
    ...spec.seed,
    instanceId: spec.id,
  };
  if (spec.network) seedSpec.network = spec.network;
  await writer(seedSpec, file);
}

/** Stops the VM if it runs, wipes its disk and config drive (R12.4), removes everything of it. */
export async function destroy(host: QemuHost, vm: Vm): Promise<{ id: string; wiped: string[] }> {
  const id = vm.rec.spec.id;
  const wasLive = vm.rec.pid !== null && (await isAlive(vm.rec.pid));
  if (wasLive) await stopByLadder(host, vm, KILL_LADDER, 'destroyed');
  await detach(vm);
  const p = vm.rec.paths;
  const wiped: string[] = [];
  const mode = host.config.diskWipe ?? 'overwrite';
  // R12.4: client data is made unreadable before the files go away.
  for (const f of [p.disk, p.seed]) {
    if (existsSync(f)) {
      await wipeFile(f, f === p.disk ? mode : 'overwrite');
      wiped.push(f);
    }
  }
  for (const f of [
    p.qmpSocket,
    p.guestAgentSocket,
    p.consoleSocket,
    p.pidFile,
    p.consoleLog,
    `${p.consoleLog}.1`,
    p.qemuLog,
    p.state,
  ])
    await rm(f, { force: true });
  await host.store.remove(id);
  host.vms.delete(id);
  if (vm.rec.spec.network && host.config.releaseTap) await host.config.releaseTap(vm.rec.spec.network);
  return { id, wiped };
}
