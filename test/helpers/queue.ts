// A job queue for tests that don't start pg-boss: it records what services send, and
// `runAll` hands each job to the production handler (from the same registry the platform uses).
import type { JobDefinition } from '../../src/control/jobs/boss.ts';
import type { JobQueue } from '../../src/control/services/context.ts';

export interface RecordingQueue extends JobQueue {
  sent: { name: string; data: object }[];
  /** Runs queued jobs (and those they queue) with the given handlers until none is left. */
  runAll(defs: JobDefinition<never>[]): Promise<number>;
}

export function recordingQueue(): RecordingQueue {
  const sent: { name: string; data: object }[] = [];
  let next = 0;
  return {
    sent,
    async send(name, data) {
      sent.push({ name, data });
    },
    async runAll(defs) {
      let ran = 0;
      while (next < sent.length) {
        const job = sent[next++]!;
        const def = defs.find((d) => d.name === job.name);
        if (!def) throw new Error(`no handler for job ${job.name}`);
        await (def.handler as (d: object, m: { id: string; retryCount: number }) => Promise<void>)(job.data, {
          id: String(next),
          retryCount: 0,
        });
        ran++;
      }
      return ran;
    },
  };
}
