// Background jobs on pg-boss, in the same PostgreSQL. Each job type is declared once with its
// retry policy; handlers must be idempotent (a job may run again after a crash).
import { fromKysely, PgBoss } from 'pg-boss';
import type { JobQueue } from '../services/context.ts';
import type { Logger } from 'pino';

export interface JobDefinition<T extends object = object> {
  name: string;
  handler: (data: T, meta: { id: string; retryCount: number }) => Promise<void>;
  retryLimit?: number;
  retryDelaySeconds?: number;
  /** Exponential backoff between retries (default true). */
  retryBackoff?: boolean;
  /** A worker that stops sending heartbeats (process killed) has its job retried after this. */
  heartbeatSeconds?: number;
  expireInSeconds?: number;
  concurrency?: number;
}

export interface Jobs extends JobQueue {
  readonly boss: PgBoss;
  stop(): Promise<void>;
}

export async function startJobs(
  url: string,
  defs: JobDefinition<never>[],
  log: Logger,
  opts: { work?: boolean } = {},
): Promise<Jobs> {
  // Supervision every 10 s: a job whose worker died (no heartbeat) is retried within ~20 s.
  const boss = new PgBoss({
    connectionString: url,
    schema: 'pgboss',
    superviseIntervalSeconds: 10,
    monitorIntervalSeconds: 10,
    max: 4,
  });
  // Only the message and code: pg's error objects carry the whole client, connection settings
  // included. A database shutting down (57P01: Ctrl-C reaches PostgreSQL too) is not an error.
  boss.on('error', (e: unknown) => {
    const { message, code } = e as { message?: string; code?: string };
    if (code === '57P01') log.warn({ code }, 'job queue: the database is shutting down');
    else log.error({ code, message }, 'job queue error');
  });
  await boss.start();
  for (const d of defs) {
    await boss.createQueue(d.name, {
      retryLimit: d.retryLimit ?? 5,
      retryDelay: d.retryDelaySeconds ?? 5,
      retryBackoff: d.retryBackoff ?? true,
      heartbeatSeconds: d.heartbeatSeconds ?? 10,
      expireInSeconds: d.expireInSeconds ?? 3600,
    });
    if (opts.work === false) continue;
    await boss.work<object>(
      d.name,
      { localConcurrency: d.concurrency ?? 1, pollingIntervalSeconds: 1 } as never,
      async (jobs: { id: string; data: object; retryCount?: number }[]) => {
        for (const j of jobs) {
          log.info({ job: d.name, id: j.id }, 'job start');
          await (d.handler as JobDefinition<object>['handler'])(j.data, {
            id: j.id,
            retryCount: j.retryCount ?? 0,
          });
          log.info({ job: d.name, id: j.id }, 'job done');
        }
      },
    );
  }
  return {
    boss,
    async send(name, data, o) {
      await boss.send(name, data, {
        ...(o?.singletonKey ? { singletonKey: o.singletonKey } : {}),
        ...(o?.startAfter ? { startAfter: o.startAfter } : {}),
        ...(o?.db ? { db: fromKysely(o.db as never) } : {}),
      });
    },
    stop: () => boss.stop({ graceful: true, timeout: 5000 } as never),
  };
}

/**
 * A queue usable before pg-boss is started (services are built first, since job handlers need
 * them): sends wait until `bind` gives it the real one.
 */
export function deferredQueue(): JobQueue & { bind(jobs: JobQueue): void } {
  let bound: (q: JobQueue) => void = () => {};
  const ready = new Promise<JobQueue>((resolve) => (bound = resolve));
  return {
    bind: (q) => bound(q),
    async send(name, data, opts) {
      await (await ready).send(name, data, opts);
    },
  };
}
