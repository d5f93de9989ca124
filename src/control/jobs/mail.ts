// How mail delivery runs in the background (wired in jobs/registry.ts):
// - `mail.deliver`, a pg-boss job sent with each mail in the caller's transaction (so it runs
//   after the commit, and never for a rolled-back one) and by a staff retry: it delivers
//   everything due. Idempotent: rows are claimed (repositories/mail.ts), a second run finds
//   nothing to do;
// - a sweep on every scheduler tick (INFOGERE_SCHEDULER_TICK_SECONDS, on the injected clock):
//   retries whose backoff has passed, a claim left by a dead worker, anything a job missed.
// Tests drive the same code: `scheduler.tick()` sweeps, `queue.runAll(allJobs(services))`
// runs the jobs, `services.mail.deliverDue(now)` delivers directly.
import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.ts';
import type { Db } from '../db/database.ts';
import type { JobDefinition } from './boss.ts';
import { Scheduler } from './scheduler.ts';
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

/** The deadline scheduler, whose tick also sweeps the mail outbox. */
export class MailSweepingScheduler extends Scheduler {
  readonly #mail: MailService;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(db: Db, clock: Clock, log: Logger, mail: MailService) {
    super(db, clock, log);
    this.#mail = mail;
    this.#clock = clock;
    this.#log = log;
  }

  override async tick(): Promise<number> {
    const handled = await super.tick();
    try {
      await this.#mail.deliverDue(this.#clock.now());
    } catch (e) {
      this.#log.error({ err: e }, 'mail sweep failed');
    }
    return handled;
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.#mail.close();
  }
}
