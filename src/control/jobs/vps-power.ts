// The `vps.power` job: one power action (start, stop, reboot, poweroff) through the host driver.
// The stop ladder may take ~105 s (guest agent 30 s, ACPI 60 s, SIGTERM 10 s, SIGKILL 5 s), so it
// runs here, not in the HTTP request. Idempotent: a run after a crash finds the work maybe done.
import type { Services } from '../services/index.ts';
import { POWER_JOB } from '../services/vps.ts';
import type { JobDefinition } from './boss.ts';

export function vpsPowerJob(s: Services): JobDefinition<{ actionId: string }> {
  return {
    name: POWER_JOB,
    retryLimit: 2,
    retryDelaySeconds: 5,
    heartbeatSeconds: 10,
    expireInSeconds: 300,
    concurrency: 4,
    handler: ({ actionId }) => s.vps.runPower(actionId),
  };
}
