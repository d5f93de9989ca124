// The host as a whole: KVM or TCG, its capacity, and placement (R2.1 dedicated disk, R2.2
// shared vCPU and RAM within the overcommit ratios), serialised so two defines never both take
// the last room. Also the check of a VmSpec before anything is made.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { conflict, invalidData } from '../../domain/errors.ts';
import type { HostCapabilities, HostCapacity, VmSpec } from '../driver.ts';
import { isValidVmId } from '../driver.ts';
import { filesystemFreeBytes, GiB, MiB } from '../disks/disks.ts';
import { kvmGid } from './confine.ts';
import type { QemuHost } from './context.ts';
import { uidBase } from './context.ts';
import { decideAccel, qemuVersion } from './probe.ts';

export function cores(host: QemuHost): number {
  return host.config.cores ?? os.cpus().length;
}

export function memoryMiB(host: QemuHost): number {
  return host.config.memoryMiB ?? Math.floor(os.totalmem() / MiB);
}

export async function diskFree(host: QemuHost): Promise<number> {
  return Math.max(0, (await filesystemFreeBytes(host.diskDir)) - (host.config.diskMarginBytes ?? GiB));
}

export async function decideCapabilities(
  host: Pick<QemuHost, 'config' | 'clock'>,
): Promise<HostCapabilities> {
  const { config } = host;
  const version = await qemuVersion(config.qemuBinary);
  let accel: 'kvm' | 'tcg' = 'tcg';
  let reason: string;
  const forced = config.accel ?? 'auto';
  if (forced !== 'auto') {
    accel = forced;
    reason = `forced by configuration (${forced})`;
  } else {
    const kernel = path.join(config.imagesDir, config.probeImage ?? 'infogere-mini', 'vmlinuz');
    if (!existsSync(kernel)) {
      reason = `TCG: no kernel to probe KVM with (${kernel})`;
    } else {
      const uid = uidBase(host);
      const d = await decideAccel({
        dataDir: config.dataDir,
        kernel,
        qemuBinary: config.qemuBinary,
        now: () => host.clock.now(),
        runAs: { uid, gid: (await kvmGid()) ?? uid },
      });
      accel = d.accel;
      reason = d.reason;
    }
  }
  return {
    accel,
    accelReason: reason,
    qemuVersion: version,
    liveVcpuResize: false,
    liveMemoryBalloon: true,
    liveMemoryResize: false,
    liveDiskResize: true,
    fsfreeze: true,
    guestExec: true,
    balloonStats: true,
  };
}

export async function capacity(host: QemuHost): Promise<HostCapacity> {
  const recs = [...host.vms.values()].map((v) => v.rec);
  return {
    cores: cores(host),
    cpuRatio: host.config.cpuRatio,
    memoryMiB: memoryMiB(host),
    ramRatio: host.config.ramRatio,
    vcpusPlaced: recs.reduce((s, r) => s + r.spec.vcpus, 0),
    memoryMiBPlaced: recs.reduce((s, r) => s + r.spec.memoryMiB, 0),
    diskFreeBytes: await diskFree(host),
    diskReservedBytes: recs.reduce((s, r) => s + r.spec.diskGiB * GiB, 0),
    vms: recs.length,
  };
}

/** Serialises placements so two defines never both take the last room (R2.1, R2.2). */
export function serialPlacement<T>(host: QemuHost, fn: () => Promise<T>): Promise<T> {
  const p = host.placing.then(fn);
  host.placing = p.catch(() => undefined);
  return p;
}

export async function checkPlacement(
  host: QemuHost,
  id: string,
  next: { vcpus: number; memoryMiB: number; extraDiskBytes: number },
): Promise<void> {
  const others = [...host.vms.values()].filter((v) => v.rec.spec.id !== id).map((v) => v.rec.spec);
  const vcpus = others.reduce((s, r) => s + r.vcpus, 0) + next.vcpus;
  const mem = others.reduce((s, r) => s + r.memoryMiB, 0) + next.memoryMiB;
  const maxVcpus = Math.floor(cores(host) * host.config.cpuRatio);
  const maxMem = Math.floor(memoryMiB(host) * host.config.ramRatio);
  // R2.2: vCPU and RAM are shared, within the host's overcommit ratios.
  if (vcpus > maxVcpus)
    throw conflict(
      'host.cpu_full',
      `R2.2: ${vcpus} vCPUs would exceed this host's ${cores(host)} cores × ${host.config.cpuRatio} = ${maxVcpus}`,
      {
        requested: next.vcpus,
        placed: vcpus - next.vcpus,
        limit: maxVcpus,
      },
    );
  if (mem > maxMem)
    throw conflict(
      'host.ram_full',
      `R2.2: ${mem} MiB of RAM would exceed this host's ${memoryMiB(host)} MiB × ${host.config.ramRatio} = ${maxMem} MiB`,
      {
        requested: next.memoryMiB,
        placed: mem - next.memoryMiB,
        limit: maxMem,
      },
    );
  // R2.1: disk space is dedicated: only what the filesystem really has free counts.
  if (next.extraDiskBytes > 0) {
    const free = await diskFree(host);
    if (next.extraDiskBytes > free)
      throw conflict(
        'host.disk_full',
        `R2.1: ${(next.extraDiskBytes / GiB).toFixed(1)} GiB of dedicated disk needed, ${(free / GiB).toFixed(1)} GiB free on this host`,
        { neededBytes: next.extraDiskBytes, freeBytes: free },
      );
  }
}

export function validateSpec(spec: VmSpec): void {
  const bad = (field: string, why: string) => invalidData('vm.spec_invalid', `${field}: ${why}`, { field });
  if (typeof spec?.id !== 'string' || !isValidVmId(spec.id))
    throw bad('id', 'letters, digits and -, up to 40 characters');
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1 || spec.vcpus > 64)
    throw bad('vcpus', 'a whole number from 1 to 64');
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 128)
    throw bad('memoryMiB', 'a whole number, at least 128');
  if (!Number.isInteger(spec.diskGiB) || spec.diskGiB < 1)
    throw bad('diskGiB', 'a whole number of GiB, at least 1');
  if (spec.network) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(spec.network.tap)) throw bad('network.tap', 'an interface name');
    if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(spec.network.mac))
      throw bad('network.mac', 'a MAC address');
    if (spec.network.netns !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(spec.network.netns))
      throw bad('network.netns', 'a namespace name');
  }
  if (!spec.seed || typeof spec.seed.hostname !== 'string' || !spec.seed.user?.name)
    throw bad('seed', 'hostname and user are required');
}
