// Where every module plugs its background work in: deadline handlers (acted on by the
// scheduler tick) and pg-boss job types. One line per module; the platform and the test
// helpers build from here, so tests drive exactly what production runs.
import type { Logger } from 'pino';
import { mailJobs } from './mail.ts';
import { PROOF_DUE } from '../services/identity-proofs.ts';
import type { Services } from '../services/index.ts';
import type { JobDefinition } from './boss.ts';
import { platformJobs } from './maintenance.ts';
import { provisioningJob } from './provisioning.ts';
import { Scheduler } from './scheduler.ts';
import { vpsPowerJob } from './vps-power.ts';
import { reconcileJob } from './traffic.ts';
import { TRAFFIC_CYCLE_END } from '../services/traffic.ts';
import { CONTRACT_EXPIRY, RENEWAL_GRACE_END, RENEWAL_INVOICE, TERM_WARNING } from '../services/renewals.ts';
import { SANCTION_END } from '../services/sanctions.ts';
import { TERMINATION_DUE } from '../services/terminations.ts';
import { terminationJob } from './terminations.ts';
import { backupJobs } from './backups.ts';
import { planChangeJob } from './plan-changes.ts';
import { retentionPurgeJob } from './retention.ts';
import { PLAN_CHANGE_DUE, PLAN_CHANGE_REBOOT, PLAN_CHANGE_RETRY } from '../services/plan-changes.ts';

export function createScheduler(services: Services, log: Logger): Scheduler {
  const scheduler = new Scheduler(services.ctx.db, services.ctx.clock, log);
  // Every tick also sweeps the mail outbox (retries due, anything a mail.deliver job missed).
  scheduler.onTick('mail.sweep', (now) => services.mail.deliverDue(now));
  // R4.3: tickets without answer for INFOGERE_TICKET_AUTO_CLOSE_DAYS are closed.
  scheduler.onTick('tickets.close_stale', (now) => services.tickets.closeStale(now));
  // Modules register their deadline kinds here, e.g. scheduler.on('identity.proof_due', …).
  // R6.1: a proof of identity not approved in time suspends the account (services/identity-proofs.ts).
  scheduler.on(PROOF_DUE, (d, c) => services.clients.onProofDue(d, c.now));
  // R3.13: a throttled VPS's billing cycle ends: the throttle is lifted, the rate restored.
  scheduler.on(TRAFFIC_CYCLE_END, (d, c) => services.traffic.onCycleEnd(d, c));
  // R11.1–R11.3: term-end warnings, renewal invoices ahead, the expiry, an unpaid renewal's grace end.
  scheduler.on(TERM_WARNING, (d, c) => services.renewals.onTermWarning(d, c));
  scheduler.on(RENEWAL_INVOICE, (d, c) => services.renewals.onRenewalInvoice(d, c));
  scheduler.on(CONTRACT_EXPIRY, (d, c) => services.renewals.onExpiry(d, c));
  scheduler.on(RENEWAL_GRACE_END, (d, c) => services.renewals.onGraceEnd(d, c));
  // R5.1, R12.5: a sanction's planned end: lifted (unless restoring may be refused).
  scheduler.on(SANCTION_END, (d) => services.sanctions.onPlannedEnd(d));
  // R12.4: a termination's effective date: the deletion job is queued.
  scheduler.on(TERMINATION_DUE, (d, c) => services.terminations.onDue(d, c));
  // R3.12: a plan change's deadline (late if not applied), its announced reboot, its retries.
  scheduler.on(PLAN_CHANGE_DUE, (d, c) => services.planChanges.onDue(d, c));
  scheduler.on(PLAN_CHANGE_REBOOT, (d, c) => services.planChanges.onRebootDue(d, c));
  scheduler.on(PLAN_CHANGE_RETRY, (d, c) => services.planChanges.onRetryDue(d, c));
  // R3.6: due backups queued (spread over the day, per-host and per-target limits), weekly checks.
  scheduler.onTick('backups.sweep', (now) => services.backups.sweepThrottled(now));
  return scheduler;
}

export function allJobs(services: Services): JobDefinition<never>[] {
  return [
    ...platformJobs(services.ctx),
    ...mailJobs(services.mail),
    provisioningJob(services) as JobDefinition<never>,
    reconcileJob(services) as JobDefinition<never>,
    vpsPowerJob(services) as JobDefinition<never>,
    terminationJob(services) as JobDefinition<never>,
    planChangeJob(services) as JobDefinition<never>,
    retentionPurgeJob(services) as JobDefinition<never>,
    ...backupJobs(services),
  ];
}
