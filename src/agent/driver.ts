// The HostDriver boundary: the control plane speaks to a hypervisor host only through this
// interface. Every argument and every result is plain JSON (no class instances, no Dates, no
// Buffers), so a remote agent reached over HTTPS is an adapter, not a rewrite.
//
// Errors are DomainErrors (src/domain/errors.ts): unknown VM → not_found, a call on a VM in the
// wrong state → conflict (never a hang), a disk shrink → invalid_data, no room → conflict.

/** What the host can do; decided once at start (KVM vs TCG by a real boot probe). */
export interface HostCapabilities {
  accel: 'kvm' | 'tcg';
  /** Why this accelerator was chosen (probe outcome, cached or forced). */
  accelReason: string;
  qemuVersion: string;
  /** vCPU count changes take effect without a restart. */
  liveVcpuResize: boolean;
  /** Memory can be lowered live with the balloon (never above the boot size). */
  liveMemoryBalloon: boolean;
  /** Memory can be raised live (DIMM hotplug). */
  liveMemoryResize: boolean;
  /** The virtual disk grows live (QMP block_resize); the filesystem follows at next start. */
  liveDiskResize: boolean;
  /** The guest agent can freeze/thaw filesystems (consistent backups). */
  fsfreeze: boolean;
  guestExec: boolean;
  balloonStats: boolean;
}

/** Host resources (R2.1: disk dedicated, never overcommitted; R2.2: vCPU/RAM shared). */
export interface HostCapacity {
  cores: number;
  cpuRatio: number;
  memoryMiB: number;
  ramRatio: number;
  /** Sums over every VM defined on the host (running or not: they are placed here). */
  vcpusPlaced: number;
  memoryMiBPlaced: number;
  /** Bytes the filesystem holding the disks can still give (after the host's own margin). */
  diskFreeBytes: number;
  diskReservedBytes: number;
  vms: number;
}

export interface VmNetwork {
  /** Tap interface name (created by the network side, e.g. `igt…`); QEMU opens it. */
  tap: string;
  /** Guest MAC, `52:54:00:xx:xx:xx`. */
  mac: string;
  /**
   * Network namespace QEMU runs in (tests put VMs in namespaces they create). Unset in
   * production: QEMU runs in the host namespace.
   */
  netns?: string;
}

export interface VmUser {
  name: string;
  /** crypt(3) hash of the client's password (never the clear text). */
  passwordHash?: string;
  /** R3.1: the client must change the password at first login (with `passwordHash` only). */
  expirePassword?: boolean;
  sshAuthorizedKeys?: string[];
}

/** The NoCloud seed's content (meta-data, user-data, network-config). */
export interface VmSeed {
  hostname: string;
  /** Fixed IPv4 with prefix (e.g. `203.0.113.10/24`), gateway and resolvers. */
  ipv4?: { address: string; gateway?: string; dns?: string[] };
  user: VmUser;
  /** crypt(3) hash of root's random password (R3.4: the provider's; never shown to a client). */
  rootPasswordHash?: string;
}

/** What the control plane asks the host for. */
export interface VmSpec {
  /** The VPS id (letters, digits, `-`, up to 40 chars); QEMU runs with `-name infogere-<id>`. */
  id: string;
  vcpus: number;
  memoryMiB: number;
  /** The plan's dedicated disk size (R2.1). */
  diskGiB: number;
  /** Image name under the host's images directory (e.g. `infogere-mini`). */
  image: string;
  network?: VmNetwork;
  seed: VmSeed;
}

export type VmState = 'stopped' | 'starting' | 'running' | 'paused' | 'stopping' | 'failed';

