// The `contract.terminate` queue (R12.4): an adapter over services/termination-workflow.ts,
// which deletes the VPS step by step. A step error is rethrown by the service, so pg-boss retries.
import type { Services } from '../services/index.ts';
import { TERMINATE_JOB } from '../services/terminations.ts';
import type { JobDefinition } from './boss.ts';

export function terminationJob(s: Services): JobDefinition<{ terminationId: string }> {
  return {
    name: TERMINATE_JOB,
    retryLimit: 50,
    retryDelaySeconds: 30,
    retryBackoff: false,
    heartbeatSeconds: 10,
    expireInSeconds: 15 * 60,
    concurrency: 2,
    handler: ({ terminationId }) => s.terminationWorkflow.run(terminationId),
  };
}
