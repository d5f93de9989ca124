// The QEMU implementation of HostDriver: one QEMU process per VPS, spawned detached (it survives
// the agent), its state kept under <dataDir>/vms/<id>/ so a new agent reattaches to it.
// This class is the facade: it holds the VM map (in the host context) and the per-VM lock
// (one operation at a time, others refused with `vm.busy`), and calls the modules that do the
// work, each a set of functions over the contexts of context.ts: host (capabilities, capacity,
// placement), lifecycle (define, destroy), launch, monitor (events, exits, reattach),
// stop-ladder, power, resize, guest (guest-agent operations), orphans.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../domain/clock.ts';
import { systemClock } from '../../domain/clock.ts';
import { conflict, invalidData } from '../../domain/errors.ts';
import type {
  BackupRepoAccess,
  BackupResult,
  RestoreResult,
  ExecResult,
  GuestFilesystem,
  GuestMemory,
  HostCapabilities,
  HostCapacity,
  HostDriver,
  OrphanReport,
  ResizeRequest,
  ResizeResult,
  StopResult,
  StopRung,
  VmEventListener,
  VmSpec,
  VmStatus,
} from '../driver.ts';
import { defaultStopLadder } from '../driver.ts';
import { StateStore } from '../state/store.ts';
import type { QemuHostConfig } from './config.ts';
import { checkUidBase, idsInRange, VM_UID_RANGE } from './confine.ts';
import type { QemuHost } from './context.ts';
import {
  background,
  consoleTail,
  getVm,
  realSystem,
  requireState,
  uidBase,
  vmStatus,
  withBusy,
} from './context.ts';
import * as backups from './backup.ts';
import * as guest from './guest.ts';
import { capacity, decideCapabilities } from './host.ts';
import { launch } from './launch.ts';
import * as lifecycle from './lifecycle.ts';
import { checkProcesses, reattach } from './monitor.ts';
import * as orphans from './orphans.ts';
import * as power from './power.ts';
import { applyResize, resizeTargets } from './resize.ts';
import { stopByLadder } from './stop-ladder.ts';

export type { ConfigDriveWriter, QemuHostConfig } from './config.ts';

const diskDirOf = (config: QemuHostConfig) => config.diskDir ?? path.join(config.dataDir, 'disks');

export class QemuDriver implements HostDriver {
  readonly config: QemuHostConfig;
  readonly diskDir: string;
  readonly #host: QemuHost;
  #monitor: NodeJS.Timeout | null = null;

