// The QEMU implementation of HostDriver: one QEMU process per VPS, spawned detached (it survives
// the agent), its state kept under <dataDir>/vms/<id>/ so a new agent reattaches to it.
import type { ChildProcess } from 'node:child_process';
import { constants as fsc, existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../domain/clock.ts';
import { systemClock } from '../../domain/clock.ts';
import { conflict, invalidData, notFound, unexpectedState } from '../../domain/errors.ts';
import type {
  ExecResult,
  GuestFilesystem,
  GuestMemory,
  HostCapabilities,
  HostCapacity,
  HostDriver,
  OrphanReport,
  ResizeApplied,
  ResizeRequest,
  ResizeResult,
  StopResult,
  StopRung,
  StopRungOutcome,
  VmEvent,
  VmEventListener,
  VmEventType,
  VmNetwork,
  VmSeed,
  VmSpec,
  VmStatus,
} from '../driver.ts';
import { defaultStopLadder, isValidVmId } from '../driver.ts';
import { run, startDetached } from '../exec/run.ts';
import {
  allocatedBytes,
  createDiskFromImage,
  filesystemFreeBytes,
  GiB,
  growDisk,
  MiB,
  wipeFile,
} from '../disks/disks.ts';
import type { WipeMode } from '../disks/disks.ts';
import { StateStore, vmPaths } from '../state/store.ts';
import type { VmRecord } from '../state/store.ts';
import { writeConfigDrive } from '../image/config-drive.ts';
import { optValue, QEMU_FD, renderQemuArgv } from './argv.ts';
import type { LaunchSpec } from './argv.ts';
import {
  checkUidBase,
  closeFd,
  DEFAULT_VM_UID_BASE,
  idsInRange,
  kvmGid,
  listenUnix,
  openFd,
  readableByOthers,
  renderLaunchArgv,
  VM_UID_RANGE,
} from './confine.ts';
import { ConsoleRecorder, DEFAULT_CONSOLE_LOG_BYTES } from './console.ts';
import { GuestAgentClient, GuestAgentError } from './guest-agent.ts';
import { decideAccel, qemuVersion } from './probe.ts';
import { isAlive, isQemuOf, listInfogereQemus, readCmdline, signal, waitGone } from './process.ts';
import { QmpClient, QmpError } from './qmp.ts';
import type { QmpEvent } from './qmp.ts';

export type ConfigDriveWriter = (
  seed: VmSeed & { instanceId: string; network?: VmNetwork },
  file: string,
) => Promise<void>;

export interface QemuHostConfig {
  /** Agent state: <dataDir>/vms/<id>/ (state.json, sockets, console log, config drive). */
  dataDir: string;
  /** Images: <imagesDir>/<name>/{vmlinuz,initrd.img,rootfs.ext4,cmdline}. */
  imagesDir: string;
  /** VPS disks (default <dataDir>/disks). */
  diskDir?: string;
  /** R2.2: host resources and overcommit ratios (provider settings). */
  cpuRatio: number;
  ramRatio: number;
  cores?: number;
  memoryMiB?: number;
  /** Free space the host keeps for itself on the disks' filesystem (default 1 GiB). */
  diskMarginBytes?: number;
  /** 'auto' (default) runs the boot probe (cached); tests may force one. */
  accel?: 'auto' | 'kvm' | 'tcg';
  /** Image whose kernel the probe boots (default infogere-mini). */
  probeImage?: string;
  /** R12.4 wipe of a destroyed disk (default overwrite). */
  diskWipe?: WipeMode;
  /** Optional firmware for direct kernel boot (e.g. /usr/share/qemu/qboot.rom). */
  bios?: string;
  qemuBinary?: string;
  /** Tap name prefix listed by orphans() (the network side creates taps). */
  tapPrefix?: string;
  /** Extra network namespaces whose taps orphans() lists (tests). */
  orphanNetns?: string[];
  clock?: Clock;
  /** Registered before reattach, so events found while reattaching are not lost. */
  listener?: VmEventListener;
  /** Writes the NoCloud config drive (default: writeConfigDrive of src/agent/image/config-drive.ts). */
  writeConfigDrive?: ConfigDriveWriter;
  /** The network side's hook to remove a VPS's tap on destroy. */
  releaseTap?: (network: VmNetwork) => Promise<void>;
  /** Tests: start every VM with vCPUs stopped (-S), a guest that ignores everything. */
  startPaused?: boolean;
  qmpTimeouts?: Record<string, number>;
  guestAgentTimeouts?: Record<string, number>;
  /** How long a started QEMU gets to open its QMP socket (default 30 s). */
  startTimeoutMs?: number;
  /**
   * R3.3: QEMUs run as uids base+1 … base+65535, one per VM, never root (the probe runs as
   * base). No passwd entry needed; no user or group of the machine may fall in the range.
   */
  vmUidBase?: number;
  /** Cap of console.log and of console.log.1 (default 1 MiB each). */
  consoleLogMaxBytes?: number;
  /** Cap of one message from the guest agent / from QMP (defaults in guest-agent.ts, qmp.ts). */
  guestAgentMaxMessageBytes?: number;
  qmpMaxMessageBytes?: number;
}

interface Vm {
  rec: VmRecord;
  qmp: QmpClient | null;
  ga: GuestAgentClient | null;
  gaUp: boolean;
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

const GUEST_STATS_INTERVAL_S = 2;

async function tail(file: string, lines: number): Promise<string[]> {
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class QemuDriver implements HostDriver {
  readonly config: QemuHostConfig;
  readonly diskDir: string;
  #clock: Clock;
  #store: StateStore;
  #vms = new Map<string, Vm>();
  #listeners = new Set<VmEventListener>();
  #caps!: HostCapabilities;
  #placing: Promise<unknown> = Promise.resolve();
  #monitor: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(config: QemuHostConfig) {
    this.config = config;
    this.diskDir = config.diskDir ?? path.join(config.dataDir, 'disks');
    this.#clock = config.clock ?? systemClock;
    this.#store = new StateStore(config.dataDir);
    if (config.listener) this.#listeners.add(config.listener);
  }

  /** Opens the host: decides KVM/TCG, loads every VM's state and reattaches to running QEMUs. */
  static async open(config: QemuHostConfig): Promise<QemuDriver> {
    const d = new QemuDriver(config);
    const base = d.#uidBase();
    checkUidBase(base);
    const clash = await idsInRange(base);
    if (clash.length)
      throw new Error(
        `VM uid range ${base}…${base + VM_UID_RANGE - 1} holds accounts of this machine (${clash.join(', ')}): choose another base`,
      );
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    await mkdir(d.diskDir, { recursive: true, mode: 0o700 });
    await d.#store.init();
    d.#caps = await d.#decideCapabilities();
    for (const { record } of await d.#store.scan()) if (record) await d.#reattach(record);
    d.#monitor = setInterval(() => d.#background(d.#checkProcesses()), 1_000);
    d.#monitor.unref();
    return d;
  }

  // ------------------------------------------------------------------ host

  async capabilities(): Promise<HostCapabilities> {
    return { ...this.#caps };
  }

  async capacity(): Promise<HostCapacity> {
    const recs = [...this.#vms.values()].map((v) => v.rec);
    return {
      cores: this.#cores(),
      cpuRatio: this.config.cpuRatio,
      memoryMiB: this.#memoryMiB(),
      ramRatio: this.config.ramRatio,
      vcpusPlaced: recs.reduce((s, r) => s + r.spec.vcpus, 0),
      memoryMiBPlaced: recs.reduce((s, r) => s + r.spec.memoryMiB, 0),
      diskFreeBytes: await this.#diskFree(),
      diskReservedBytes: recs.reduce((s, r) => s + r.spec.diskGiB * GiB, 0),
      vms: recs.length,
    };
  }

  onEvent(listener: VmEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#monitor) clearInterval(this.#monitor);
    const consoles: Promise<void>[] = [];
    for (const vm of this.#vms.values()) {
      vm.gen++;
      vm.qmp?.removeAllListeners('close');
      vm.qmp?.close();
      vm.ga?.close();
      if (vm.console) consoles.push(vm.console.close());
      vm.qmp = null;
      vm.ga = null;
      vm.console = null;
    }
    await Promise.all(consoles);
  }

  #uidBase(): number {
    return this.config.vmUidBase ?? DEFAULT_VM_UID_BASE;
  }

  /**
   * R3.3: the VM's own uid: the one it has when still free and in range, else the lowest free
   * one. Synchronous, so two VMs never take the same.
   */
  #uidFor(rec: VmRecord): number {
    const base = this.#uidBase();
    const taken = new Set<number>();
    for (const v of this.#vms.values()) if (v.rec !== rec && v.rec.uid !== undefined) taken.add(v.rec.uid);
    const u = rec.uid;
    if (u !== undefined && u > base && u < base + VM_UID_RANGE && !taken.has(u)) return u;
    for (let c = base + 1; c < base + VM_UID_RANGE; c++) if (!taken.has(c)) return c;
    throw conflict('host.uids_full', `No free uid left in this host's VM range (${VM_UID_RANGE - 1} VMs)`);
  }

  #newGuestAgent(vm: Vm): GuestAgentClient {
    return new GuestAgentClient(vm.rec.paths.guestAgentSocket, {
      timeouts: this.config.guestAgentTimeouts,
      ...(this.config.guestAgentMaxMessageBytes !== undefined
        ? { maxMessageBytes: this.config.guestAgentMaxMessageBytes }
        : {}),
    });
  }

  #connectQmp(vm: Vm): Promise<QmpClient> {
    return QmpClient.connect(vm.rec.paths.qmpSocket, {
      timeoutMs: 5_000,
      timeouts: this.config.qmpTimeouts,
      ...(this.config.qmpMaxMessageBytes !== undefined
        ? { maxMessageBytes: this.config.qmpMaxMessageBytes }
        : {}),
    });
  }

  /** Records the serial console of the VM's current QEMU (capped and rotated: console.ts). */
  #recordConsole(vm: Vm, gen: number): void {
    void vm.console?.close();
    vm.console = ConsoleRecorder.start({
      socket: vm.rec.paths.consoleSocket,
      file: vm.rec.paths.consoleLog,
      maxBytes: this.config.consoleLogMaxBytes ?? DEFAULT_CONSOLE_LOG_BYTES,
      onRotate: () => {
        if (vm.gen !== gen || vm.rec.consoleRotated) return;
        vm.rec.consoleRotated = true;
        this.#background(this.#save(vm));
      },
    });
  }

  /** The last lines of this boot's console (both files once it has rotated). */
  async #consoleTail(rec: VmRecord, n: number): Promise<string[]> {
    const lines = await tail(rec.paths.consoleLog, n);
    if (lines.length >= n || !rec.consoleRotated) return lines;
    return [...(await tail(`${rec.paths.consoleLog}.1`, n - lines.length)), ...lines];
  }

  #cores(): number {
    return this.config.cores ?? os.cpus().length;
  }
  #memoryMiB(): number {
    return this.config.memoryMiB ?? Math.floor(os.totalmem() / MiB);
  }
  async #diskFree(): Promise<number> {
    return Math.max(0, (await filesystemFreeBytes(this.diskDir)) - (this.config.diskMarginBytes ?? GiB));
  }

  async #decideCapabilities(): Promise<HostCapabilities> {
    const version = await qemuVersion(this.config.qemuBinary);
    let accel: 'kvm' | 'tcg' = 'tcg';
    let reason: string;
    const forced = this.config.accel ?? 'auto';
    if (forced !== 'auto') {
      accel = forced;
      reason = `forced by configuration (${forced})`;
    } else {
      const kernel = path.join(this.config.imagesDir, this.config.probeImage ?? 'infogere-mini', 'vmlinuz');
      if (!existsSync(kernel)) {
        reason = `TCG: no kernel to probe KVM with (${kernel})`;
      } else {
        const uid = this.#uidBase();
        const d = await decideAccel({
          dataDir: this.config.dataDir,
          kernel,
          qemuBinary: this.config.qemuBinary,
          now: () => this.#clock.now(),
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

  // ------------------------------------------------------------------ helpers

  #emit(type: VmEventType, vmId: string, reason?: string): void {
    const e: VmEvent = { type, vmId, at: this.#clock.now().toISOString() };
    if (reason !== undefined) e.reason = reason;
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  #get(id: string): Vm {
    const vm = this.#vms.get(id);
    if (!vm) throw notFound('vm.not_found', `No VM ${id} on this host`, { id });
    return vm;
  }

  #requireState(vm: Vm, allowed: VmStatus['state'][], op: string): void {
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

  async #withBusy<T>(vm: Vm, op: string, fn: () => Promise<T>): Promise<T> {
    vm.busy = op;
    try {
      return await fn();
    } finally {
      vm.busy = null;
    }
  }

  async #save(vm: Vm): Promise<void> {
    // A VM being destroyed may lose its directory under a late writer: nothing to keep then.
    if (this.#vms.get(vm.rec.spec.id) === vm && existsSync(vm.rec.paths.dir)) await this.#store.save(vm.rec);
  }

  /** Work started by events (process exit, QMP close, watchers): its failure must not crash the agent. */
  #background(p: Promise<unknown>): void {
    p.catch((e: unknown) => process.emitWarning(`infogere agent: background task failed: ${errMsg(e)}`));
  }

  /** Serialises placements so two defines never both take the last room (R2.1, R2.2). */
  #serialPlacement<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#placing.then(fn);
    this.#placing = p.catch(() => undefined);
    return p;
  }

  async #checkPlacement(
    id: string,
    next: { vcpus: number; memoryMiB: number; extraDiskBytes: number },
  ): Promise<void> {
    const others = [...this.#vms.values()].filter((v) => v.rec.spec.id !== id).map((v) => v.rec.spec);
    const vcpus = others.reduce((s, r) => s + r.vcpus, 0) + next.vcpus;
    const mem = others.reduce((s, r) => s + r.memoryMiB, 0) + next.memoryMiB;
    const maxVcpus = Math.floor(this.#cores() * this.config.cpuRatio);
    const maxMem = Math.floor(this.#memoryMiB() * this.config.ramRatio);
    // R2.2: vCPU and RAM are shared, within the host's overcommit ratios.
    if (vcpus > maxVcpus)
      throw conflict(
        'host.cpu_full',
        `R2.2: ${vcpus} vCPUs would exceed this host's ${this.#cores()} cores × ${this.config.cpuRatio} = ${maxVcpus}`,
        {
          requested: next.vcpus,
          placed: vcpus - next.vcpus,
          limit: maxVcpus,
        },
      );
    if (mem > maxMem)
      throw conflict(
        'host.ram_full',
        `R2.2: ${mem} MiB of RAM would exceed this host's ${this.#memoryMiB()} MiB × ${this.config.ramRatio} = ${maxMem} MiB`,
        {
          requested: next.memoryMiB,
          placed: mem - next.memoryMiB,
          limit: maxMem,
        },
      );
    // R2.1: disk space is dedicated: only what the filesystem really has free counts.
    if (next.extraDiskBytes > 0) {
      const free = await this.#diskFree();
      if (next.extraDiskBytes > free)
        throw conflict(
          'host.disk_full',
          `R2.1: ${(next.extraDiskBytes / GiB).toFixed(1)} GiB of dedicated disk needed, ${(free / GiB).toFixed(1)} GiB free on this host`,
          { neededBytes: next.extraDiskBytes, freeBytes: free },
        );
    }
  }

  #image(name: string): { kernel: string; initrd: string; rootfs: string; cmdlineFile: string; dir: string } {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
      throw invalidData('vm.image_invalid', `Invalid image name ${name}`);
    const dir = path.join(this.config.imagesDir, name);
    return {
      dir,
      kernel: path.join(dir, 'vmlinuz'),
      initrd: path.join(dir, 'initrd.img'),
      rootfs: path.join(dir, 'rootfs.ext4'),
      cmdlineFile: path.join(dir, 'cmdline'),
    };
  }

  async #status(vm: Vm): Promise<VmStatus> {
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
      uptimeMs: r.startedAt && live ? this.#clock.now().getTime() - new Date(r.startedAt).getTime() : null,
      guestAgentUp: vm.gaUp,
      vcpus: r.spec.vcpus,
      memoryMiB: r.spec.memoryMiB,
      diskGiB: r.spec.diskGiB,
      diskPath: r.paths.disk,
      diskAllocatedBytes: alloc,
      pending,
      failure: r.failure,
    };
  }

  #validateSpec(spec: VmSpec): void {
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

  // ------------------------------------------------------------------ define / destroy

  async define(spec: VmSpec): Promise<VmStatus> {
    this.#validateSpec(spec);
    const paths = vmPaths(this.config.dataDir, this.diskDir, spec.id);
    if (Buffer.byteLength(paths.guestAgentSocket) > 107 || Buffer.byteLength(paths.qmpSocket) > 107)
      throw invalidData(
        'vm.path_too_long',
        `Socket paths under ${paths.dir} exceed the 107-byte unix socket limit`,
      );
    const img = this.#image(spec.image);
    for (const f of [img.kernel, img.initrd, img.rootfs])
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

    return this.#serialPlacement(async () => {
      if (this.#vms.has(spec.id) || existsSync(paths.dir) || existsSync(paths.disk))
        throw conflict('vm.exists', `VM ${spec.id} already exists on this host`, { id: spec.id });
      await this.#checkPlacement(spec.id, {
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
          this.#writeSeed(spec, paths.seed),
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
          accel: this.#caps.accel,
          bootVcpus: null,
          bootMemoryMiB: null,
          growFilesystemPending: false,
          failure: null,
        };
        rec.uid = this.#uidFor(rec); // synchronous with the set below: no two VMs share a uid
        const vm = this.#newVm(rec);
        this.#vms.set(spec.id, vm);
        await this.#store.save(rec);
        return this.#status(vm);
      } catch (e) {
        this.#vms.delete(spec.id);
        await rm(paths.disk, { force: true });
        await rm(paths.dir, { recursive: true, force: true });
        throw e;
      }
    });
  }

  async #writeSeed(spec: VmSpec, file: string): Promise<void> {
    const writer = this.config.writeConfigDrive ?? writeConfigDrive;
    const seedSpec: VmSeed & { instanceId: string; network?: VmNetwork } = {
      ...spec.seed,
      instanceId: spec.id,
    };
    if (spec.network) seedSpec.network = spec.network;
    await writer(seedSpec, file);
  }

  #newVm(rec: VmRecord): Vm {
    return {
      rec,
      qmp: null,
      ga: null,
      gaUp: false,
      busy: null,
      expectingExit: null,
      lastShutdown: null,
      child: null,
      console: null,
      gen: 0,
      exitWaiters: [],
    };
  }

  async destroy(id: string): Promise<{ id: string; wiped: string[] }> {
    const vm = this.#get(id);
    if (vm.busy) throw conflict('vm.busy', `VM ${id} is busy (${vm.busy}); destroy refused`, { id });
    return this.#withBusy(vm, 'destroy', async () => {
      const wasLive = vm.rec.pid !== null && (await isAlive(vm.rec.pid));
      if (wasLive)
        await this.#stopByLadder(
          vm,
          [
            { kind: 'sigterm', timeoutMs: 5_000 },
            { kind: 'sigkill', timeoutMs: 5_000 },
          ],
          'destroyed',
        );
      await this.#detach(vm);
      const p = vm.rec.paths;
      const wiped: string[] = [];
      const mode = this.config.diskWipe ?? 'overwrite';
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
      await this.#store.remove(id);
      this.#vms.delete(id);
      if (vm.rec.spec.network && this.config.releaseTap) await this.config.releaseTap(vm.rec.spec.network);
      return { id, wiped };
    });
  }

  // ------------------------------------------------------------------ start / reattach

  async start(id: string): Promise<VmStatus> {
    const vm = this.#get(id);
    this.#requireState(vm, ['stopped', 'failed'], 'start');
    return this.#withBusy(vm, 'start', async () => {
      await this.#launch(vm);
      return this.#status(vm);
    });
  }

  #launchSpec(rec: VmRecord): LaunchSpec {
    const img = this.#image(rec.spec.image);
    let cmdline = 'console=ttyS0 panic=-1';
    try {
      cmdline = readFileSync(img.cmdlineFile, 'utf8').trim() || cmdline;
    } catch {
      /* default */
    }
    const ls: LaunchSpec = {
      id: rec.spec.id,
      accel: this.#caps.accel,
      vcpus: rec.spec.vcpus,
      memoryMiB: rec.spec.memoryMiB,
      kernel: img.kernel,
      initrd: img.initrd,
      cmdline,
      disk: rec.paths.disk,
      seed: rec.paths.seed,
    };
    if (rec.spec.network) ls.network = { mac: rec.spec.network.mac };
    if (this.config.bios) ls.bios = this.config.bios;
    if (this.config.qemuBinary) ls.qemuBinary = this.config.qemuBinary;
    if (this.config.startPaused) ls.startPaused = true;
    return ls;
  }

  async #launch(vm: Vm): Promise<void> {
    const r = vm.rec;
    const p = r.paths;
    // An agent killed between spawning QEMU and saving its pid leaves a QEMU this state does
    // not know: it owns this VM's sockets and disk. Stop it first, so one VM never has two
    // processes on one disk (its command line names the disk: the fd set's label, or the
    // file of a QEMU started before confinement).
    for (const q of await listInfogereQemus()) {
      if (q.vmId === r.spec.id && q.cmdline.some((a) => a.includes(optValue(p.disk)))) {
        signal(q.pid, 'SIGKILL');
        await waitGone(q.pid, 10_000);
      }
    }
    for (const f of [p.qmpSocket, p.guestAgentSocket, p.consoleSocket, p.pidFile])
      await rm(f, { force: true });
    if (existsSync(p.consoleLog)) await rename(p.consoleLog, `${p.consoleLog}.1`); // previous boot kept
    r.consoleRotated = false;
    const ls = this.#launchSpec(r);
    // R3.3: QEMU never runs as root: its own uid, no supplementary group (the kvm group as its
    // group when KVM is used), no capability, QEMU's seccomp sandbox (argv.ts). It reads the
    // image by path (world-readable) and gets everything of the platform's as descriptors.
    const uid = (r.uid = this.#uidFor(r)); // taken at once: no other launch may pick it meanwhile
    const gid = this.#caps.accel === 'kvm' ? ((await kvmGid()) ?? uid) : uid;
    const net = r.spec.network;
    const argv = renderLaunchArgv(
      { uid, gid, ...(net ? { tap: net.tap, ...(net.netns ? { netns: net.netns } : {}) } : {}) },
      renderQemuArgv(ls),
    );
    for (const f of [ls.kernel, ls.initrd, ...(ls.bios ? [ls.bios] : [])])
      if (!(await readableByOthers(f)))
        throw unexpectedState(
          'vm.image_unreadable',
          `QEMU runs unprivileged and cannot read ${f}: images must be readable by all (o+r, directories o+x)`,
          { id: r.spec.id, file: f },
        );
    const fds: (number | 'ignore')[] = [];
    const give = (n: number, fd: number) => {
      while (fds.length < n - 3) fds.push('ignore');
      fds[n - 3] = fd;
    };
    const opened: number[] = [];
    const listening: { close(): void }[] = [];
    let child: ChildProcess;
    let spawnError: Error | null = null;
    try {
      const disk = await openFd(p.disk, fsc.O_RDWR);
      opened.push(disk);
      give(QEMU_FD.disk, disk);
      if (ls.seed) {
        const seed = await openFd(p.seed, fsc.O_RDONLY);
        opened.push(seed);
        give(QEMU_FD.seed, seed);
      }
      for (const [n, file] of [
        [QEMU_FD.qmp, p.qmpSocket],
        [QEMU_FD.guestAgent, p.guestAgentSocket],
        [QEMU_FD.console, p.consoleSocket],
      ] as const) {
        const l = await listenUnix(file);
        listening.push(l);
        give(n, l.fd);
      }
      // The tap (QEMU_FD.tap) is opened by the launcher, in the tap's namespace (confine.ts).
      const log = await open(p.qemuLog, 'w', 0o600);
      try {
        child = startDetached(argv, { logFile: log.fd, fds });
        child.once('error', (e) => (spawnError = e));
      } finally {
        await log.close();
      }
    } catch (e) {
      throw unexpectedState('vm.start_failed', `VM ${r.spec.id} did not start: ${errMsg(e)}`, {
        id: r.spec.id,
      });
    } finally {
      // QEMU has its copies now; ours go (the sockets' paths stay: QEMU listens on them).
      for (const l of listening) l.close();
      for (const fd of opened) await closeFd(fd);
    }
    if (!child.pid) {
      await new Promise((res) => setImmediate(res));
      throw unexpectedState(
        'vm.start_failed',
        `QEMU did not start for ${r.spec.id}: ${(spawnError as Error | null)?.message ?? 'no process'}`,
        { id: r.spec.id },
      );
    }
    vm.gen++;
    const gen = vm.gen;
    vm.child = child;
    vm.lastShutdown = null;
    vm.expectingExit = null;
    vm.gaUp = false;
    // Connected at once: QEMU accepts it before the guest prints anything (the socket exists).
    this.#recordConsole(vm, gen);
    r.state = 'starting';
    r.pid = child.pid;
    r.argv = argv;
    r.accel = this.#caps.accel;
    r.startedAt = this.#clock.now().toISOString();
    r.bootVcpus = r.spec.vcpus;
    r.bootMemoryMiB = r.spec.memoryMiB;
    r.failure = null;
    await this.#save(vm);
    let exited: { code: number | null; signal: string | null } | null = null;
    child.once('exit', (code, sig) => {
      exited = { code, signal: sig };
      this.#background(this.#onProcessExit(vm, gen, { code, signal: sig }));
    });
    // QMP: the socket is there already (ours); QEMU greets once it is up.
    const deadline = Date.now() + (this.config.startTimeoutMs ?? 30_000);
    let qmp: QmpClient | null = null;
    while (!qmp) {
      if (exited) break;
      if (existsSync(p.qmpSocket)) {
        try {
          qmp = await this.#connectQmp(vm);
          break;
        } catch {
          /* not ready yet */
        }
      }
      if (Date.now() > deadline) break;
      await sleep(10);
    }
    if (!qmp) {
      if (!exited) {
        signal(child.pid, 'SIGKILL');
        await waitGone(child.pid, 5_000);
      }
      const why = (await tail(p.qemuLog, 5)).join(' | ');
      r.state = 'failed';
      r.failure = `QEMU did not come up: ${why || 'no QMP socket'}`;
      r.pid = null;
      await this.#save(vm);
      throw unexpectedState('vm.start_failed', `VM ${r.spec.id} did not start: ${why || 'no QMP socket'}`, {
        id: r.spec.id,
      });
    }
    this.#attachQmp(vm, qmp, gen);
    try {
      await qmp.execute('qom-set', {
        path: '/machine/peripheral/balloon0',
        property: 'guest-stats-polling-interval',
        value: GUEST_STATS_INTERVAL_S,
      });
    } catch {
      /* statistics are optional */
    }
    r.state = this.config.startPaused ? 'paused' : 'running';
    await this.#save(vm);
    this.#emit('started', r.spec.id);
    if (!this.config.startPaused) this.#watchGuestAgent(vm, gen);
  }

  #attachQmp(vm: Vm, qmp: QmpClient, gen: number): void {
    vm.qmp = qmp;
    qmp.on('event', (e: QmpEvent) => {
      if (vm.gen !== gen) return;
      if (e.event === 'SHUTDOWN')
        vm.lastShutdown = { guest: Boolean(e.data.guest), reason: String(e.data.reason ?? 'unknown') };
      if (e.event === 'RESET') {
        // The guest rebooted: its agent comes back later.
        vm.gaUp = false;
        this.#watchGuestAgent(vm, gen);
      }
    });
    qmp.on('protocol_error', () => undefined);
    qmp.on('close', () => {
      if (vm.gen !== gen || this.#closed) return;
      vm.qmp = null;
      this.#background(
        (async () => {
          const pid = vm.rec.pid;
          if (pid === null) return;
          if (await waitGone(pid, 3_000)) {
            if (!vm.child) await this.#onProcessExit(vm, gen, null);
            return;
          }
          // QEMU alive but the connection dropped: reconnect.
          try {
            const q = await this.#connectQmp(vm);
            if (vm.gen === gen) this.#attachQmp(vm, q, gen);
            else q.close();
          } catch {
            /* the process monitor takes over */
          }
        })(),
      );
    });
  }

  #watchGuestAgent(vm: Vm, gen: number): void {
    if (!vm.ga) vm.ga = this.#newGuestAgent(vm);
    const ga = vm.ga;
    this.#background(
      (async () => {
        while (vm.gen === gen && !this.#closed && !vm.gaUp) {
          if (vm.rec.state === 'running' && (await ga.ping(1_000))) {
            if (vm.gen !== gen || vm.gaUp) return;
            vm.gaUp = true;
            this.#emit('guest_agent_up', vm.rec.spec.id);
            return;
          }
          await sleep(100);
        }
      })(),
    );
  }

  async #reattach(rec: VmRecord): Promise<void> {
    const vm = this.#newVm(rec);
    this.#vms.set(rec.spec.id, vm);
    const wasLive = ['starting', 'running', 'paused', 'stopping'].includes(rec.state);
    if (rec.pid !== null && (await isQemuOf(rec.pid, rec.spec.id))) {
      vm.gen++;
      const gen = vm.gen;
      try {
        // The console first: what the guest prints from now on is recorded again.
        this.#recordConsole(vm, gen);
        const qmp = await this.#connectQmp(vm);
        this.#attachQmp(vm, qmp, gen);
        const st = await qmp.execute<{ status: string }>('query-status');
        rec.state =
          st.status === 'paused' || st.status === 'prelaunch'
            ? 'paused'
            : st.status === 'shutdown'
              ? 'stopping'
              : 'running';
      } catch {
        rec.state = 'running'; // the process is there; the monitor watches it
      }
      await this.#store.save(rec);
      if (rec.state === 'running') this.#watchGuestAgent(vm, gen);
      return;
    }
    if (wasLive) {
      const lines = await this.#consoleTail(rec, 5);
      rec.state = 'failed';
      rec.failure = `QEMU (pid ${rec.pid}) ended while the agent was away; console: ${lines.join(' | ') || '(empty)'}`;
      rec.pid = null;
      await this.#store.save(rec);
      this.#emit('crashed', rec.spec.id, rec.failure);
    } else if (rec.pid !== null) {
      rec.pid = null;
      await this.#store.save(rec);
    }
  }

  async #checkProcesses(): Promise<void> {
    for (const vm of this.#vms.values()) {
      const pid = vm.rec.pid;
      if (pid === null || vm.busy === 'start') continue;
      if (vm.child && vm.child.exitCode === null && vm.child.signalCode === null) continue; // its exit event reports
      if (!(await isAlive(pid))) await this.#onProcessExit(vm, vm.gen, null);
    }
  }

  /** A QEMU process ended: expected (stop ladder), guest power-off, or a crash. */
  async #onProcessExit(
    vm: Vm,
    gen: number,
    exit: { code: number | null; signal: string | null } | null,
  ): Promise<void> {
    if (vm.gen !== gen || vm.rec.pid === null) return;
    vm.gen++;
    const r = vm.rec;
    const id = r.spec.id;
    await this.#detach(vm); // the console recorder done: the next start may rotate its log
    for (const f of [r.paths.qmpSocket, r.paths.guestAgentSocket, r.paths.consoleSocket, r.paths.pidFile])
      await rm(f, { force: true });
    r.pid = null;
    r.startedAt = null;
    r.bootVcpus = null;
    r.bootMemoryMiB = null;
    const waiters = vm.exitWaiters.splice(0);
    if (vm.expectingExit) {
      r.state = 'stopped';
      await this.#save(vm);
      waiters.forEach((w) => w());
      return; // the caller emits `stopped` with how it ended
    }
    if (vm.lastShutdown?.guest && vm.lastShutdown.reason === 'guest-shutdown') {
      r.state = 'stopped';
      await this.#save(vm);
      waiters.forEach((w) => w());
      this.#emit('stopped', id, 'the guest powered off');
      return;
    }
    const how = exit
      ? exit.signal
        ? `QEMU killed by ${exit.signal}`
        : `QEMU exited with code ${exit.code}`
      : 'QEMU ended (exit status unknown: not a child of this agent)';
    const said = vm.lastShutdown ? `; QEMU shutdown reason: ${vm.lastShutdown.reason}` : '';
    const qemuLog = (await tail(r.paths.qemuLog, 3)).join(' | ');
    const consoleLines = (await this.#consoleTail(r, 5)).join(' | ');
    r.state = 'failed';
    r.failure = `${how}${said}${qemuLog ? `; qemu: ${qemuLog}` : ''}; console: ${consoleLines || '(empty)'}`;
    await this.#save(vm);
    waiters.forEach((w) => w());
    this.#emit('crashed', id, r.failure);
  }

  /** Drops the connections to a VM's QEMU; resolves once its console recorder has let go of the log. */
  #detach(vm: Vm): Promise<void> {
    vm.qmp?.removeAllListeners('close');
    vm.qmp?.close();
    vm.ga?.close();
    const recorded = vm.console?.close() ?? Promise.resolve();
    vm.qmp = null;
    vm.ga = null;
    vm.console = null;
    vm.gaUp = false;
    vm.child = null;
    return recorded;
  }

  async #waitExit(vm: Vm, timeoutMs: number): Promise<boolean> {
    if (vm.rec.pid === null) return true;
    let done!: () => void;
    const exited = new Promise<void>((r) => (done = r));
    vm.exitWaiters.push(done);
    const pid = vm.rec.pid;
    const deadline = Date.now() + timeoutMs;
    let ok = false;
    while (Date.now() < deadline) {
      const r = await Promise.race([
        exited.then(() => true),
        sleep(Math.min(100, Math.max(1, deadline - Date.now()))).then(() => false),
      ]);
      if (r || vm.rec.pid === null) {
        ok = true;
        break;
      }
      if (
        !(await isAlive(pid)) &&
        !(vm.child && vm.child.exitCode === null && vm.child.signalCode === null)
      ) {
        await this.#onProcessExit(vm, vm.gen, null);
        ok = true;
        break;
      }
    }
    vm.exitWaiters = vm.exitWaiters.filter((w) => w !== done);
    if (!ok && vm.rec.pid !== null && vm.child && !(await isAlive(pid))) {
      // exited between checks; the child's exit event is on its way
      await Promise.race([exited, sleep(500)]);
      ok = vm.rec.pid === null;
    }
    return ok;
  }

  // ------------------------------------------------------------------ stop ladder

  async shutdown(id: string, ladder: StopRung[] = [...defaultStopLadder]): Promise<StopResult> {
    const vm = this.#get(id);
    this.#requireState(vm, ['running', 'paused'], 'shutdown');
    if (!Array.isArray(ladder) || ladder.length === 0)
      throw invalidData('vm.ladder_invalid', 'The stop ladder needs at least one rung');
    return this.#withBusy(vm, 'shutdown', () => this.#stopByLadder(vm, ladder, null));
  }

  async #stopByLadder(vm: Vm, ladder: StopRung[], why: string | null): Promise<StopResult> {
    const id = vm.rec.spec.id;
    const t0 = Date.now();
    const rungs: StopRungOutcome[] = [];
    const pid = vm.rec.pid;
    vm.expectingExit = why ?? 'shutdown';
    const before = vm.rec.state;
    vm.rec.state = 'stopping';
    await this.#save(vm);
    if (before === 'paused' && vm.qmp && ladder.some((r) => r.kind === 'guest_agent' || r.kind === 'acpi')) {
      // A paused (suspended) guest cannot hear a polite request: let it run first (briefly bounded).
      await vm.qmp.execute('cont', undefined, { timeoutMs: 1_000 }).catch(() => undefined);
    }
    let endedBy: StopRung['kind'] | null = null;
    for (const rung of ladder) {
      const r0 = Date.now();
      let outcome: StopRungOutcome['outcome'] = 'sent';
      let error: string | undefined;
      if (pid === null || vm.rec.pid === null) {
        endedBy = rung.kind;
        break;
      }
      try {
        switch (rung.kind) {
          case 'guest_agent': {
            const ga = vm.ga ?? this.#newGuestAgent(vm);
            vm.ga = ga;
            // Bounded by the rung's own timeout, even when a watcher's ping is queued first.
            const bound = <T>(p: Promise<T>, fallback: T) =>
              Promise.race([p, sleep(Math.max(0, rung.timeoutMs - (Date.now() - r0))).then(() => fallback)]);
            if (await bound(ga.ping(Math.min(1_500, rung.timeoutMs)), false)) {
              const sent = await bound(
                ga.execute('guest-shutdown', { mode: 'powerdown' }).then(() => true),
                false,
              );
              if (!sent) throw new Error('guest-shutdown not delivered within the rung timeout');
            } else outcome = 'skipped';
            break;
          }
          case 'acpi':
            if (!vm.qmp) throw new Error('no QMP connection');
            await vm.qmp.execute('system_powerdown', undefined, {
              timeoutMs: Math.min(rung.timeoutMs, vm.qmp.timeoutFor('system_powerdown')),
            });
            break;
          case 'sigterm':
            if (!signal(pid, 'SIGTERM')) outcome = 'failed';
            break;
          case 'sigkill':
            if (!signal(pid, 'SIGKILL')) outcome = 'failed';
            break;
        }
      } catch (e) {
        outcome = 'failed';
        error = errMsg(e);
      }
      const left = rung.timeoutMs - (Date.now() - r0);
      const ended =
        outcome === 'skipped'
          ? !(await isAlive(pid)) && (await this.#waitExit(vm, 1_000))
          : await this.#waitExit(vm, Math.max(0, left));
      const o: StopRungOutcome = { kind: rung.kind, outcome, ended, elapsedMs: Date.now() - r0 };
      if (error) o.error = error;
      rungs.push(o);
      if (ended) {
        endedBy = rung.kind;
        break;
      }
    }
    if (!endedBy) {
      // Even SIGKILL did not end it within its timeout (uninterruptible I/O...): report, never hang.
      vm.expectingExit = null;
      vm.rec.state = (await isAlive(pid ?? -1)) ? 'failed' : 'stopped';
      vm.rec.failure = `stop ladder exhausted after ${Date.now() - t0} ms; QEMU pid ${pid} still present`;
      await this.#save(vm);
      throw unexpectedState('vm.stop_failed', vm.rec.failure, { id, rungs });
    }
    vm.expectingExit = null;
    this.#emit('stopped', id, why ? `${why} (${endedBy})` : `stop ladder ended by ${endedBy}`);
    return { id, endedBy, elapsedMs: Date.now() - t0, rungs };
  }

  async powerOff(id: string): Promise<VmStatus> {
    const vm = this.#get(id);
    this.#requireState(vm, ['running', 'paused'], 'power off');
    return this.#withBusy(vm, 'power_off', async () => {
      await this.#stopByLadder(
        vm,
        [
          { kind: 'sigterm', timeoutMs: 5_000 },
          { kind: 'sigkill', timeoutMs: 5_000 },
        ],
        'powered off',
      );
      return this.#status(vm);
    });
  }

  async reboot(id: string): Promise<VmStatus> {
    const vm = this.#get(id);
    this.#requireState(vm, ['running'], 'reboot');
    return this.#withBusy(vm, 'reboot', async () => {
      const r = vm.rec;
      if (r.bootVcpus !== r.spec.vcpus || r.bootMemoryMiB !== r.spec.memoryMiB) {
        // Pending vCPU/RAM changes need a new QEMU process: a full stop and start.
        await this.#stopByLadder(vm, [...defaultStopLadder], 'rebooting to apply a resize');
        await this.#launch(vm);
        return this.#status(vm);
      }
      let done = false;
      if (vm.gaUp && vm.ga) {
        try {
          await vm.ga.execute('guest-shutdown', { mode: 'reboot' });
          done = true;
        } catch {
          /* fall back to a reset */
        }
      }
      if (!done) {
        if (!vm.qmp) throw unexpectedState('vm.no_qmp', `No QMP connection to VM ${id}`);
        await this.#q(vm, vm.qmp.execute('system_reset'));
      }
      vm.gaUp = false;
      this.#watchGuestAgent(vm, vm.gen);
      return this.#status(vm);
    });
  }

  async pause(id: string): Promise<VmStatus> {
    const vm = this.#get(id);
    this.#requireState(vm, ['running'], 'pause');
    return this.#withBusy(vm, 'pause', async () => {
      if (!vm.qmp) throw unexpectedState('vm.no_qmp', `No QMP connection to VM ${id}`);
      await this.#q(vm, vm.qmp.execute('stop'));
      vm.rec.state = 'paused';
      await this.#save(vm);
      this.#emit('paused', id);
      return this.#status(vm);
    });
  }

  async resume(id: string): Promise<VmStatus> {
    const vm = this.#get(id);
    this.#requireState(vm, ['paused'], 'resume');
    return this.#withBusy(vm, 'resume', async () => {
      if (!vm.qmp) throw unexpectedState('vm.no_qmp', `No QMP connection to VM ${id}`);
      await this.#q(vm, vm.qmp.execute('cont'));
      vm.rec.state = 'running';
      await this.#save(vm);
      this.#emit('resumed', id);
      if (!vm.gaUp) this.#watchGuestAgent(vm, vm.gen);
      return this.#status(vm);
    });
  }

  // ------------------------------------------------------------------ resize / status

  async resize(id: string, req: ResizeRequest): Promise<ResizeResult> {
    const vm = this.#get(id);
    this.#requireState(vm, ['stopped', 'running', 'paused', 'failed'], 'resize');
    const s = vm.rec.spec;
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
    return this.#withBusy(vm, 'resize', () =>
      this.#serialPlacement(async () => {
        await this.#checkPlacement(id, { vcpus, memoryMiB, extraDiskBytes: (diskGiB - s.diskGiB) * GiB });
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
              await this.#q(vm, vm.qmp.execute('block_resize', { 'node-name': 'vda', size: diskGiB * GiB }));
              res.diskGiB = 'live';
              // The guest grows its filesystem at every boot; now too when its agent is there.
              let grown = false;
              if (vm.gaUp && vm.ga && vm.rec.state === 'running') {
                const r = await vm.ga
                  .exec(['resize2fs', '/dev/vda'], { timeoutMs: 60_000 })
                  .catch(() => null);
                grown = r !== null && r.exitCode === 0;
              }
              vm.rec.growFilesystemPending = !grown;
            }
          }
        }
        await this.#save(vm);
        return res;
      }),
    );
  }

  async status(id: string): Promise<VmStatus> {
    return this.#status(this.#get(id));
  }

  async list(): Promise<VmStatus[]> {
    return Promise.all([...this.#vms.values()].map((v) => this.#status(v)));
  }

  async consoleLog(id: string, opts: { lines?: number } = {}): Promise<{ id: string; lines: string[] }> {
    const vm = this.#get(id);
    const n = Math.min(Math.max(1, opts.lines ?? 50), 2_000);
    return { id, lines: await this.#consoleTail(vm.rec, n) };
  }

  // ------------------------------------------------------------------ guest agent
  // R3.3/R3.4: root in the guest is the provider's, through this channel only: a unix socket in
  // the VM's 0700 directory on the host, never reachable from the client's side.

  async #agent(id: string, op: string): Promise<{ vm: Vm; ga: GuestAgentClient }> {
    const vm = this.#get(id);
    if (vm.rec.state !== 'running')
      throw conflict('vm.wrong_state', `VM ${id} is ${vm.rec.state}; ${op} needs running`, {
        id,
        state: vm.rec.state,
      });
    if (!vm.ga) vm.ga = this.#newGuestAgent(vm);
    if (!vm.gaUp) {
      if (!(await vm.ga.ping(1_500)))
        throw conflict(
          'vm.guest_agent_down',
          `The guest agent of VM ${id} does not answer (booting, or stopped in the guest)`,
          { id },
        );
      vm.gaUp = true;
    }
    return { vm, ga: vm.ga };
  }

  /** Runs a guest-agent call; its failures become DomainErrors carrying the command and timeout. */
  async #guest<T>(id: string, op: string, fn: (ga: GuestAgentClient, vm: Vm) => Promise<T>): Promise<T> {
    const { vm, ga } = await this.#agent(id, op);
    try {
      return await fn(ga, vm);
    } catch (e) {
      throw this.#translate(vm, e);
    }
  }

  async #q<T>(vm: Vm, p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      throw this.#translate(vm, e);
    }
  }

  /** Agent errors as DomainErrors: the command, whether it timed out, QEMU's error class. */
  #translate(vm: Vm, e: unknown): unknown {
    const id = vm.rec.spec.id;
    if (e instanceof GuestAgentError) {
      if (e.command === 'guest-sync-delimited' || e.command === 'connect' || e.errorClass === 'Closed') {
        // The agent stopped answering: watch for it again, and say so as a state problem.
        if (vm.gaUp) {
          vm.gaUp = false;
          this.#watchGuestAgent(vm, vm.gen);
        }
        return conflict(
          'vm.guest_agent_down',
          `The guest agent of VM ${id} stopped answering (${e.message})`,
          { id, command: e.command, timedOut: e.timedOut },
        );
      }
      return unexpectedState('vm.guest_agent_error', e.message, {
        id,
        command: e.command,
        timedOut: e.timedOut,
        errorClass: e.errorClass,
      });
    }
    if (e instanceof QmpError)
      return unexpectedState('vm.qmp_error', e.message, {
        id,
        command: e.command,
        timedOut: e.timedOut,
        errorClass: e.errorClass,
      });
    return e;
  }

  async guestExec(
    id: string,
    argv: string[],
    opts: { timeoutMs?: number; input?: string } = {},
  ): Promise<ExecResult> {
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string') || !argv[0])
      throw invalidData('vm.exec_argv', 'guestExec takes an argv array of strings (never a shell string)');
    const execOpts: { timeoutMs?: number; input?: string } = { timeoutMs: opts.timeoutMs ?? 60_000 };
    if (opts.input !== undefined) execOpts.input = opts.input;
    const r = await this.#guest(id, 'guest exec', (ga) => ga.exec(argv, execOpts));
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
  }

  async guestFilesystems(id: string): Promise<GuestFilesystem[]> {
    const fs = await this.#guest(id, 'filesystem usage', (ga) =>
      ga.execute<
        {
          name: string;
          mountpoint: string;
          type: string;
          'used-bytes'?: number;
          'total-bytes'?: number;
          disk?: { dev?: string }[];
        }[]
      >('guest-get-fsinfo'),
    );
    return fs.map((f) => ({
      mountpoint: f.mountpoint,
      type: f.type,
      device: f.disk?.[0]?.dev ?? f.name,
      usedBytes: f['used-bytes'] ?? null,
      totalBytes: f['total-bytes'] ?? null,
    }));
  }

  async guestMemory(id: string): Promise<GuestMemory> {
    const vm = this.#get(id);
    if (vm.rec.state !== 'running' && vm.rec.state !== 'paused')
      throw conflict('vm.wrong_state', `VM ${id} is ${vm.rec.state}; memory statistics need it running`, {
        id,
        state: vm.rec.state,
      });
    if (!vm.qmp) throw unexpectedState('vm.no_qmp', `No QMP connection to VM ${id}`);
    const bal = await this.#q(vm, vm.qmp.execute<{ actual: number }>('query-balloon'));
    const st = await this.#q(
      vm,
      vm.qmp.execute<{ stats: Record<string, number>; 'last-update': number }>('qom-get', {
        path: '/machine/peripheral/balloon0',
        property: 'guest-stats',
      }),
    );
    const v = (k: string) => {
      const n = st.stats[k];
      return n === undefined || n < 0 ? null : n;
    };
    return {
      actualBytes: bal.actual,
      totalBytes: v('stat-total-memory'),
      freeBytes: v('stat-free-memory'),
      availableBytes: v('stat-available-memory'),
      lastUpdate: st['last-update'] > 0 ? new Date(st['last-update'] * 1000).toISOString() : null,
    };
  }

  async fsfreeze(id: string): Promise<{ id: string; frozen: number }> {
    return {
      id,
      frozen: await this.#guest(id, 'fsfreeze', (ga) => ga.execute<number>('guest-fsfreeze-freeze')),
    };
  }

  async fsthaw(id: string): Promise<{ id: string; thawed: number }> {
    return { id, thawed: await this.#guest(id, 'fsthaw', (ga) => ga.execute<number>('guest-fsfreeze-thaw')) };
  }

  // ------------------------------------------------------------------ orphans

  async orphans(): Promise<OrphanReport> {
    const known = new Map([...this.#vms.values()].map((v) => [v.rec.spec.id, v.rec]));
    const report: OrphanReport = { processes: [], sockets: [], disks: [], stateDirs: [], taps: [] };
    const roots = [path.resolve(this.config.dataDir) + '/', path.resolve(this.diskDir) + '/'];
    // Processes: QEMUs named infogere-… launched from this data dir that no VM owns.
    for (const q of await listInfogereQemus()) {
      if (!q.cmdline.some((a) => roots.some((r) => a.includes(r)))) continue; // another agent's
      const rec = known.get(q.vmId);
      if (!rec || rec.pid !== q.pid) report.processes.push(q);
    }
    for (const { dir, record } of await this.#store.scan()) {
      if (!record) {
        report.stateDirs.push(dir);
        continue;
      }
      const live = record.pid !== null && (await isAlive(record.pid));
      if (!live)
        for (const s of [record.paths.qmpSocket, record.paths.guestAgentSocket, record.paths.consoleSocket])
          if (existsSync(s)) report.sockets.push(s);
    }
    const ownedDisks = new Set([...known.values()].map((r) => path.resolve(r.paths.disk)));
    for (const f of await readdir(this.diskDir).catch(() => [] as string[])) {
      const full = path.resolve(this.diskDir, f);
      if (!ownedDisks.has(full)) report.disks.push(full);
    }
    const prefix = this.config.tapPrefix ?? 'igt';
    const usedTaps = new Set(
      [...known.values()].flatMap((r) =>
        r.spec.network ? [`${r.spec.network.netns ?? ''}/${r.spec.network.tap}`] : [],
      ),
    );
    const namespaces = new Set<string>(['', ...(this.config.orphanNetns ?? [])]);
    for (const r of known.values()) if (r.spec.network?.netns) namespaces.add(r.spec.network.netns);
    for (const ns of namespaces) {
      const argv = ns ? ['ip', '-n', ns, '-j', 'link', 'show'] : ['ip', '-j', 'link', 'show'];
      const out = await run(argv, { timeoutMs: 10_000 }).catch(() => null);
      if (!out) continue;
      for (const l of JSON.parse(out.stdout || '[]') as { ifname: string }[]) {
        if (l.ifname.startsWith(prefix) && !usedTaps.has(`${ns}/${l.ifname}`))
          report.taps.push(ns ? `${ns}/${l.ifname}` : l.ifname);
      }
    }
    return report;
  }

  /** Removes what orphans() finds (disks wiped first: R12.4). Taps are listed, not removed. */
  async cleanOrphans(): Promise<OrphanReport> {
    const o = await this.orphans();
    for (const p of o.processes) {
      const argv = await readCmdline(p.pid);
      if (!argv || argv.join('\0') !== p.cmdline.join('\0')) continue;
      signal(p.pid, 'SIGTERM');
      if (!(await waitGone(p.pid, 5_000))) {
        signal(p.pid, 'SIGKILL');
        await waitGone(p.pid, 5_000);
      }
    }
    for (const s of o.sockets) await unlink(s).catch(() => undefined);
    for (const d of o.disks)
      await wipeFile(d, this.config.diskWipe ?? 'overwrite').catch(() => rm(d, { force: true }));
    for (const d of o.stateDirs) {
      const seed = path.join(d, 'seed.img');
      if (existsSync(seed)) await wipeFile(seed, 'overwrite').catch(() => undefined);
      await rm(d, { recursive: true, force: true });
    }
    return o;
  }
}
