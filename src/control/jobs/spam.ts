// R7.1: the anti-spam sampler runs every INFOGERE_SPAM_SAMPLE_SECONDS in the platform process
// (a few seconds behind the traffic; pg-boss schedules have a one-minute grain). Each round is
// one `spam.sample()`: one read per host, nothing stored unless a rule is crossed.
import type { Logger } from 'pino';
import type { Services } from '../services/index.ts';

export interface SpamSampler {
  runOnce(): Promise<void>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function spamSampler(services: Services, log: Logger): SpamSampler {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const round = async () => {
    const r = await services.spam.sample();
    if (r.identified.length || r.errors.length) log.info({ spam: r }, 'port-25 statistics sampled');
  };
  const runOnce = () =>
    (running ??= round()
      .catch((e: unknown) => log.error({ err: e }, 'port-25 sampling failed'))
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
