// The platform's own housekeeping jobs.
import { DAY, HOUR, MINUTE } from '../../domain/clock.ts';
import { pruneLoginAttempts } from '../repositories/login-attempts.ts';
import { deleteExpiredSessions } from '../repositories/sessions.ts';
import type { ServiceContext } from '../services/context.ts';
import type { JobDefinition } from './boss.ts';

export function platformJobs(ctx: ServiceContext): JobDefinition<never>[] {
  const prune: JobDefinition<Record<string, never>> = {
    name: 'maintenance.prune',
    // Idempotent: deleting what is expired twice deletes nothing the second time.
    async handler() {
      const now = ctx.clock.now().getTime();
      const n = await deleteExpiredSessions(
        ctx.db,
        new Date(now - ctx.config.sessionIdleMinutes * MINUTE),
        new Date(now - ctx.config.sessionAbsoluteHours * HOUR),
      );
      await pruneLoginAttempts(ctx.db, new Date(now - 30 * DAY));
      ctx.log.info({ sessions: n }, 'expired sessions pruned');
    },
  };
  return [prune as JobDefinition<never>];
}
