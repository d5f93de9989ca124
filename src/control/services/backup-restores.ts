// Restores (R3.7), part of the backups service (services/backups.ts): a client's request counted
// (2 per calendar month, Europe/Paris) under a per-VPS lock in the transaction that records it
// and queues the `vps.restore` job; staff's not counted; the job stops the VM, rewrites its disk
// from the snapshot (checked against the backup's sha256), boots it and waits for the guest
// agent; the client is told before and after (FR/EN mails); a failure keeps the old disk.
import type { BackupRepoAccess } from '../../agent/driver.ts';
import type { HostAgent } from '../../agent/host-agent.ts';
import { CLIENT_RESTORES_PER_MONTH, nextParisMonthStart, parisMonth } from '../../domain/backups.ts';
import { conflict, notFound, unexpectedState } from '../../domain/errors.ts';
import { mailDate } from '../mail/format.ts';
import { findRecipient } from '../mail/recipients.ts';
import {
  countCountedRestores,
  getBackup,
  getRepo,
  getRestore,
  getTarget,
  insertRestore,
  pageRestores,
  updateRestore,
  type BackupRepoRow,
  type BackupRestoreRow,
  type BackupTargetRow,
} from '../repositories/backups.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import type { Scope } from '../repositories/scope.ts';
import { inTransaction, xactLock } from '../repositories/transactions.ts';
import { getVps, type VpsRow } from '../repositories/vps.ts';
import { raiseAlert } from './alerts.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';
import type { MailService } from './mail.ts';

export const RESTORE_JOB = 'vps.restore';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface RestoreView {
  id: string;
  backupId: string;
  state: BackupRestoreRow['state'];
  counted: boolean;
  requestedAt: string;
  finishedAt: string | null;
  error: string | null;
}

const restoreView = (r: BackupRestoreRow): RestoreView => ({
  id: r.id,
  backupId: r.backup_id,
  state: r.state,
  counted: r.counted,
  requestedAt: r.requested_at.toISOString(),
  finishedAt: iso(r.finished_at),
  error: r.error,
});

