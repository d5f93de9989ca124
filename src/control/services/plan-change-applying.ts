// Plan changes (R3.12), applying: the `vps.plan_change` job (driver.resize, the announced
// reboot through the power machinery), retries after a failure, the 48 h deadline that marks a
// change late, and staff's retry. Lock order: the header of services/plan-changes.ts.
import { conflict } from '../../domain/errors.ts';
import { formatCents } from '../../domain/money.ts';
import { needsReboot, type ResizeApplied } from '../../domain/plan-changes.ts';
import type { Db } from '../db/database.ts';
import type { Deadline } from '../db/schema.ts';
import { updateContract } from '../repositories/contracts.ts';
import { cancelDeadline, scheduleDeadline } from '../repositories/deadlines.ts';
import { getHost } from '../repositories/hosts.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { getVpsAction } from '../repositories/vps-actions.ts';
import { getPlanChange, updatePlanChange, type PlanChangeRow } from '../repositories/plan-changes.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { getVps, recordVpsEvent, setVpsResources, type VpsRow } from '../repositories/vps.ts';
import { raiseAlert } from './alerts.ts';
import { mailDate } from '../mail/format.ts';
import { findRecipient } from '../mail/recipients.ts';
import { SYSTEM_ACTOR, type AuditActor } from './context.ts';
import {
  message,
  PLAN_CHANGE_DUE,
  PLAN_CHANGE_JOB,
  PLAN_CHANGE_REBOOT,
  PLAN_CHANGE_RETRY,
  REBOOT_NOTICE_MS,
  REBOOT_POLL_MS,
  RETRY_AFTER_MS,
  type PlanChangeKit,
  type PlanChangeView,
} from './plan-change-kit.ts';

