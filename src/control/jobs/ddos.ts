// R9.1: the DDoS sampler runs every INFOGERE_DDOS_INTERVAL_MS (default 1 s) in the platform
// process; each round is one `ddos.sample()`; a round still running makes the next tick wait.
import type { Logger } from 'pino';
import type { Services } from '../services/index.ts';

export interface DdosSampler {
  runOnce(): Promise<void>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function ddosSampler(services: Services, log: Logger): DdosSampler {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const round = async () => {
    const r = await services.ddos.sample();
    if (r.started.length || r.ended.length || r.errors.length) log.info({ ddos: r }, 'DDoS sampling');
  };
  const runOnce = () =>
    (running ??= round()
      .catch((e: unknown) => log.error({ err: e }, 'DDoS sampling failed'))
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
