// A complete in-memory HostDriver for API and service tests: VMs are entries in a map, every
// call is recorded, events can be pushed. It `implements HostDriver`, so a change to the
// interface breaks the type check here instead of hiding behind a cast. Tests change one
// behaviour by assigning a method (`driver.start = async () => { throw … }`) or a knob.
import { Readable, Writable } from 'node:stream';
import { createHash } from 'node:crypto';
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
  VmEvent,
  VmEventListener,
  VmSpec,
  VmState,
  VmStatus,
} from '../../src/agent/driver.ts';
import type { HostAgent, HostNetwork } from '../../src/agent/host-agent.ts';
import { conflict, invalidData, notFound } from '../../src/domain/errors.ts';
import { backupStream, dumpDisk } from '../../src/agent/backup/restic.ts';
import type { HostAgents } from '../../src/control/hosts/agents.ts';

export interface FakeDriverOptions {
  /**
   * What `status` says of a VM the driver never saw (API tests place VPSs in the database
   * without defining a VM): a state, or `not_found` (the real driver's answer).
   */
  unknownVm?: VmState | 'not_found';
}

const emptyOrphans = (): OrphanReport => ({ processes: [], sockets: [], disks: [], stateDirs: [], taps: [] });

export class FakeDriver implements HostDriver {
  /** State per VM id. */
  readonly vms = new Map<string, VmState>();
  /** What `define` was given, per VM id. */
  readonly specs = new Map<string, VmSpec>();
  /** Every call, as `"<method> <id>"`. */
  readonly calls: string[] = [];
  readonly resizes: ResizeRequest[] = [];
  readonly execs: { id: string; argv: string[] }[] = [];
  /** What `resize` answers: applied live, at the next start, or refused (no room). */
  resizeMode: 'live' | 'next_start' | 'refuse' = 'live';
  /** What `guestExec` answers. */
  execAnswer: (id: string, argv: string[]) => ExecResult = () => ({
    exitCode: 0,
    stdout: '',
    stderr: '',
    timedOut: false,
  });
  /** What `orphans` finds (and `cleanOrphans` removes). */
  orphanReport: OrphanReport = emptyOrphans();
  consoleLines = ['Booting Linux', 'login:'];
  /**
   * Each VM's "disk": a small buffer that `backup` streams into a real restic repository and
   * `restore` writes back (tests set it to know what a snapshot holds).
   */
  readonly disks = new Map<string, Buffer>();
  /** The host's size; what is placed is summed from the defined VMs. */
  hostSize = { cores: 8, cpuRatio: 4, memoryMiB: 16384, ramRatio: 1.5, diskFreeBytes: 100 * 2 ** 30 };
  /** Method names whose next call throws a plain Error (a host failing mid-operation). */
  readonly failNext = new Set<string>();
  closed = false;
  private readonly listeners = new Set<VmEventListener>();
  private readonly destroyed = new Set<string>();
  private readonly unknownVm: VmState | 'not_found';

  constructor(opts: FakeDriverOptions = {}) {
    this.unknownVm = opts.unknownVm ?? 'not_found';
  }

  /** Pushes a lifecycle event to the subscribers, as the real driver does from QMP. */
  emit(e: Omit<VmEvent, 'at'> & { at?: string }): void {
    for (const l of this.listeners) l({ at: new Date(0).toISOString(), ...e });
  }

  private state(id: string): VmState {
    const s = this.vms.get(id);
    if (s) return s;
    if (this.unknownVm === 'not_found' || this.destroyed.has(id))
      throw notFound('vm.not_found', `no VM ${id}`);
    return this.unknownVm;
  }

  private statusOf(id: string): VmStatus {
    const state = this.state(id);
    const spec = this.specs.get(id);
    return {
      id,
      state,
      pid: state === 'running' || state === 'paused' ? 4242 : null,
      accel: 'tcg',
      startedAt: null,
      uptimeMs: null,
      guestAgentUp: state === 'running',
      guestReady: state === 'running',
      vcpus: spec?.vcpus ?? 1,
      memoryMiB: spec?.memoryMiB ?? 1024,
      diskGiB: spec?.diskGiB ?? 20,
      diskPath: `/x/${id}.raw`,
      diskAllocatedBytes: (spec?.diskGiB ?? 20) * 2 ** 30,
      pending: {},
      failure: state === 'failed' ? 'QEMU exited' : null,
    };
  }

  private record(name: string, id: string): void {
    this.calls.push(`${name} ${id}`);
    if (this.failNext.delete(name)) throw new Error(`${name} broke`);
  }

  /** A state change allowed only from `from` (else conflict, as the real driver). */
  private move(name: string, id: string, from: VmState[], to: VmState): VmStatus {
    this.record(name, id);
    const cur = this.state(id);
    if (!from.includes(cur)) throw conflict('vm.wrong_state', `VM is ${cur}`);
    this.vms.set(id, to);
    return this.statusOf(id);
  }