export function createPlanChangeApplying(kit: PlanChangeKit) {
  const { ctx, audit, deps, db, log, now, view } = kit;
  const getChange = getPlanChange;

  async function scheduleRetry(exec: Db, c: PlanChangeRow, after: number): Promise<void> {
    await scheduleDeadline(
      exec,
      {
        kind: PLAN_CHANGE_RETRY,
        subjectType: 'plan_change',
        subjectId: c.id,
        dueAt: new Date(now().getTime() + after),
      },
      now(),
    );
  }

  async function recordFailure(c: PlanChangeRow, vps: Pick<VpsRow, 'id' | 'hostname'>, reason: string) {
    log.error({ change: c.id, vps: vps.id, reason }, 'plan change not applied');
    await inTransaction(db, async (tx) => {
      await updatePlanChange(tx, c.id, { attempts: c.attempts + 1, last_error: reason.slice(0, 1000) });
      await recordVpsEvent(tx, vps.id, now(), 'plan_change', { changeId: c.id, phase: 'failed', reason });
      // One alert per distinct failure, not one per retry (every 30 min).
      if (c.last_error !== reason.slice(0, 1000))
        await raiseAlert(tx, {
          at: now(),
          kind: 'plan_change_failed',
          subject_type: 'vps',
          subject_id: vps.id,
          message: `${vps.hostname}: plan change to ${c.to_plan_name} not applied: ${reason}`,
        });
      await scheduleRetry(tx, c, RETRY_AFTER_MS);
    });
    await audit.record(SYSTEM_ACTOR, 'plan_change.failed', { type: 'plan_change', id: c.id }, { reason });
  }

  /** Applied: state, deadlines settled, the client told (mail last in the transaction). */
  async function finishApplied(tx: Db, c: PlanChangeRow, vps: VpsRow, note: string): Promise<void> {
    const at = now();
    await updatePlanChange(tx, c.id, { state: 'applied', applied_at: at, last_error: null });
    await cancelDeadline(tx, PLAN_CHANGE_DUE, 'plan_change', c.id, at);
    await cancelDeadline(tx, PLAN_CHANGE_RETRY, 'plan_change', c.id, at);
    await recordVpsEvent(tx, vps.id, at, 'plan_change', { changeId: c.id, phase: 'applied', note });
    const owner = await findRecipient(tx, c.account_id);
    if (owner)
      await deps.mail.send(tx, {
        to: owner.to,
        template: 'vps.plan_changed',
        language: owner.language,
        vars: {
          name: owner.name,
          hostname: vps.hostname,
          plan: c.to_plan_name,
          vcpus: String(c.to_vcpus),
          memory: `${c.to_memory_mib} MiB`,
          disk: `${c.to_disk_gib} GiB`,
          price: formatCents(c.to_monthly_price_cents, owner.language),
        },
        accountId: c.account_id,
        reason: 'R3.12 plan change applied',
      });
  }

  return {
    /** The `vps.plan_change` job. Idempotent: the row's columns say which steps are done. */
    async runApply(changeId: string): Promise<void> {
      const c = await getChange(db, changeId);
      if (c.state !== 'paid') return;
      const vps = await getVps(db, SYSTEM_SCOPE, c.vps_id);
      if (vps.state === 'paused' || (await deps.clients.isSuspended(db, vps.account_id)))
        return recordFailure(c, vps, 'the VPS is suspended');
      try {
        if (!c.resize_result) {
          if (vps.state !== 'running' && vps.state !== 'stopped') throw new Error(`the VPS is ${vps.state}`);
          if (!vps.host_id) throw new Error('the VPS is on no host');
          const agent = await ctx.agents.forHost(await getHost(db, vps.host_id));
          const r = await agent.driver.resize(vps.id, {
            vcpus: c.to_vcpus,
            memoryMiB: c.to_memory_mib,
            diskGiB: c.to_disk_gib,
          });
          const result = {
            vcpus: (r.vcpus ?? 'unchanged') as ResizeApplied,
            memoryMiB: (r.memoryMiB ?? 'unchanged') as ResizeApplied,
            diskGiB: (r.diskGiB ?? 'unchanged') as ResizeApplied,
          };
          // A run after a crash gets `unchanged` for what the first run set: the driver's own
          // pending list says what still waits for a start (vCPU/RAM, or a filesystem not grown live).
          const st = await agent.driver.status(vps.id);
          const pending =
            st.pending.vcpus !== undefined ||
            st.pending.memoryMiB !== undefined ||
            st.pending.growFilesystem === true;
          const reboot = needsReboot(vps.state === 'running', result) || (vps.state === 'running' && pending);
          const at = now();
          await inTransaction(db, async (tx) => {
            const fresh = await getChange(tx, c.id, { forUpdate: true });
            if (fresh.state !== 'paid' || fresh.resize_result) return;
            await updatePlanChange(tx, c.id, { resize_result: JSON.stringify(result) });
            await setVpsResources(tx, vps.id, {
              vcpus: c.to_vcpus,
              memory_mib: c.to_memory_mib,
              disk_gib: c.to_disk_gib,
            });
            // Future renewals bill the new plan's price.
            await updateContract(tx, c.contract_id, {
              plan_id: c.to_plan_id,
              monthly_price_cents: c.to_monthly_price_cents,
              vat_rate_bp: c.to_vat_rate_bp,
            });
            await recordVpsEvent(tx, vps.id, at, 'plan_change', {
              changeId: c.id,
              phase: 'resized',
              ...result,
            });
            if (!reboot) {
              await finishApplied(
                tx,
                fresh,
                vps,
                vps.state === 'running' ? 'applied live' : 'takes effect at the next start',
              );
              return;
            }
            // A restart is needed: announced to the client beforehand, then requested.
            const rebootAt = new Date(at.getTime() + REBOOT_NOTICE_MS);
            await updatePlanChange(tx, c.id, { reboot_announced_at: at, reboot_at: rebootAt });
            await scheduleDeadline(
              tx,
              { kind: PLAN_CHANGE_REBOOT, subjectType: 'plan_change', subjectId: c.id, dueAt: rebootAt },
              at,
            );
            const owner = await findRecipient(tx, c.account_id);
            if (owner)
              await deps.mail.send(tx, {
                to: owner.to,
                template: 'vps.plan_change_reboot',
                language: owner.language,
                vars: {
                  name: owner.name,
                  hostname: vps.hostname,
                  plan: c.to_plan_name,
                  rebootAt: mailDate(rebootAt, owner.language),
                  dueAt: mailDate(c.due_at ?? rebootAt, owner.language),
                },
                accountId: c.account_id,
                reason: 'R3.12 plan change: reboot announced',
              });
          });
          await audit.record(
            SYSTEM_ACTOR,
            'plan_change.resized',
            { type: 'plan_change', id: c.id },
            { ...result, reboot },
          );
          return;
        }
        if (c.reboot_action_id) {
          const a = await getVpsAction(db, c.reboot_action_id);
          if (a.state === 'done') {
            await inTransaction(db, async (tx) => {
              const fresh = await getChange(tx, c.id, { forUpdate: true });
              if (fresh.state === 'paid') await finishApplied(tx, fresh, vps, 'applied by a reboot');
            });
            await audit.record(
              SYSTEM_ACTOR,
              'plan_change.applied',
              { type: 'plan_change', id: c.id },
              { reboot: a.id },
            );
          } else if (a.state === 'failed') {
            await updatePlanChange(db, c.id, { reboot_action_id: null });
            throw new Error(`the reboot failed: ${a.error ?? 'unknown'}`);
          } else await scheduleRetry(db, c, REBOOT_POLL_MS);
        }
        // Otherwise: resized, the reboot announced and waiting for its deadline.
      } catch (e) {
        await recordFailure(c, vps, message(e));
      }
    },

    /** The announced reboot is due: through the power machinery (the vps.power job). */
    async onRebootDue(d: Deadline, at: { db: Db }): Promise<void> {
      const c = await getChange(at.db, d.subject_id, { forUpdate: true });
      if (c.state !== 'paid' || c.reboot_action_id) return;
      const vps = await getVps(at.db, SYSTEM_SCOPE, c.vps_id);
      if (vps.state === 'stopped') {
        // Stopped since: the new configuration takes effect at its next start.
        await finishApplied(at.db, c, vps, 'takes effect at the next start');
        return;
      }
      const r = await deps.vps.requestPower(SYSTEM_SCOPE, vps.id, 'reboot', {
        ...SYSTEM_ACTOR,
        label: 'plan change',
      });
      await updatePlanChange(at.db, c.id, { reboot_action_id: r.action.id });
      await ctx.queue.send(
        PLAN_CHANGE_JOB,
        { changeId: c.id },
        { db: at.db, singletonKey: `plan-change:${c.id}:reboot` },
      );
    },

    /** After a failure or while a reboot runs: the job is queued again. */
    async onRetryDue(d: Deadline, at: { db: Db }): Promise<void> {
      const c = await getChange(at.db, d.subject_id);
      if (c.state !== 'paid') return;
      await ctx.queue.send(
        PLAN_CHANGE_JOB,
        { changeId: c.id },
        { db: at.db, singletonKey: `plan-change:${c.id}:${d.id}` },
      );
    },

    /** The R3.12 deadline passed: a change still not applied is late (staff alerted; the console highlights it). */
    async onDue(d: Deadline, at: { db: Db; now: Date }): Promise<void> {
      const c = await getChange(at.db, d.subject_id, { forUpdate: true });
      if (c.state !== 'paid') return;
      await updatePlanChange(at.db, c.id, { late_at: at.now });
      // One more attempt now (a job lost after its retries is not lost for good).
      await ctx.queue.send(
        PLAN_CHANGE_JOB,
        { changeId: c.id },
        { db: at.db, singletonKey: `plan-change:${c.id}:due` },
      );
      const vps = await getVps(at.db, SYSTEM_SCOPE, c.vps_id);
      await raiseAlert(at.db, {
        at: at.now,
        kind: 'plan_change_late',
        subject_type: 'vps',
        subject_id: vps.id,
        message: `${vps.hostname}: plan change to ${c.to_plan_name} paid ${c.paid_at ? c.paid_at.toISOString() : ''} not applied by its deadline (R3.12)${c.last_error ? `: ${c.last_error}` : ''}`,
      });
    },

    /** Staff: try a paid change again now (audited). */
    async retry(changeId: string, actor: AuditActor): Promise<PlanChangeView> {
      const c = await inTransaction(db, async (tx) => {
        const c = await getChange(tx, changeId, { forUpdate: true });
        if (c.state !== 'paid')
          throw conflict('plan_change.not_pending', `This plan change is ${c.state}: nothing to retry`);
        await ctx.queue.send(
          PLAN_CHANGE_JOB,
          { changeId },
          { db: tx, singletonKey: `plan-change:${c.id}:retry:${now().getTime()}` },
        );
        return c;
      });
      await audit.record(actor, 'plan_change.retry', { type: 'plan_change', id: changeId }, {});
      return view(c);
    },
  };
}
