// The daily retention purge (R12.4, R6.2): an adapter over services/retention.ts's purgeDue,
// idempotent (a second run the same day deletes nothing).
import type { Services } from '../services/index.ts';
import type { JobDefinition } from './boss.ts';

export const RETENTION_PURGE_JOB = 'retention.purge';
export const RETENTION_PURGE_CRON = '23 3 * * *';

export function retentionPurgeJob(services: Services): JobDefinition<Record<string, never>> {
  return {
    name: RETENTION_PURGE_JOB,
    async handler() {
      await services.retention.purgeDue();
    },
  };
}
