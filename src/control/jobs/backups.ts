// The backups' queues (R3.6, R3.7): adapters over services/backups.ts. A backup that fails is
// recorded by the service and retried by the sweep (not by pg-boss: the sweep spreads and limits
// them); a restore's job runs once, its failure recorded and alerted by the service.
import { BACKUP_JOB, CHECK_JOB, RESTORE_JOB } from '../services/backups.ts';
import type { Services } from '../services/index.ts';
import type { JobDefinition } from './boss.ts';

export function backupJobs(s: Services): JobDefinition<never>[] {
  const backup: JobDefinition<{ vpsId: string }> = {
    name: BACKUP_JOB,
    retryLimit: 0,
    heartbeatSeconds: 30,
    expireInSeconds: 6 * 3600,
    concurrency: 4,
    handler: async ({ vpsId }) => {
      await s.backups.run(vpsId, 'schedule');
    },
  };
  const restore: JobDefinition<{ restoreId: string }> = {
    name: RESTORE_JOB,
    retryLimit: 3,
    retryDelaySeconds: 60,
    heartbeatSeconds: 30,
    expireInSeconds: 6 * 3600,
    concurrency: 2,
    handler: async ({ restoreId }) => {
      await s.backups.runRestore(restoreId);
    },
  };
  const check: JobDefinition<{ vpsId: string }> = {
    name: CHECK_JOB,
    retryLimit: 1,
    heartbeatSeconds: 30,
    expireInSeconds: 6 * 3600,
    concurrency: 1,
    handler: async ({ vpsId }) => {
      await s.backups.check(vpsId);
    },
  };
  return [backup, restore, check] as JobDefinition<never>[];
}
