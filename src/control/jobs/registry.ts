// Where every module plugs its background work in: deadline handlers (acted on by the
// scheduler tick) and pg-boss job types. One line per module; the platform and the test
// helpers build from here, so tests drive exactly what production runs.
import type { Logger } from 'pino';
import type { Services } from '../services/index.ts';
import type { JobDefinition } from './boss.ts';
import { platformJobs } from './maintenance.ts';
import { Scheduler } from './scheduler.ts';

export function createScheduler(services: Services, log: Logger): Scheduler {
  const scheduler = new Scheduler(services.ctx.db, services.ctx.clock, log);
  // Modules register their deadline kinds here, e.g. scheduler.on('identity.proof_due', …).
  return scheduler;
}

export function allJobs(services: Services): JobDefinition<never>[] {
  return [...platformJobs(services.ctx)];
}
