// Backups (R3.6, R3.7, R12.4): targets in other datacenters, one restic repository per VPS with
// its own sealed key, the daily backup with its figures, retention (15 days sliding: forget and
// prune with the full-access endpoint), the weekly check, restores (2 client requests per
// calendar month, Europe/Paris, counted under a lock), and the repository's deletion at
// termination (a termination hook). Hosts only ever get the append-only endpoint.
import { randomBytes } from 'node:crypto';
import type { BackupRepoAccess, BackupResult } from '../../agent/driver.ts';
import type { BackupRepos } from '../../agent/host-agent.ts';
import {
  backupDue,
  CLIENT_RESTORES_PER_MONTH,
  HOST_BACKUP_CONCURRENCY,
  parisMonth,
  retentionCutoff,
  MAX_DAILY_FAILURES,
} from '../../domain/backups.ts';
import { conflict, invalidData, notFound, unexpectedState } from '../../domain/errors.ts';
import {
  backupsToForget,
  countFailuresSince,
  countCountedRestores,
  dueForBackup,
  failStaleRunning,
  finishBackup,
  getBackup,
  getRepo,
  getTarget,
  insertRepo,
  insertRunningBackup,
  insertTarget,
  markForgotten,
  pageBackups,
  pageTargets,
  reposToCheck,
  runningCounts,
  targetFigures,
  targetsOutside,
  updateRepo,
  vpsWithoutValidTarget,
  type BackupRepoRow,
  type BackupRow,
  type BackupTargetRow,
} from '../repositories/backups.ts';
import { getDatacenter } from '../repositories/datacenters.ts';
import { getHost } from '../repositories/hosts.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { getVps } from '../repositories/vps.ts';
import { raiseAlert } from './alerts.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import { registerTerminationHook, unregisterTerminationHook } from './terminations.ts';
import { createBackupRestores } from './backup-restores.ts';
import type { MailService } from './mail.ts';
export type { RestoreView } from './backup-restores.ts';

export const BACKUP_JOB = 'vps.backup';
export { RESTORE_JOB } from './backup-restores.ts';
export const CHECK_JOB = 'backup.check';

const DAY_MS = 86_400_000;
const urlPattern = /^(rest:https?:\/\/[^\s]+|sftp:[^\s]+)$/;
const mask = (url: string) => url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface TargetView {
  id: string;
  name: string;
  kind: 'rest' | 'sftp';
  datacenterId: string;
  url: string;
  maxConcurrent: number;
  enabled: boolean;
  createdAt: string;
}

export interface BackupView {
  id: string;
  state: BackupRow['state'];
  startedAt: string;
  finishedAt: string | null;
  /** Bytes of the disk read, and added to the repository. */
  sizeBytes: number | null;
  addedBytes: number | null;
  durationMs: number | null;
  freezeMs: number | null;
  consistency: BackupRow['consistency'];
  /** Still restorable (not past the 15-day retention). */
  available: boolean;
}

const targetView = (t: BackupTargetRow): TargetView => ({
  id: t.id,
  name: t.name,
  kind: t.kind,
  datacenterId: t.datacenter_id,
  url: t.display_url,
  maxConcurrent: t.max_concurrent,
  enabled: t.enabled,
  createdAt: t.created_at.toISOString(),
});

const backupView = (b: BackupRow): BackupView => ({
  id: b.id,
  state: b.state,
  startedAt: b.started_at.toISOString(),
  finishedAt: iso(b.finished_at),
  sizeBytes: b.bytes_read === null ? null : Number(b.bytes_read),
  addedBytes: b.bytes_added === null ? null : Number(b.bytes_added),
  durationMs: b.duration_ms,
  freezeMs: b.freeze_ms,
  consistency: b.consistency,
  available: b.state === 'succeeded' && b.forgotten_at === null,
});