  async capabilities(): Promise<HostCapabilities> {
    return {
      accel: 'tcg',
      accelReason: 'fake driver',
      qemuVersion: '0.0.0-fake',
      liveVcpuResize: true,
      liveMemoryBalloon: true,
      liveMemoryResize: false,
      liveDiskResize: true,
      fsfreeze: true,
      guestExec: true,
      balloonStats: true,
    };
  }

  async capacity(): Promise<HostCapacity> {
    const specs = [...this.specs.values()];
    return {
      ...this.hostSize,
      vcpusPlaced: specs.reduce((n, s) => n + s.vcpus, 0),
      memoryMiBPlaced: specs.reduce((n, s) => n + s.memoryMiB, 0),
      diskReservedBytes: specs.reduce((n, s) => n + s.diskGiB * 2 ** 30, 0),
      vms: this.vms.size,
    };
  }

  onEvent(listener: VmEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async define(spec: VmSpec): Promise<VmStatus> {
    this.record('define', spec.id);
    if (this.vms.has(spec.id)) throw conflict('vm.exists', `VM ${spec.id} exists`);
    this.specs.set(spec.id, spec);
    this.vms.set(spec.id, 'stopped');
    this.destroyed.delete(spec.id);
    return this.statusOf(spec.id);
  }

  async start(id: string): Promise<VmStatus> {
    const s = this.move('start', id, ['stopped', 'failed'], 'running');
    this.emit({ type: 'started', vmId: id });
    return s;
  }

  async shutdown(id: string, ladder?: StopRung[]): Promise<StopResult> {
    this.move('shutdown', id, ['running', 'paused'], 'stopped');
    if (ladder?.[0]) {
      const kind = ladder[0].kind;
      return {
        id,
        endedBy: kind,
        elapsedMs: 0,
        rungs: [{ kind, outcome: 'sent', ended: true, elapsedMs: 0 }],
      };
    }
    // The default ladder on a guest whose agent does not answer: ACPI ends it.
    return {
      id,
      endedBy: 'acpi',
      elapsedMs: 1200,
      rungs: [
        { kind: 'guest_agent', outcome: 'skipped', ended: false, elapsedMs: 0 },
        { kind: 'acpi', outcome: 'sent', ended: true, elapsedMs: 1200 },
      ],
    };
  }

  async reboot(id: string): Promise<VmStatus> {
    return this.move('reboot', id, ['running'], 'running');
  }

  async powerOff(id: string): Promise<VmStatus> {
    return this.move('powerOff', id, ['running', 'paused', 'starting', 'stopping'], 'stopped');
  }

  async pause(id: string): Promise<VmStatus> {
    return this.move('pause', id, ['running'], 'paused');
  }

  async resume(id: string): Promise<VmStatus> {
    return this.move('resume', id, ['paused'], 'running');
  }

  async destroy(id: string): Promise<{ id: string; wiped: string[] }> {
    this.record('destroy', id);
    this.state(id); // not_found when there is none
    this.vms.delete(id);
    this.specs.delete(id);
    this.destroyed.add(id);
    return { id, wiped: [`/x/${id}.raw`, `/x/${id}-seed.iso`, `/x/${id}/`] };
  }

  async resize(id: string, req: ResizeRequest): Promise<ResizeResult> {
    this.record('resize', id);
    this.resizes.push(req);
    const running = this.state(id) === 'running';
    if (req.diskGiB !== undefined && req.diskGiB < (this.specs.get(id)?.diskGiB ?? 0))
      throw invalidData('vm.disk_shrink', 'a disk only grows');
    if (this.resizeMode === 'refuse') throw conflict('vm.resize_refused', 'not enough disk on the host');
    const cpu = this.resizeMode === 'next_start' || !running ? 'next_start' : 'live';
    return {
      id,
      vcpus: cpu,
      memoryMiB: running ? 'live' : 'next_start',
      diskGiB: running ? 'live' : 'next_start',
    };
  }

  async status(id: string): Promise<VmStatus> {
    return this.statusOf(id);
  }

  async list(): Promise<VmStatus[]> {
    return [...this.vms.keys()].map((id) => this.statusOf(id));
  }

  async consoleLog(id: string, opts?: { lines?: number }): Promise<{ id: string; lines: string[] }> {
    this.state(id);
    return { id, lines: this.consoleLines.slice(-(opts?.lines ?? this.consoleLines.length)) };
  }

  async guestExec(id: string, argv: string[]): Promise<ExecResult> {
    this.record('guestExec', id);
    if (this.state(id) !== 'running') throw conflict('vm.wrong_state', 'VM is not running');
    this.execs.push({ id, argv });
    return this.execAnswer(id, argv);
  }

  async guestFilesystems(id: string): Promise<GuestFilesystem[]> {
    this.state(id);
    return [{ mountpoint: '/', type: 'ext4', device: 'vda1', usedBytes: 2 ** 30, totalBytes: 20 * 2 ** 30 }];
  }

  async guestMemory(id: string): Promise<GuestMemory> {
    const s = this.statusOf(id);
    const bytes = s.memoryMiB * 2 ** 20;
    return {
      actualBytes: bytes,
      totalBytes: bytes,
      freeBytes: bytes / 2,
      availableBytes: bytes / 2,
      lastUpdate: null,
    };
  }

  async fsfreeze(id: string): Promise<{ id: string; frozen: number }> {
    this.record('fsfreeze', id);
    this.state(id);
    return { id, frozen: 1 };
  }

  async fsthaw(id: string): Promise<{ id: string; thawed: number }> {
    this.record('fsthaw', id);
    this.state(id);
    return { id, thawed: 1 };
  }

  async backup(id: string, repo: BackupRepoAccess, opts: { tags?: string[] } = {}): Promise<BackupResult> {
    this.record('backup', id);
    const state = this.state(id);
    if (state !== 'running' && state !== 'stopped' && state !== 'failed')
      throw conflict('vm.wrong_state', `VM ${id} is ${state}; a backup needs it running or stopped`, { id });
    const t0 = Date.now();
    const disk = this.disks.get(id) ?? Buffer.from(`disk of ${id}\n`);
    const s = await backupStream(repo, Readable.from([disk]), {
      host: `vm-${id}`,
      ...(opts.tags ? { tags: opts.tags } : {}),
    });
    return {
      id,
      ...s,
      consistency: state === 'running' ? 'fsfreeze' : 'stopped',
      crashReason: null,
      freezeMs: state === 'running' ? 5 : null,
      durationMs: Date.now() - t0,
    };
  }

  async restore(
    id: string,
    repo: BackupRepoAccess,
    snapshotId: string,
    opts: { expectSha256?: string } = {},
  ): Promise<RestoreResult> {
    this.record('restore', id);
    const state = this.state(id);
    if (state !== 'stopped' && state !== 'failed')
      throw conflict('vm.wrong_state', `VM ${id} is ${state}; a restore needs it stopped`, { id });
    const t0 = Date.now();
    const parts: Buffer[] = [];
    await dumpDisk(
      repo,
      snapshotId,
      new Writable({
        write(c: Buffer, _e, cb) {
          parts.push(c);
          cb();
        },
      }),
    );
    const disk = Buffer.concat(parts);
    const sha256 = createHash('sha256').update(disk).digest('hex');
    if (opts.expectSha256 && opts.expectSha256 !== sha256)
      throw conflict('backup.restore_mismatch', `sha256 ${sha256} where ${opts.expectSha256} was recorded`);
    this.disks.set(id, disk);
    return { id, bytes: disk.length, sha256, durationMs: Date.now() - t0 };
  }

  async orphans(): Promise<OrphanReport> {
    return this.orphanReport;
  }

  async cleanOrphans(): Promise<OrphanReport> {
    const found = this.orphanReport;
    this.orphanReport = emptyOrphans();
    return found;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A HostNetwork for tests that never reach the network side: every call is refused, loudly. */
export function noNetwork(): HostNetwork {
  const refuse = async (): Promise<never> => {
    throw new Error('this fake host has no network side (give the test a fakeNetwork())');
  };
  return {
    setup: refuse,
    portName: () => {
      throw new Error('this fake host has no network side (give the test a fakeNetwork())');
    },
    ensurePort: refuse,
    applyPolicy: refuse,
    setThrottle: refuse,
    removeVps: refuse,
    readPortCounters: refuse,
    readDrops: refuse,
    readSmtpStats: refuse,
    reconcile: refuse,
    readDdos: refuse,
    applyMitigations: refuse,
  };
}

/**
 * The platform's view of one fake host: every host row maps to the same agent. As with the real
 * local agent, `peek` sees it only once `forHost` opened it; `opened` lists it for the collectors
 * only when it has a network side to collect from.
 */
export function fakeAgents(
  opts: { driver?: HostDriver; network?: HostNetwork; netns?: string } = {},
): HostAgents & { agent: HostAgent } {
  const agent: HostAgent = {
    driver: opts.driver ?? new FakeDriver(),
    network: opts.network ?? noNetwork(),
    ...(opts.netns ? { netns: opts.netns } : {}),
    close: async () => {},
  };
  let open = false;
  return {
    agent,
    forHost: async () => ((open = true), agent),
    peek: () => (open ? agent : undefined),
    opened: () => (opts.network ? [{ hostId: null, agent }] : []),
    onVmEvent: (l) => void agent.driver.onEvent(l),
    readSwitchPorts: async () => {
      throw new Error('this fake platform has no switch to read over SNMP');
    },
    close: async () => {},
  };
}
