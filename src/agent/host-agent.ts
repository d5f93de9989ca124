// What the control plane holds for one hypervisor host: its HostDriver (VMs) and its network
// side. Every argument and result is plain JSON (byte counts as decimal strings), so a remote
// agent over HTTPS is an adapter of this interface, not a rewrite.
import type { VpsNetPolicy } from '../domain/net-policy.ts';
import type { BackupRepoAccess, HostDriver } from './driver.ts';

export interface PortCounters {
  port: string;
  ifindex: number;
  /** What the port received = what the VPS sent (R3.13), decimal string of a 64-bit count. */
  rxBytes: string;
  txBytes: string;
}

/** R7.1: what the analyzer counted for one VPS since the previous read; never any content. */
export interface SmtpContentCounts {
  messages: number;
  recipients: number;
  /** Messages rspamd scored as spam (its action is not "no action" or "greylist"). */
  spam: number;
  scoreSum: number;
  maxScore: number;
  /** Sessions that switched to TLS (left to the flow signal). */
  encryptedSessions: number;
}

export interface SmtpHostStats {
  flows: Record<string, { syn: string; destinations: number }>;
  content: Record<string, SmtpContentCounts>;
  /** The analyzer's own counters (skipped malformed sessions, dropped on overload, restarts). */
  analyzer?: { malformed: number; dropped: number; restarts: number; running: boolean };
}

export interface HostNetwork {
  /** Bridge, nft table and base chains, uplink shaping (idempotent). */
  setup(): Promise<void>;
  /**
   * The name of the VPS's port on this host (deterministic, the same before and after
   * `ensurePort`): what policies and counter reads name it by. The control plane asks the agent
   * rather than computing it, so it imports nothing of the agent but these interfaces.
   */
  portName(vpsId: string): string;
  /** The VPS's tap on the bridge (idempotent); its name and the guest's MAC. */
  ensurePort(vpsId: string): Promise<{ port: string; mac: string }>;
  /** The VPS's whole policy, applied atomically (R6.3, R3.11, R3.13, R5.1). */
  applyPolicy(policy: VpsNetPolicy): Promise<void>;
  /** R3.13: only the shaping rate changes (connections survive). */
  setThrottle(policy: VpsNetPolicy): Promise<void>;
  /** Rules, classes and the tap gone; the tap's last counters returned so no byte is lost. */
  removeVps(v: { vpsId: string; slot: number; port: string }): Promise<{ last: PortCounters | null }>;
  readPortCounters(ports?: string[]): Promise<PortCounters[]>;
  /** Per VPS: dropped packets/bytes by kind (spoof, filtered, ratelimit, blocked, isolated). */
  readDrops(): Promise<Record<string, Record<string, { packets: string; bytes: string }>>>;
  /**
   * R7.1: per VPS, its port-25 flow reading (cumulative new connections, distinct destinations
   * in the last hour) and the content scores gathered since the previous call (numbers only).
   */
  readSmtpStats(): Promise<SmtpHostStats>;
  /** Compares the live rules with the policies and repairs drift; what was fixed. */
  reconcile(policies: VpsNetPolicy[]): Promise<{ kind: string; detail: string }[]>;
  /** R9.1: per-address counters of what arrives from outside (before any drop), and tier 1's drops. */
  readDdos(): Promise<DdosReading>;
  /**
   * R9.1, R9.5: the host's whole tier-1 state: `active` in force, the chains of `ended` removed
   * (with `reconcile: true`, also every chain nobody asked for: after a restart).
   */
  applyMitigations(active: DdosMitigation[], ended: string[], opts?: { reconcile?: boolean }): Promise<void>;
}

/** Cumulative counters per kind (all, tcp, syn, udp, icmp, frag, amp) and bytes. */
export interface DdosAddressCounters {
  packets: Record<'all' | 'tcp' | 'syn' | 'udp' | 'icmp' | 'frag' | 'amp', number>;
  bytes: number;
}

export interface DdosReading {
  /** By destination address. */
  addresses: Record<string, DdosAddressCounters>;
  /** By VPS id: what its tier-1 rules dropped, its top sources. */
  mitigations: Record<
    string,
    { dropped: { packets: number; bytes: number }; topSources: { address: string; packets: number }[] }
  >;
}

/** A VPS address in tier-1 mitigation (limits: docs/ddos.md). */
export interface DdosMitigation {
  vpsId: string;
  ipv4: string;
  synPerSecond: number;
  perSourceSynPerSecond: number;
  perSourcePacketsPerSecond: number;
}

/** A switch's SNMP agent (SNMPv2c), the second counting source (R3.13). */
export interface SwitchTarget {
  host: string;
  port?: number;
  community: string;
  timeoutMs?: number;
  retries?: number;
}

/** One switch port's IF-MIB 64-bit counters, decimal strings like `PortCounters`. */
export interface SwitchPortCounters {
  ifIndex: number;
  inOctets: string;
  outOctets: string;
  /** ifCounterDiscontinuityTime (TimeTicks), 0 when the agent does not report it. */
  discontinuity: number;
}

export interface HostAgent {
  readonly driver: HostDriver;
  readonly network: HostNetwork;
  /** Network namespace the VMs and their taps live in (tests); unset in production. */
  readonly netns?: string;
  close(): Promise<void>;
}

/** One snapshot of a VPS's repository, as restic lists it. */
export interface RepoSnapshot {
  id: string;
  /** ISO 8601. */
  time: string;
  tags: string[];
}

/**
 * The maintenance side of the backup repositories (R3.6, R12.4), run by the control plane with
 * the target's full-access endpoint (hosts only get the append-only one): create a repository,
 * list, forget and prune snapshots, check, delete a repository with everything in it.
 */
export interface BackupRepos {
  init(repo: BackupRepoAccess): Promise<void>;
  snapshots(repo: BackupRepoAccess): Promise<RepoSnapshot[]>;
  /** Forgets these snapshots, then prunes the data no snapshot uses. */
  forget(repo: BackupRepoAccess, snapshotIds: string[], opts?: { prune?: boolean }): Promise<void>;
  /** `restic check --read-data-subset`; ok false with restic's message when it finds a problem. */
  check(repo: BackupRepoAccess, subset: string): Promise<{ ok: boolean; output: string }>;
  /** Every object of the repository deleted (keys, snapshots, data, config); how many. */
  remove(repo: BackupRepoAccess): Promise<{ deleted: number }>;
}