export interface VmStatus {
  id: string;
  state: VmState;
  pid: number | null;
  accel: 'kvm' | 'tcg';
  /** ISO 8601; when the current QEMU process started. */
  startedAt: string | null;
  uptimeMs: number | null;
  guestAgentUp: boolean;
  /**
   * The guest finished its boot setup (NoCloud seed applied: accounts, passwords, SSH host key;
   * SSH started): it said so through the guest agent. False until then, again after a reboot.
   */
  guestReady: boolean;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  diskPath: string;
  /** Allocated bytes of the disk file (R2.1 check: ≥ size). */
  diskAllocatedBytes: number;
  /** Settings that take effect at the next start (resize not applied live). */
  pending: { vcpus?: number; memoryMiB?: number; growFilesystem?: boolean };
  /** Last failure (state `failed`), e.g. "QEMU killed by SIGKILL; console: …". */
  failure: string | null;
}

export type VmEventType =
  'started' | 'stopped' | 'crashed' | 'guest_agent_up' | 'guest_ready' | 'paused' | 'resumed';

export interface VmEvent {
  type: VmEventType;
  vmId: string;
  /** ISO 8601, from the driver's clock. */
  at: string;
  /** For `crashed` (exit code/signal, last console lines) and `stopped` (how it stopped). */
  reason?: string;
}

export type VmEventListener = (e: VmEvent) => void;

/** One rung of the stop ladder: data, not code. */
export interface StopRung {
  kind: 'guest_agent' | 'acpi' | 'sigterm' | 'sigkill';
  timeoutMs: number;
}

export interface StopRungOutcome {
  kind: StopRung['kind'];
  /** sent: the request went out; skipped: not possible (no agent); failed: the request failed. */
  outcome: 'sent' | 'skipped' | 'failed';
  /** The VM was gone within this rung's timeout. */
  ended: boolean;
  elapsedMs: number;
  error?: string;
}

export interface StopResult {
  id: string;
  /** The rung after which QEMU was gone. */
  endedBy: StopRung['kind'];
  elapsedMs: number;
  rungs: StopRungOutcome[];
}

export interface ResizeRequest {
  vcpus?: number;
  memoryMiB?: number;
  /** Grow only (shrink → invalid_data). */
  diskGiB?: number;
}

export type ResizeApplied = 'live' | 'next_start' | 'unchanged';

export interface ResizeResult {
  id: string;
  vcpus?: ResizeApplied;
  memoryMiB?: ResizeApplied;
  /** The reservation and virtual disk; the guest filesystem grows at the next start. */
  diskGiB?: ResizeApplied;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The command was cut short by the timeout (killed in the guest). */
  timedOut: boolean;
}

export interface GuestFilesystem {
  mountpoint: string;
  type: string;
  device: string;
  usedBytes: number | null;
  totalBytes: number | null;
}

export interface GuestMemory {
  /** Boot size as QEMU sees it. */
  actualBytes: number;
  totalBytes: number | null;
  freeBytes: number | null;
  availableBytes: number | null;
  /** ISO 8601 of the guest's last balloon report. */
  lastUpdate: string | null;
}

export interface OrphanReport {
  /** QEMU processes named `infogere-…` that no state owns. */
  processes: { pid: number; vmId: string; cmdline: string[] }[];
  /** Sockets with no running QEMU behind them. */
  sockets: string[];
  /** Disk files no VM owns. */
  disks: string[];
  /** State directories without a valid state file. */
  stateDirs: string[];
  /** Taps with our prefix that no VM references (listed only; the network side owns taps). */
  taps: string[];
}

/**
 * Where a VPS's backups go (R3.6): a restic repository (`rest:…` or `sftp:…`, credentials
 * included) and its own key. Both travel to the host only inside the call, reach restic through
 * its environment (never argv), and are never logged.
 */
export interface BackupRepoAccess {
  repository: string;
  password: string;
}

