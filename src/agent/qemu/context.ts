// The contexts every part of the QEMU driver works on: the host (configuration, VM map,
// listeners, capabilities) and one VM (its record and live connections), with the small helpers
// they share. The modules beside this one (launch, monitor, stop-ladder, power, resize, guest,
// orphans, lifecycle, host) are functions over these objects; driver.ts is the facade.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../domain/clock.ts';
import { conflict, invalidData, notFound } from '../../domain/errors.ts';
import type { HostCapabilities, VmEvent, VmEventListener, VmEventType, VmStatus } from '../driver.ts';
import { allocatedBytes } from '../disks/disks.ts';
import type { StateStore, VmRecord } from '../state/store.ts';
import type { QemuHostConfig } from './config.ts';
import { DEFAULT_VM_UID_BASE, VM_UID_RANGE } from './confine.ts';
import { ConsoleRecorder, DEFAULT_CONSOLE_LOG_BYTES } from './console.ts';
import { GuestAgentClient } from './guest-agent.ts';
import { isAlive, signal } from './process.ts';
import { QmpClient } from './qmp.ts';

/** One VM as the driver holds it: its record (state.json) and its live connections. */
export interface Vm {
  rec: VmRecord;
  qmp: QmpClient | null;
  ga: GuestAgentClient | null;
  gaUp: boolean;
  /** The guest signalled the end of its boot setup (monitor.ts watchGuestAgent). */
  guestReady: boolean;
  /** The process generation a guest-agent watcher runs for (one at a time). */
  watching: number | null;
  busy: string | null;
  expectingExit: string | null;
  lastShutdown: { guest: boolean; reason: string } | null;
  child: ChildProcess | null;
  /** Records the serial console of the running QEMU. */
  console: ConsoleRecorder | null;
  /** Bumped when a process ends: watchers of an older process stop. */
  gen: number;
  exitWaiters: (() => void)[];
}

/**
 * Elapsed time, waiting and process signals as the stop ladder and exit waits see them: the
 * real ones in production; a test gives fakes, so it moves time instead of sleeping and plays a
 * QEMU that ignores a signal.
 */
export interface QemuSystem {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
  isAlive(pid: number): Promise<boolean>;
  signal(pid: number, sig: NodeJS.Signals): boolean;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const realSystem: QemuSystem = { nowMs: () => Date.now(), sleep, isAlive, signal };

/** The host: what QemuDriver holds, shared by every module of the driver. */
export interface QemuHost {
  readonly config: QemuHostConfig;
  readonly diskDir: string;
  readonly clock: Clock;
  readonly sys: QemuSystem;
  readonly store: StateStore;
  readonly vms: Map<string, Vm>;
  readonly listeners: Set<VmEventListener>;
  caps: HostCapabilities;
  /** Tail of the placement queue (host.ts serialPlacement). */
  placing: Promise<unknown>;
  closed: boolean;
}

export async function tail(file: string, lines: number): Promise<string[]> {
  try {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      return buf
        .toString('utf8')
        .replace(/\r/g, '')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(-lines);
    } finally {
      await fh.close();
    }
  } catch {
    return [];
  }
}

export function newVm(rec: VmRecord): Vm {
  return {
    rec,
    qmp: null,
    ga: null,
    gaUp: false,
    guestReady: false,
    watching: null,
    busy: null,
    expectingExit: null,
    lastShutdown: null,
    child: null,
    console: null,
    gen: 0,
    exitWaiters: [],
  };
}

export function emit(host: QemuHost, type: VmEventType, vmId: string, reason?: string): void {
  const e: VmEvent = { type, vmId, at: host.clock.now().toISOString() };
  if (reason !== undefined) e.reason = reason;
  for (const l of host.listeners) {
    try {
      l(e);
    } catch {
      /* a listener's failure is its own */
    }
  }
}

export function getVm(host: QemuHost, id: string): Vm {
  const vm = host.vms.get(id);
  if (!vm) throw notFound('vm.not_found', `No VM ${id} on this host`, { id });
  return vm;
}

export function requireState(vm: Vm, allowed: VmStatus['state'][], op: string): void {
  if (vm.busy)
    throw conflict('vm.busy', `VM ${vm.rec.spec.id} is busy (${vm.busy}); ${op} refused`, {
      id: vm.rec.spec.id,
      busy: vm.busy,
    });
  if (!allowed.includes(vm.rec.state))
    throw conflict(
      'vm.wrong_state',
      `VM ${vm.rec.spec.id} is ${vm.rec.state}; ${op} needs ${allowed.join(' or ')}`,
      {
        id: vm.rec.spec.id,
        state: vm.rec.state,
      },
    );
}

/** The per-VM lock: one operation at a time, others refused at once (`vm.busy`), never queued. */
export async function withBusy<T>(vm: Vm, op: string, fn: () => Promise<T>): Promise<T> {
  vm.busy = op;
  try {
    return await fn();
  } finally {
    vm.busy = null;
  }
}

export async function save(host: QemuHost, vm: Vm): Promise<void> {
  // A VM being destroyed may lose its directory under a late writer: nothing to keep then.
  if (host.vms.get(vm.rec.spec.id) === vm && existsSync(vm.rec.paths.dir)) await host.store.save(vm.rec);
}

/** Work started by events (process exit, QMP close, watchers): its failure must not crash the agent. */
export function background(p: Promise<unknown>): void {
  p.catch((e: unknown) => process.emitWarning(`infogere agent: background task failed: ${errMsg(e)}`));
}

export function uidBase(host: Pick<QemuHost, 'config'>): number {
  return host.config.vmUidBase ?? DEFAULT_VM_UID_BASE;
}