  private constructor(config: QemuHostConfig, caps: HostCapabilities, clock: Clock) {
    this.config = config;
    this.diskDir = diskDirOf(config);
    this.#host = {
      config,
      diskDir: this.diskDir,
      clock,
      sys: realSystem,
      store: new StateStore(config.dataDir),
      vms: new Map(),
      listeners: new Set(config.listener ? [config.listener] : []),
      caps,
      placing: Promise.resolve(),
      closed: false,
    };
  }

  /** Opens the host: decides KVM/TCG, loads every VM's state and reattaches to running QEMUs. */
  static async open(config: QemuHostConfig): Promise<QemuDriver> {
    const clock = config.clock ?? systemClock;
    const base = uidBase({ config });
    checkUidBase(base);
    const clash = await idsInRange(base);
    if (clash.length)
      throw new Error(
        `VM uid range ${base}…${base + VM_UID_RANGE - 1} holds accounts of this machine (${clash.join(', ')}): choose another base`,
      );
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    await mkdir(diskDirOf(config), { recursive: true, mode: 0o700 });
    const d = new QemuDriver(config, await decideCapabilities({ config, clock }), clock);
    const host = d.#host;
    await host.store.init();
    for (const { record } of await host.store.scan()) if (record) await reattach(host, record);
    d.#monitor = setInterval(() => background(checkProcesses(host)), 1_000);
    d.#monitor.unref();
    return d;
  }

  // ------------------------------------------------------------------ host

  async capabilities(): Promise<HostCapabilities> {
    return { ...this.#host.caps };
  }

  capacity(): Promise<HostCapacity> {
    return capacity(this.#host);
  }

  onEvent(listener: VmEventListener): () => void {
    this.#host.listeners.add(listener);
    return () => this.#host.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#host.closed = true;
    if (this.#monitor) clearInterval(this.#monitor);
    const consoles: Promise<void>[] = [];
    for (const vm of this.#host.vms.values()) {
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

  // ------------------------------------------------------------------ define / destroy / start

  define(spec: VmSpec): Promise<VmStatus> {
    return lifecycle.define(this.#host, spec);
  }

  async destroy(id: string): Promise<{ id: string; wiped: string[] }> {
    const vm = getVm(this.#host, id);
    if (vm.busy) throw conflict('vm.busy', `VM ${id} is busy (${vm.busy}); destroy refused`, { id });
    return withBusy(vm, 'destroy', () => lifecycle.destroy(this.#host, vm));
  }

  async start(id: string): Promise<VmStatus> {
    const vm = getVm(this.#host, id);
    requireState(vm, ['stopped', 'failed'], 'start');
    return withBusy(vm, 'start', async () => {
      await launch(this.#host, vm);
      return vmStatus(this.#host, vm);
    });
  }

  // ------------------------------------------------------------------ power

  async shutdown(id: string, ladder: StopRung[] = [...defaultStopLadder]): Promise<StopResult> {
    const vm = getVm(this.#host, id);
    requireState(vm, ['running', 'paused'], 'shutdown');
    if (!Array.isArray(ladder) || ladder.length === 0)
      throw invalidData('vm.ladder_invalid', 'The stop ladder needs at least one rung');
    return withBusy(vm, 'shutdown', () => stopByLadder(this.#host, vm, ladder, null));
  }

  async powerOff(id: string): Promise<VmStatus> {
    const vm = getVm(this.#host, id);
    requireState(vm, ['running', 'paused'], 'power off');
    return withBusy(vm, 'power_off', () => power.powerOff(this.#host, vm));
  }

  async reboot(id: string): Promise<VmStatus> {
    const vm = getVm(this.#host, id);
    requireState(vm, ['running'], 'reboot');
    return withBusy(vm, 'reboot', () => power.reboot(this.#host, vm));
  }

  async pause(id: string): Promise<VmStatus> {
    const vm = getVm(this.#host, id);
    requireState(vm, ['running'], 'pause');
    return withBusy(vm, 'pause', () => power.pause(this.#host, vm));
  }

  async resume(id: string): Promise<VmStatus> {
    const vm = getVm(this.#host, id);
    requireState(vm, ['paused'], 'resume');
    return withBusy(vm, 'resume', () => power.resume(this.#host, vm));
  }

  // ------------------------------------------------------------------ resize / status

  async resize(id: string, req: ResizeRequest): Promise<ResizeResult> {
    const vm = getVm(this.#host, id);
    requireState(vm, ['stopped', 'running', 'paused', 'failed'], 'resize');
    const targets = resizeTargets(vm.rec.spec, req);
    return withBusy(vm, 'resize', () => applyResize(this.#host, vm, req, targets));
  }

  async status(id: string): Promise<VmStatus> {
    return vmStatus(this.#host, getVm(this.#host, id));
  }

  async list(): Promise<VmStatus[]> {
    return Promise.all([...this.#host.vms.values()].map((v) => vmStatus(this.#host, v)));
  }

  async consoleLog(id: string, opts: { lines?: number } = {}): Promise<{ id: string; lines: string[] }> {
    const vm = getVm(this.#host, id);
    const n = Math.min(Math.max(1, opts.lines ?? 50), 2_000);
    return { id, lines: await consoleTail(vm.rec, n) };
  }

  // ------------------------------------------------------------------ guest agent (R3.3, R3.4)

  guestExec(
    id: string,
    argv: string[],
    opts: { timeoutMs?: number; input?: string } = {},
  ): Promise<ExecResult> {
    return guest.guestExec(this.#host, id, argv, opts);
  }

  guestFilesystems(id: string): Promise<GuestFilesystem[]> {
    return guest.guestFilesystems(this.#host, id);
  }

  guestMemory(id: string): Promise<GuestMemory> {
    return guest.guestMemory(this.#host, id);
  }

  fsfreeze(id: string): Promise<{ id: string; frozen: number }> {
    return guest.fsfreeze(this.#host, id);
  }

  fsthaw(id: string): Promise<{ id: string; thawed: number }> {
    return guest.fsthaw(this.#host, id);
  }

  // ------------------------------------------------------------------ backups (R3.6, R3.7)

  async backup(id: string, repo: BackupRepoAccess, opts: { tags?: string[] } = {}): Promise<BackupResult> {
    const vm = getVm(this.#host, id);
    requireState(vm, ['running', 'stopped', 'failed'], 'backup');
    return withBusy(vm, 'backup', () => backups.backup(this.#host, vm, repo, opts));
  }

  async restore(
    id: string,
    repo: BackupRepoAccess,
    snapshotId: string,
    opts: { expectSha256?: string } = {},
  ): Promise<RestoreResult> {
    const vm = getVm(this.#host, id);
    requireState(vm, ['stopped', 'failed'], 'restore');
    return withBusy(vm, 'restore', () => backups.restore(this.#host, vm, repo, snapshotId, opts));
  }

  // ------------------------------------------------------------------ orphans

  orphans(): Promise<OrphanReport> {
    return orphans.orphans(this.#host);
  }

  cleanOrphans(): Promise<OrphanReport> {
    return orphans.cleanOrphans(this.#host);
  }
}
