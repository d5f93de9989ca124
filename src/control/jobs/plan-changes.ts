// The `vps.plan_change` job (R3.12): applies a paid plan change through the host driver
// (services/plan-changes.ts `runApply`). Idempotent: the change row says which steps are done;
// a failure is recorded there and a retry deadline re-queues it (never a throw: pg-boss retries
// would hide the failure from the console).
import type { Services } from '../services/index.ts';
import { PLAN_CHANGE_JOB } from '../services/plan-changes.ts';
import type { JobDefinition } from './boss.ts';

export function planChangeJob(s: Services): JobDefinition<{ changeId: string }> {
  return {
    name: PLAN_CHANGE_JOB,
    retryLimit: 2,
    retryDelaySeconds: 30,
    heartbeatSeconds: 10,
    expireInSeconds: 300,
    concurrency: 2,
    handler: ({ changeId }) => s.planChanges.runApply(changeId),
  };
}