/**
 * R3.3: the VM's own uid: the one it has when still free and in range, else the lowest free
 * one. Synchronous, so two VMs never take the same.
 */
export function uidFor(host: QemuHost, rec: VmRecord): number {
  const base = uidBase(host);
  const taken = new Set<number>();
  for (const v of host.vms.values()) if (v.rec !== rec && v.rec.uid !== undefined) taken.add(v.rec.uid);
  const u = rec.uid;
  if (u !== undefined && u > base && u < base + VM_UID_RANGE && !taken.has(u)) return u;
  for (let c = base + 1; c < base + VM_UID_RANGE; c++) if (!taken.has(c)) return c;
  throw conflict('host.uids_full', `No free uid left in this host's VM range (${VM_UID_RANGE - 1} VMs)`);
}

export function newGuestAgent(host: QemuHost, vm: Vm): GuestAgentClient {
  return new GuestAgentClient(vm.rec.paths.guestAgentSocket, {
    timeouts: host.config.guestAgentTimeouts,
    ...(host.config.guestAgentMaxMessageBytes !== undefined
      ? { maxMessageBytes: host.config.guestAgentMaxMessageBytes }
      : {}),
  });
}

export function connectQmp(host: QemuHost, vm: Vm): Promise<QmpClient> {
  return QmpClient.connect(vm.rec.paths.qmpSocket, {
    timeoutMs: 5_000,
    timeouts: host.config.qmpTimeouts,
    ...(host.config.qmpMaxMessageBytes !== undefined
      ? { maxMessageBytes: host.config.qmpMaxMessageBytes }
      : {}),
  });
}

/** Records the serial console of the VM's current QEMU (capped and rotated: console.ts). */
export function recordConsole(host: QemuHost, vm: Vm, gen: number): void {
  void vm.console?.close();
  vm.console = ConsoleRecorder.start({
    socket: vm.rec.paths.consoleSocket,
    file: vm.rec.paths.consoleLog,
    maxBytes: host.config.consoleLogMaxBytes ?? DEFAULT_CONSOLE_LOG_BYTES,
    onRotate: () => {
      if (vm.gen !== gen || vm.rec.consoleRotated) return;
      vm.rec.consoleRotated = true;
      background(save(host, vm));
    },
  });
}

/** The last lines of this boot's console (both files once it has rotated). */
export async function consoleTail(rec: VmRecord, n: number): Promise<string[]> {
  const lines = await tail(rec.paths.consoleLog, n);
  if (lines.length >= n || !rec.consoleRotated) return lines;
  return [...(await tail(`${rec.paths.consoleLog}.1`, n - lines.length)), ...lines];
}

/**
 * An image's files and how it boots (its manifest's `boot`): `kernel` (the small image: QEMU
 * loads vmlinuz + initrd.img, root disk = rootfs.ext4) or `disk` (a full OS such as debian-12:
 * the firmware runs the bootloader on disk.raw, which boots the VPS's own kernel).
 */
export interface ImageFiles {
  dir: string;
  boot: 'kernel' | 'disk';
  kernel: string;
  initrd: string;
  /** The file a VPS disk is copied from. */
  rootfs: string;
  cmdlineFile: string;
  /** The guest command growing the root filesystem after a live disk grow. */
  growCommand: string[];
}

export function image(host: QemuHost, name: string): ImageFiles {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw invalidData('vm.image_invalid', `Invalid image name ${name}`);
  const dir = path.join(host.config.imagesDir, name);
  let boot: ImageFiles['boot'] = 'kernel';
  try {
    const m = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { boot?: unknown };
    if (m.boot === 'disk') boot = 'disk';
  } catch {
    /* no manifest: the small image's layout */
  }
  return {
    dir,
    boot,
    kernel: path.join(dir, 'vmlinuz'),
    initrd: path.join(dir, 'initrd.img'),
    rootfs: path.join(dir, boot === 'disk' ? 'disk.raw' : 'rootfs.ext4'),
    cmdlineFile: path.join(dir, 'cmdline'),
    growCommand: boot === 'disk' ? ['/usr/lib/infogere/grow-root'] : ['resize2fs', '/dev/vda'],
  };
}

export async function vmStatus(host: QemuHost, vm: Vm): Promise<VmStatus> {
  const r = vm.rec;
  let alloc = 0;
  try {
    alloc = await allocatedBytes(r.paths.disk);
  } catch {
    /* gone */
  }
  const live = r.state === 'running' || r.state === 'paused' || r.state === 'stopping';
  const pending: VmStatus['pending'] = {};
  if (live && r.bootVcpus !== null && r.bootVcpus !== r.spec.vcpus) pending.vcpus = r.spec.vcpus;
  if (live && r.bootMemoryMiB !== null && r.bootMemoryMiB !== r.spec.memoryMiB)
    pending.memoryMiB = r.spec.memoryMiB;
  if (r.growFilesystemPending) pending.growFilesystem = true;
  return {
    id: r.spec.id,
    state: r.state,
    pid: r.pid,
    accel: r.accel,
    startedAt: r.startedAt,
    uptimeMs: r.startedAt && live ? host.clock.now().getTime() - new Date(r.startedAt).getTime() : null,
    guestAgentUp: vm.gaUp,
    guestReady: vm.guestReady,
    vcpus: r.spec.vcpus,
    memoryMiB: r.spec.memoryMiB,
    diskGiB: r.spec.diskGiB,
    diskPath: r.paths.disk,
    diskAllocatedBytes: alloc,
    pending,
    failure: r.failure,
  };
}
