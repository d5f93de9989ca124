// How mail delivery runs in the background (wired in jobs/registry.ts):
// - `mail.deliver`, a pg-boss job sent with each mail in the caller's transaction (so it runs
//   after the commit, and never for a rolled-back one) and by a staff retry: it delivers
//   everything due. Idempotent: rows are claimed (repositories/mail.ts), a second run finds
//   nothing to do;
// - a sweep on every scheduler tick (INFOGERE_SCHEDULER_TICK_SECONDS, on the injected clock; an
//   `onTick` hook set in jobs/registry.ts): retries whose backoff has passed, a claim left by a
//   dead worker, anything a job missed.
// Tests drive the same code: `scheduler.tick()` sweeps, `queue.runAll(allJobs(services))`
// runs the jobs, `services.mail.deliverDue(now)` delivers directly.
import type { JobDefinition } from './boss.ts';
import { MAIL_DELIVER_JOB, type MailService } from '../services/mail.ts';

export function mailJobs(mail: MailService): JobDefinition<never>[] {
  const deliver: JobDefinition<{ outboxId?: string }> = {
    name: MAIL_DELIVER_JOB,
    retryLimit: 5,
    expireInSeconds: 15 * 60,
    async handler() {
      await mail.deliverDue();
    },
  };
  return [deliver as JobDefinition<never>];
}
