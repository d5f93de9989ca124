// What every service gets: the database, the clock, configuration, the secret box, a logger.
import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { BackupRepos, HostAgent, SwitchPortCounters, SwitchTarget } from '../../agent/host-agent.ts';
import type { VmEventListener } from '../../agent/driver.ts';
import type { SecretBox } from '../security/secretbox.ts';

/** Who is asking (staff, or a client scoped to its account): every client-reachable call takes one. */
export type { Scope } from '../repositories/scope.ts';

/**
 * Sends background jobs (pg-boss). With `db` set to a transaction, the job is inserted in that
 * transaction: it exists if and only if the fact that caused it was committed.
 */
export interface JobQueue {
  send(
    name: string,
    data: object,
    opts?: { db?: Db; singletonKey?: string; startAfter?: Date },
  ): Promise<void>;
}

/** The hosts' agents, by host row (implemented by `hosts/agents.ts`; tests give their own). */
export interface HostAgents {
  forHost(host: { id: string; agent: string; netns: string | null }): Promise<HostAgent>;
  /** The host's agent if it is open already (never opens it: reading figures must not touch the host). */
  peek?(host: { id: string; agent: string }): HostAgent | undefined;
  /** Agents already opened (for the collectors: counters, reconcile). */
  opened(): { hostId: string | null; agent: HostAgent }[];
  onVmEvent(listener: VmEventListener): void;
  /**
   * The counters of a switch's ports, read over SNMP from the control plane (R3.13's second
   * source); ports the switch does not know are absent. A switch error rejects.
   */
  readSwitchPorts(target: SwitchTarget, ifIndexes: readonly number[]): Promise<SwitchPortCounters[]>;
  close(): Promise<void>;
}

export interface ServiceContext {
  readonly db: Db;
  readonly queue: JobQueue;
  /** The hosts' agents (QEMU driver + network), opened on first use. */
  readonly agents: HostAgents;
  readonly clock: Clock;
  readonly config: Config;
  readonly secrets: SecretBox;
  readonly log: Logger;
  /**
   * R3.6, R12.4: the backup repositories' maintenance (init, forget and prune, check, delete),
   * run by the control plane on the targets' full-access endpoints. Unset: backups are off.
   */
  readonly backupRepos?: BackupRepos;
}

/** Who did something, for the audit log. */
export interface AuditActor {
  readonly userId: string | null;
  readonly label: string;
  readonly ip: string | null;
}

export const SYSTEM_ACTOR: AuditActor = Object.freeze({ userId: null, label: 'system', ip: null });
