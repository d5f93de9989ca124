// The "other datacenter" of the backup tests (R3.6): a network namespace of its own, reached
// from this one by a veth pair (198.51.100.0/30, no route out of it), where Debian's rclone
// serves restic's REST protocol twice over one directory, with `--private-repos` and a user of
// its own: append-only (what hosts get) and full access (the platform's maintenance:
// forget, prune, deletion). `cleanup` stops both servers and removes the namespace and files.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { run } from '../../src/agent/exec/run.ts';
import { until } from './until.ts';

export interface BackupTarget {
  ns: string;
  /** Where rclone keeps the repositories (listed by the tests: "nothing left"). */
  dir: string;
  user: string;
  /** rest:http://user:pass@198.51.100.2:8000/<user>/ — append-only. */
  appendUrl: string;
  /** The same repositories, full access (port 8001). */
  adminUrl: string;
  cleanup(): Promise<void>;
}

export async function startBackupTarget(): Promise<BackupTarget> {
  const s = randomBytes(3).toString('hex');
  const ns = `igb-${s}`;
  const hostIf = `igbh${s}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'igb-'));
  const user = `dc2${s}`;
  const pass = randomBytes(12).toString('hex');
  const children: ChildProcess[] = [];
  const cleanup = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await run(['ip', 'link', 'del', hostIf]).catch(() => undefined);
    await run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run(['ip', 'netns', 'add', ns]);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await run(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await run(['ip', 'addr', 'add', '198.51.100.1/30', 'dev', hostIf]);
    await run(['ip', 'link', 'set', hostIf, 'up']);
    await run(['ip', '-n', ns, 'addr', 'add', '198.51.100.2/30', 'dev', 'eth0']);
    await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    for (const [port, extra] of [
      [8000, ['--append-only']],
      [8001, []],
    ] as const) {
      const argv = ['netns', 'exec', ns, 'rclone', 'serve', 'restic', '--addr', `198.51.100.2:${port}`];
      argv.push(...extra, '--private-repos', '--user', user, '--pass', pass, dir);
      const c = spawn('ip', argv, { stdio: 'ignore' });
      children.push(c);
    }
    for (const port of [8000, 8001])
      await until(
        `rclone on port ${port}`,
        async () => {
          const r = await fetch(`http://198.51.100.2:${port}/${user}/`, {
            headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` },
          }).catch(() => null);
          return r !== null;
        },
        15_000,
      );
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    ns,
    dir,
    user,
    appendUrl: `rest:http://${user}:${pass}@198.51.100.2:8000/${user}/`,
    adminUrl: `rest:http://${user}:${pass}@198.51.100.2:8001/${user}/`,
    cleanup,
  };
}
