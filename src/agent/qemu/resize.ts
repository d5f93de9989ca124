// Resizing a VM: vCPU and RAM at its next start; disk grown only, reserved at once (R2.1),
// `block_resize` live and `resize2fs` through the guest agent when it runs.
import { invalidData } from '../../domain/errors.ts';
import type { ResizeApplied, ResizeRequest, ResizeResult, VmSpec } from '../driver.ts';
import { GiB, growDisk } from '../disks/disks.ts';
import type { QemuHost, Vm } from './context.ts';
import { image, save } from './context.ts';
import { q } from './guest.ts';
import { checkPlacement, serialPlacement } from './host.ts';

export interface ResizeTargets {
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
}

/** The sizes a request asks for, checked before anything changes (disks never shrink). */
export function resizeTargets(s: VmSpec, req: ResizeRequest): ResizeTargets {
  const vcpus = req.vcpus ?? s.vcpus;
  const memoryMiB = req.memoryMiB ?? s.memoryMiB;
  const diskGiB = req.diskGiB ?? s.diskGiB;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 64)
    throw invalidData('vm.resize_invalid', 'vcpus: a whole number from 1 to 64', { field: 'vcpus' });
  if (!Number.isInteger(memoryMiB) || memoryMiB < 128)
    throw invalidData('vm.resize_invalid', 'memoryMiB: a whole number, at least 128', {
      field: 'memoryMiB',
    });
  if (!Number.isInteger(diskGiB))
    throw invalidData('vm.resize_invalid', 'diskGiB: a whole number', { field: 'diskGiB' });
  if (diskGiB < s.diskGiB)
    throw invalidData('vm.disk_shrink', `Disks only grow: ${s.diskGiB} GiB → ${diskGiB} GiB refused`, {
      field: 'diskGiB',
      current: s.diskGiB,
    });
  return { vcpus, memoryMiB, diskGiB };
}

/** Applies checked targets (the facade holds the VM's lock); placements are serialised (host.ts). */
export function applyResize(
  host: QemuHost,
  vm: Vm,
  req: ResizeRequest,
  t: ResizeTargets,
): Promise<ResizeResult> {
  const id = vm.rec.spec.id;
  const s = vm.rec.spec;
  const { vcpus, memoryMiB, diskGiB } = t;
  return serialPlacement(host, async () => {
    await checkPlacement(host, id, { vcpus, memoryMiB, extraDiskBytes: (diskGiB - s.diskGiB) * GiB });
    const live = vm.rec.state === 'running' || vm.rec.state === 'paused';
    const res: ResizeResult = { id };
    const field = (from: number, to: number): ResizeApplied => (from === to ? 'unchanged' : 'next_start');
    if (req.vcpus !== undefined) res.vcpus = field(s.vcpus, vcpus);
    if (req.memoryMiB !== undefined) res.memoryMiB = field(s.memoryMiB, memoryMiB);
    s.vcpus = vcpus;
    s.memoryMiB = memoryMiB;
    if (req.diskGiB !== undefined) {
      if (diskGiB === s.diskGiB) res.diskGiB = 'unchanged';
      else {
        await growDisk(vm.rec.paths.disk, diskGiB * GiB); // R2.1: the new space reserved too
        s.diskGiB = diskGiB;
        res.diskGiB = 'next_start';
        if (live && vm.qmp) {
          await q(host, vm, vm.qmp.execute('block_resize', { 'node-name': 'vda', size: diskGiB * GiB }));
          res.diskGiB = 'live';
          // The guest grows its filesystem at every boot; now too when its agent is there.
          let grown = false;
          if (vm.gaUp && vm.ga && vm.rec.state === 'running') {
            const r = await vm.ga
              .exec(image(host, vm.rec.spec.image).growCommand, { timeoutMs: 60_000 })
              .catch(() => null);
            grown = r !== null && r.exitCode === 0;
          }
          vm.rec.growFilesystemPending = !grown;
        }
      }
    }
    await save(host, vm);
    return res;
  });
}
