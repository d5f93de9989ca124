// The `vps.provision` queue (R3.1, R3.2, R3.4, R2.1): an adapter over services/provisioning.ts,
// which holds the workflow. A step error is rethrown by the service, so pg-boss retries it.
import type { Services } from '../services/index.ts';
import type { JobDefinition } from './boss.ts';

export const PROVISION_JOB = 'vps.provision';

export function provisioningJob(s: Services): JobDefinition<{ vpsId: string }> {
  return {
    name: PROVISION_JOB,
    // pg-boss retries (after errors and after crashes) far more than PROVISION_MAX_ERRORS.
    retryLimit: 30,
    retryDelaySeconds: 5,
    // A step error already waits its turn; a crash should resume promptly, not after backoff.
    retryBackoff: false,
    heartbeatSeconds: 10,
    expireInSeconds: 15 * 60,
    concurrency: 2,
    handler: ({ vpsId }, meta) => s.provisioning.run(vpsId, { jobRetry: meta.retryCount }),
  };
}
