// R3.13: the traffic collector runs every INFOGERE_TRAFFIC_INTERVAL_SECONDS in the platform
// process (pg-boss schedules have a one-minute grain); each round is one `traffic.collect()`
// (one read and one transaction per host). The network reconcile is a pg-boss job every 5 min.
import type { Logger } from 'pino';
import type { Services } from '../services/index.ts';
import { RECONCILE_JOB } from '../services/network-blocks.ts';
import type { JobDefinition } from './boss.ts';

export const RECONCILE_CRON = '*/5 * * * *';

export interface TrafficCollector {
  /** One round now (waits for a running one). */
  runOnce(): Promise<void>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function trafficCollector(services: Services, log: Logger): TrafficCollector {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const round = async () => {
    const r = await services.traffic.collect();
    if (r.errors.length || r.flagged || r.throttled.length) log.info({ traffic: r }, 'traffic collected');
  };
  const runOnce = () =>
    (running ??= round()
      .catch((e: unknown) => log.error({ err: e }, 'traffic collection failed'))
      .finally(() => (running = undefined)));
  return {
    runOnce,
    start(intervalMs) {
      timer = setInterval(() => void runOnce(), intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

export function reconcileJob(services: Services): JobDefinition<Record<string, never>> {
  return {
    name: RECONCILE_JOB,
    retryLimit: 0,
    expireInSeconds: 4 * 60,
    // Idempotent: a second pass over repaired rules finds nothing to fix.
    async handler() {
      await services.networkBlocks.reconcile();
    },
  };
}