export function createBackupRestores(
  ctx: ServiceContext,
  audit: AuditService,
  deps: {
    mail: MailService;
    access(repo: BackupRepoRow, target: BackupTargetRow, side: 'append' | 'admin'): BackupRepoAccess;
    agentOfVps(vpsId: string): Promise<{ vps: VpsRow; agent: HostAgent }>;
  },
) {
  const { db, clock, queue } = ctx;
  const { access, agentOfVps } = deps;

  /** The client told (R3.7): before the VM stops, and after. */
  async function tell(vps: VpsRow, template: string, backupAt: Date): Promise<void> {
    const owner = await findRecipient(db, vps.account_id);
    if (!owner) return;
    await inTransaction(db, (tx) =>
      deps.mail.send(tx, {
        to: owner.to,
        template,
        language: owner.language,
        vars: { name: owner.name, hostname: vps.hostname, backupDate: mailDate(backupAt, owner.language) },
        accountId: vps.account_id,
        reason: 'R3.7 restore',
      }),
    );
  }

  return {
    /**
     * A whole-disk restore asked for. A client's request is counted (2 per calendar month,
     * Europe/Paris) under a per-VPS lock, in the transaction that records it and queues the job;
     * the third is refused with the date it becomes possible. Staff's are not counted.
     */
    async requestRestore(
      scope: Scope,
      actor: AuditActor,
      vpsId: string,
      backupId: string,
    ): Promise<RestoreView> {
      await getVps(db, scope, vpsId);
      const b = await getBackup(db, backupId);
      if (!b || b.vps_id !== vpsId) throw notFound('backup.not_found', 'No such backup of this VPS');
      if (b.state !== 'succeeded' || b.forgotten_at !== null)
        throw conflict(
          'backup.unavailable',
          'This backup cannot be restored (failed, or past the 15-day retention)',
        );
      const counted = scope.kind === 'client';
      const now = clock.now();
      const month = parisMonth(now);
      const row = await inTransaction(db, async (tx) => {
        await xactLock(tx, `backup.restore:${vpsId}`);
        if (counted && (await countCountedRestores(tx, vpsId, month)) >= CLIENT_RESTORES_PER_MONTH)
          throw conflict(
            'restore.monthly_limit',
            `${CLIENT_RESTORES_PER_MONTH} restores were already asked for this month; the next is possible from ${nextParisMonthStart(now)} (Europe/Paris)`,
            { possibleFrom: nextParisMonthStart(now) },
          );
        const r = await insertRestore(tx, {
          vps_id: vpsId,
          backup_id: backupId,
          requested_by: actor.label,
          counted,
          paris_month: month,
          state: 'queued',
          requested_at: now,
        });
        await queue.send(RESTORE_JOB, { restoreId: r.id }, { db: tx, singletonKey: r.id });
        return r;
      });
      await audit.record(
        actor,
        'backup.restore_requested',
        { type: 'vps', id: vpsId },
        { backupId, counted },
      );
      return restoreView(row);
    },

    async listRestores(scope: Scope, vpsId: string, page: PageRequest) {
      await getVps(db, scope, vpsId);
      const p = await pageRestores(db, vpsId, page);
      return { items: p.items.map(restoreView), nextCursor: p.nextCursor };
    },

    /**
     * The `vps.restore` job: the VM stopped, the disk rewritten from the snapshot beside the old
     * one and checked against the backup's sha256 (driver.restore), the VM started, the guest
     * agent answering. A failure keeps the old disk, restarts the VM if it ran, alerts staff.
     */
    async runRestore(restoreId: string): Promise<RestoreView> {
      const r = await getRestore(db, restoreId);
      if (!r) throw notFound('restore.not_found', 'No such restore');
      if (r.state === 'done' || r.state === 'failed') return restoreView(r);
      const b = (await getBackup(db, r.backup_id))!;
      const repo = await getRepo(db, r.vps_id);
      if (!repo) throw conflict('backup.no_repository', 'No repository for this VPS');
      const target = await getTarget(db, repo.target_id);
      const { vps, agent } = await agentOfVps(r.vps_id);
      if (r.state === 'queued') {
        await updateRestore(db, r.id, { state: 'running', started_at: clock.now() });
        await tell(vps, 'vps.restore_started', b.started_at);
      }
      const driver = agent.driver;
      const before = (await driver.status(r.vps_id)).state;
      try {
        if (before === 'running' || before === 'paused') await driver.shutdown(r.vps_id);
        const res = await driver.restore(r.vps_id, access(repo, target, 'append'), b.snapshot_id!, {
          ...(b.sha256 ? { expectSha256: b.sha256 } : {}),
        });
        await driver.start(r.vps_id);
        const deadline = Date.now() + 5 * 60_000;
        while (!(await driver.status(r.vps_id)).guestAgentUp) {
          if (Date.now() > deadline)
            throw unexpectedState(
              'restore.no_guest_agent',
              'The restored VM booted but its guest agent did not answer in 5 min',
            );
          await new Promise((res) => setTimeout(res, 500));
        }
        await updateRestore(db, r.id, {
          state: 'done',
          finished_at: clock.now(),
          result: { bytes: res.bytes, sha256: res.sha256, durationMs: res.durationMs },
        });
        await tell(vps, 'vps.restore_done', b.started_at);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        await updateRestore(db, r.id, {
          state: 'failed',
          finished_at: clock.now(),
          error: msg.slice(0, 2000),
        });
        const st = await driver.status(r.vps_id).catch(() => null);
        if (st && (st.state === 'stopped' || st.state === 'failed') && before === 'running')
          await driver.start(r.vps_id).catch(() => undefined);
        await raiseAlert(db, {
          kind: 'backup_failed',
          subject_type: 'vps',
          subject_id: r.vps_id,
          message: `The restore of VPS ${r.vps_id} failed (its previous disk is kept): ${msg.slice(0, 300)}`,
          at: clock.now(),
        });
      }
      return restoreView((await getRestore(db, r.id))!);
    },
  };
}
