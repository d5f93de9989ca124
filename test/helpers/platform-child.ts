// Runs the platform in a child process for restart and crash tests, with one test-only job
// type: `test.slow` hangs on its first attempt (so the test can kill the process mid-job) and
// completes on the next, writing what happened to files the test reads.
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startPlatform } from '../../src/control/platform.ts';
import type { JobDefinition } from '../../src/control/jobs/boss.ts';

const dir = process.env.INFOGERE_DATA_DIR!;
const slow: JobDefinition<{ tag: string }> = {
  name: 'test.slow',
  heartbeatSeconds: 10,
  retryDelaySeconds: 1,
  async handler(data) {
    const log = path.join(dir, 'slow-job.log');
    const before = await readFile(log, 'utf8').catch(() => '');
    const attempt = before.split('\n').filter((l) => l.startsWith('start')).length + 1;
    await appendFile(log, `start ${data.tag} ${attempt} pid=${process.pid}\n`);
    if (attempt === 1) await new Promise(() => {}); // hang until killed
    await appendFile(log, `done ${data.tag} ${attempt}\n`);
  },
};

const platform = await startPlatform({ extraJobs: [slow as JobDefinition<never>] });
process.stdout.write(`READY ${platform.url}\n`);
process.stdin.on('data', async (chunk) => {
  const cmd = chunk.toString().trim();
  if (cmd.startsWith('send-slow ')) {
    await platform.jobs.send('test.slow', { tag: cmd.slice(10) });
    process.stdout.write('SENT\n');
  }
  if (cmd === 'stop') {
    await platform.stop();
    process.stdout.write('STOPPED\n');
    process.exit(0);
  }
});