export function createBackupsService(ctx: ServiceContext, audit: AuditService, deps: { mail: MailService }) {
  const { db, clock, secrets, agents, queue, log } = ctx;

  let lastSweep = 0;

  function repos(): BackupRepos {
    if (!ctx.backupRepos) throw unexpectedState('backup.off', 'Backups are not configured on this platform');
    return ctx.backupRepos;
  }

  /** The repository of a VPS through one of its target's endpoints (credentials opened here only). */
  function access(repo: BackupRepoRow, target: BackupTargetRow, side: 'append' | 'admin'): BackupRepoAccess {
    if (!repo.key_sealed) throw conflict('backup.repo_deleted', 'The repository of this VPS was deleted');
    const base = secrets.open(side === 'append' ? target.append_url_sealed : target.admin_url_sealed);
    return {
      repository: base.replace(/\/?$/, '/') + repo.path_token,
      password: secrets.open(repo.key_sealed),
    };
  }

  async function agentOfVps(vpsId: string) {
    const vps = await getVps(db, SYSTEM_SCOPE, vpsId);
    if (!vps.host_id) throw conflict('vps.not_placed', 'This VPS is on no host');
    return { vps, agent: await agents.forHost(await getHost(db, vps.host_id)) };
  }

  /** R3.6: the VPS's repository on `target`, which must be in another datacenter; created and initialized. */
  async function assignRepo(actor: AuditActor, vpsId: string, targetId: string): Promise<BackupRepoRow> {
    const vps = await getVps(db, SYSTEM_SCOPE, vpsId);
    const target = await getTarget(db, targetId);
    if (target.datacenter_id === vps.datacenter_id)
      throw invalidData(
        'backup.same_datacenter',
        `Target ${target.name} is in the VPS's own datacenter: its backups must go to another datacenter (R3.6)`,
        { field: 'targetId' },
      );
    if (!target.enabled) throw conflict('backup_target.disabled', `Target ${target.name} is disabled`);
    let repo = await getRepo(db, vpsId);
    if (repo && !repo.deleted_at && repo.target_id !== targetId)
      throw conflict(
        'backup.repo_exists',
        'This VPS already has a repository on another target (its snapshots stay there)',
      );
    if (!repo) {
      repo = await insertRepo(db, {
        vps_id: vpsId,
        target_id: targetId,
        path_token: `r-${randomBytes(12).toString('hex')}`,
        key_sealed: secrets.seal(randomBytes(32).toString('base64url')),
        created_at: clock.now(),
      });
      await audit.record(actor, 'backup.repo_assigned', { type: 'vps', id: vpsId }, { target: target.name });
    }
    if (!repo.initialized_at) {
      await repos().init(access(repo, target, 'admin'));
      await updateRepo(db, vpsId, { initialized_at: clock.now() });
      repo = { ...repo, initialized_at: clock.now() };
    }
    return repo;
  }

  /** The retention (R3.6): backups started over 15 days ago forgotten, the data they alone used pruned. */
  async function applyRetention(vpsId: string): Promise<{ forgotten: number }> {
    const now = clock.now();
    const old = await backupsToForget(db, vpsId, retentionCutoff(now));
    if (!old.length) return { forgotten: 0 };
    const repo = await getRepo(db, vpsId);
    if (!repo || repo.deleted_at) return { forgotten: 0 };
    const target = await getTarget(db, repo.target_id);
    const ids = old.map((b) => b.snapshot_id).filter((s): s is string => s !== null);
    await repos().forget(access(repo, target, 'admin'), ids, { prune: true });
    await markForgotten(
      db,
      old.map((b) => b.id),
      now,
    );
    return { forgotten: old.length };
  }

  return {
    // ---- targets (staff)
    async createTarget(
      actor: AuditActor,
      t: {
        name: string;
        kind: 'rest' | 'sftp';
        datacenterId: string;
        appendUrl: string;
        adminUrl: string;
        maxConcurrent?: number;
      },
    ): Promise<TargetView> {
      for (const [field, url] of [
        ['appendUrl', t.appendUrl],
        ['adminUrl', t.adminUrl],
      ] as const) {
        if (!urlPattern.test(url) || !url.startsWith(t.kind === 'rest' ? 'rest:' : 'sftp:'))
          throw invalidData(`validation.${field}`, `${field} must be a restic ${t.kind}: URL`, { field });
      }
      await getDatacenter(db, t.datacenterId);
      const row = await insertTarget(db, {
        name: t.name,
        kind: t.kind,
        datacenter_id: t.datacenterId,
        append_url_sealed: secrets.seal(t.appendUrl),
        admin_url_sealed: secrets.seal(t.adminUrl),
        display_url: mask(t.appendUrl),
        ...(t.maxConcurrent !== undefined ? { max_concurrent: t.maxConcurrent } : {}),
        created_by: actor.label,
        created_at: clock.now(),
      });
      await audit.record(
        actor,
        'backup_target.create',
        { type: 'backup_target', id: row.id },
        { name: t.name, kind: t.kind },
      );
      return targetView(row);
    },
    async listTargets(page: PageRequest) {
      const p = await pageTargets(db, page);
      return { items: p.items.map(targetView), nextCursor: p.nextCursor };
    },
    /** Console: per target, repositories, last run, failures in 24 h, oldest kept backup, bytes stored. */
    async targetFigures() {
      const rows = await targetFigures(db, new Date(clock.now().getTime() - DAY_MS));
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        repositories: Number(r.repos),
        lastRun: iso(r.last_run),
        failuresLastDay: Number(r.failures),
        oldestBackup: iso(r.oldest),
        bytesAdded: r.bytes_added === null ? 0 : Number(r.bytes_added),
        retentionDays: 15,
      }));
    },
    /** R3.6: live VPSs with no valid target (none, disabled, or in their own datacenter). */
    async unprotected() {
      return (await vpsWithoutValidTarget(db)).map((v) => ({
        vpsId: v.id,
        hostname: v.hostname,
        datacenterId: v.datacenter_id,
        targetId: v.target_id,
        reason: !v.target_id
          ? 'no_repository'
          : v.target_datacenter_id === v.datacenter_id
            ? 'same_datacenter'
            : ('target_disabled' as 'no_repository' | 'same_datacenter' | 'target_disabled'),
      }));
    },
    async assign(actor: AuditActor, vpsId: string, targetId: string) {
      const r = await assignRepo(actor, vpsId, targetId);
      return { vpsId, targetId: r.target_id, initialized: r.initialized_at !== null };
    },

    // ---- backups
    /**
     * One backup of the VPS now (the `vps.backup` job, or staff). One at a time per VPS (unique
     * index); the figures recorded; a failure recorded, and alerted after MAX_DAILY_FAILURES.
     */
    async run(vpsId: string, trigger: 'schedule' | 'staff' = 'schedule'): Promise<BackupView> {
      const repo = await getRepo(db, vpsId);
      if (!repo || repo.deleted_at || !repo.initialized_at)
        throw conflict('backup.no_repository', 'This VPS has no backup repository: assign a target first');
      const target = await getTarget(db, repo.target_id);
      const { vps, agent } = await agentOfVps(vpsId);
      if (target.datacenter_id === vps.datacenter_id)
        throw conflict('backup.same_datacenter', "The target is in the VPS's own datacenter (R3.6): refused");
      const row = await insertRunningBackup(db, {
        vps_id: vpsId,
        target_id: target.id,
        host_id: vps.host_id,
        state: 'running',
        trigger,
        started_at: clock.now(),
      });
      let r: BackupResult;
      try {
        r = await agent.driver.backup(vpsId, access(repo, target, 'append'), { tags: [`backup-${row.id}`] });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        await inTransaction(db, async (tx) => {
          await finishBackup(tx, row.id, {
            state: 'failed',
            finished_at: clock.now(),
            error: msg.slice(0, 2000),
          });
          const since = new Date(clock.now().getTime() - DAY_MS);
          const failures = await countFailuresSince(tx, vpsId, since);
          if (failures >= MAX_DAILY_FAILURES)
            await raiseAlert(tx, {
              kind: 'backup_failed',
              subject_type: 'vps',
              subject_id: vpsId,
              message: `The backup of VPS ${vps.hostname} failed ${failures} times in 24 h: ${msg.slice(0, 300)}`,
              at: clock.now(),
            });
        });
        log.warn({ vpsId, err: msg }, 'backup failed');
        return backupView((await getBackup(db, row.id))!);
      }
      await finishBackup(db, row.id, {
        state: 'succeeded',
        finished_at: clock.now(),
        snapshot_id: r.snapshotId,
        consistency: r.consistency,
        crash_reason: r.crashReason,
        freeze_ms: r.freezeMs,
        bytes_read: r.bytesRead,
        bytes_added: r.bytesAdded,
        duration_ms: r.durationMs,
        sha256: r.sha256,
      });
      try {
        await applyRetention(vpsId);
      } catch (e) {
        log.warn(
          { vpsId, err: (e as Error).message },
          'backup retention failed (retried after the next backup)',
        );
      }
      return backupView((await getBackup(db, row.id))!);
    },
    applyRetention,

    /**
     * The scheduler's sweep (R3.6): backups left running by a dead platform failed (their
     * snapshot, if restic finished one, is never listed as a backup); due VPSs queued within
     * the per-host and per-target limits; weekly checks queued.
     */
    async sweep(now: Date): Promise<{ queued: string[] }> {
      await failStaleRunning(db, new Date(now.getTime() - 6 * 3_600_000), now);
      // R3.6: a VPS with no repository gets one on the least used target of another datacenter.
      for (const v of (await vpsWithoutValidTarget(db)).filter((x) => !x.target_id).slice(0, 20)) {
        const [t] = await targetsOutside(db, v.datacenter_id);
        if (!t) continue; // listed to staff as unprotected
        try {
          await assignRepo(SYSTEM_ACTOR, v.id, t.id);
        } catch (e) {
          log.warn({ vpsId: v.id, err: (e as Error).message }, 'backup repository not created');
        }
      }
      const since = new Date(now.getTime() - DAY_MS);
      const due = await dueForBackup(db, since, since, 2_000);
      const { hosts, targets } = await runningCounts(db);
      const queued: string[] = [];
      for (const d of due) {
        if (
          !backupDue({
            vpsId: d.vps_id,
            now,
            lastSuccessAt: d.last_ok,
            lastTryAt: d.last_try,
            failuresLastDay: Number(d.failures),
          })
        )
          continue;
        const h = d.host_id ? (hosts.get(d.host_id) ?? 0) : 0;
        const t = targets.get(d.target_id) ?? 0;
        if (h >= HOST_BACKUP_CONCURRENCY || t >= d.max_concurrent) continue;
        if (d.host_id) hosts.set(d.host_id, h + 1);
        targets.set(d.target_id, t + 1);
        await queue.send(BACKUP_JOB, { vpsId: d.vps_id }, { singletonKey: d.vps_id });
        queued.push(d.vps_id);
      }
      // R3.6: the weekly check, spread: a few repositories per sweep.
      for (const vpsId of await reposToCheck(db, new Date(now.getTime() - 7 * DAY_MS), 5))
        await queue.send(CHECK_JOB, { vpsId }, { singletonKey: `check:${vpsId}` });
      return { queued };
    },

    /** The sweep at most once a minute (the scheduler ticks more often); nothing without targets configured. */
    async sweepThrottled(now: Date): Promise<void> {
      if (!ctx.backupRepos || now.getTime() - lastSweep < 60_000) return;
      lastSweep = now.getTime();
      await this.sweep(now);
    },

    /** The weekly `restic check --read-data-subset` of a repository (a tenth of the data, rotating). */
    async check(vpsId: string): Promise<{ ok: boolean; output: string }> {
      const repo = await getRepo(db, vpsId);
      if (!repo || repo.deleted_at) throw notFound('backup.no_repository', 'No repository for this VPS');
      const target = await getTarget(db, repo.target_id);
      const week = Math.floor(clock.now().getTime() / (7 * DAY_MS));
      const r = await repos().check(access(repo, target, 'admin'), `${(week % 10) + 1}/10`);
      await updateRepo(db, vpsId, { last_check_at: clock.now(), last_check_ok: r.ok });
      if (!r.ok)
        await raiseAlert(db, {
          kind: 'backup_failed',
          subject_type: 'vps',
          subject_id: vpsId,
          message: `The check of the backup repository of VPS ${vpsId} found a problem: ${r.output.slice(0, 300)}`,
          at: clock.now(),
        });
      return r;
    },

    /** The backups of a VPS the scope sees, newest first, and the client restores left this month. */
    async list(scope: Scope, vpsId: string, page: PageRequest) {
      await getVps(db, scope, vpsId);
      const p = await pageBackups(db, vpsId, page);
      const used = await countCountedRestores(db, vpsId, parisMonth(clock.now()));
      return {
        items: p.items.map(backupView),
        nextCursor: p.nextCursor,
        restoresLeftThisMonth: Math.max(0, CLIENT_RESTORES_PER_MONTH - used),
      };
    },

    // ---- restores (R3.7): services/backup-restores.ts
    ...createBackupRestores(ctx, audit, { mail: deps.mail, access, agentOfVps }),

    /** R12.4: the termination's deletion: every object of the repository, then its key. Idempotent. */
    async deleteRepo(vpsId: string): Promise<Record<string, unknown>> {
      const repo = await getRepo(db, vpsId);
      if (!repo) return { repository: 'none' };
      if (repo.deleted_at)
        return { repository: 'deleted', keyDeleted: true, at: repo.deleted_at.toISOString() };
      const target = await getTarget(db, repo.target_id);
      const { deleted } = await repos().remove(access(repo, target, 'admin'));
      const now = clock.now();
      await updateRepo(db, vpsId, { key_sealed: null, deleted_at: now });
      await audit.record(
        SYSTEM_ACTOR,
        'backup.repo_deleted',
        { type: 'vps', id: vpsId },
        { target: target.name, objects: deleted },
      );
      return { repository: 'deleted', target: target.name, objectsDeleted: deleted, keyDeleted: true };
    },

    /** Registers the termination hook (R12.4): the deletion record says what was removed. */
    registerTerminationHook(self: { deleteRepo(vpsId: string): Promise<Record<string, unknown>> }) {
      unregisterTerminationHook('backups');
      registerTerminationHook('backups', (c) => self.deleteRepo(c.vpsId));
    },
  };
}
export type BackupsService = ReturnType<typeof createBackupsService>;