export interface BackupResult {
  id: string;
  /** restic's snapshot id (full, 64 hex). */
  snapshotId: string;
  /**
   * fsfreeze: the guest's filesystems were frozen for the point-in-time view; crash: they were
   * not (crash-consistent); stopped: the VM was not running (nothing wrote the disk).
   */
  consistency: 'fsfreeze' | 'crash' | 'stopped';
  /** Why the backup is only crash-consistent (the guest agent did not answer…), else null. */
  crashReason: string | null;
  /** From the freeze call sent to the thaw answered, measured on the agent calls; null without freeze. */
  freezeMs: number | null;
  /** Bytes read from the frozen view (the whole disk) and added to the repository. */
  bytesRead: number;
  bytesAdded: number;
  durationMs: number;
  /** sha256 of the frozen view as streamed (a restore writes back exactly these bytes). */
  sha256: string;
}

export interface RestoreResult {
  id: string;
  bytes: number;
  sha256: string;
  durationMs: number;
}

export interface HostDriver {
  capabilities(): Promise<HostCapabilities>;
  capacity(): Promise<HostCapacity>;
  /** Push lifecycle events; returns an unsubscribe function. */
  onEvent(listener: VmEventListener): () => void;

  /** Disk created (plan size, fully reserved: R2.1), filesystem grown, config drive written; not booted. */
  define(spec: VmSpec): Promise<VmStatus>;
  start(id: string): Promise<VmStatus>;
  /** Clean stop by the ladder (default: guest agent → ACPI → SIGTERM → SIGKILL). */
  shutdown(id: string, ladder?: StopRung[]): Promise<StopResult>;
  reboot(id: string): Promise<VmStatus>;
  /** Immediate stop (the power cord): QMP quit, then SIGKILL. */
  powerOff(id: string): Promise<VmStatus>;
  pause(id: string): Promise<VmStatus>;
  resume(id: string): Promise<VmStatus>;
  /** R12.4: the VM is stopped, its disk wiped then removed, every file of it gone. */
  destroy(id: string): Promise<{ id: string; wiped: string[] }>;
  resize(id: string, req: ResizeRequest): Promise<ResizeResult>;
  status(id: string): Promise<VmStatus>;
  list(): Promise<VmStatus[]>;
  /** The serial console's last lines. */
  consoleLog(id: string, opts?: { lines?: number }): Promise<{ id: string; lines: string[] }>;

  /** Runs argv (never a shell string) as root in the guest through the guest agent. */
  guestExec(id: string, argv: string[], opts?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  guestFilesystems(id: string): Promise<GuestFilesystem[]>;
  guestMemory(id: string): Promise<GuestMemory>;
  fsfreeze(id: string): Promise<{ id: string; frozen: number }>;
  fsthaw(id: string): Promise<{ id: string; thawed: number }>;

  /**
   * R3.6: a consistent backup of the VM's disk into `repo`: guest filesystems frozen, a QEMU
   * point-in-time view taken, thawed at once, the view streamed into restic, merged back.
   * Running VM; crash-consistent (recorded) when the guest agent does not answer; a stopped VM's
   * disk is read as it is.
   */
  backup(id: string, repo: BackupRepoAccess, opts?: { tags?: string[] }): Promise<BackupResult>;
  /**
   * R3.7: the whole disk rewritten from a snapshot: the VM must be stopped; the new disk is
   * written beside the old one, checked (`expectSha256` when given), then swapped in; the old
   * disk stays until then (a crash mid-way leaves it intact).
   */
  restore(
    id: string,
    repo: BackupRepoAccess,
    snapshotId: string,
    opts?: { expectSha256?: string },
  ): Promise<RestoreResult>;

  orphans(): Promise<OrphanReport>;
  cleanOrphans(): Promise<OrphanReport>;
  /** Closes sockets and watchers; running VMs keep running. */
  close(): Promise<void>;
}

export const defaultStopLadder: readonly StopRung[] = Object.freeze([
  { kind: 'guest_agent', timeoutMs: 30_000 },
  { kind: 'acpi', timeoutMs: 60_000 },
  { kind: 'sigterm', timeoutMs: 10_000 },
  { kind: 'sigkill', timeoutMs: 5_000 },
]);

const idPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;
export const isValidVmId = (id: string): boolean => idPattern.test(id);
