// A lab for end-to-end VPS tests: a network namespace the test owns (no route or NAT out; only
// 192.0.2.0/24), the platform's env pointing its local host agent into it, a real SMTP server
// on loopback, and helpers to reach the guest over SSH from inside the namespace.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../../src/agent/exec/run.ts';
import { closeNftSession } from '../../src/agent/net/host.ts';
import { listInfogereQemus, signal, waitGone } from '../../src/agent/qemu/process.ts';
import { startTestSmtp, type TestSmtp } from './smtp.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const POOL = { cidr: '192.0.2.0/24', gateway: '192.0.2.1' };
export const BRIDGE = 'igbr0';

export interface VpsLab {
  ns: string;
  dataDir: string;
  smtp: TestSmtp;
  /** Env for startPlatform (DATABASE_URL added by the caller). */
  env: Record<string, string>;
  /** Puts the gateway address on the bridge so the test side can reach guests. */
  joinBridge(): Promise<void>;
  /** Runs test/agent/guest-ssh-probe.ts in the namespace; its JSON report. */
  sshProbe(
    host: string,
    user: string,
    password: string,
    rootPassword: string,
  ): Promise<Record<string, unknown>>;
  cleanup(): Promise<void>;
}

export async function createVpsLab(): Promise<VpsLab> {
  const ns = `igp-${randomBytes(3).toString('hex')}`;
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'infogere-lab-'));
  const smtp = await startTestSmtp();
  const lab: VpsLab = {
    ns,
    dataDir,
    smtp,
    env: {
      INFOGERE_DATA_DIR: dataDir,
      INFOGERE_IMAGES_DIR: path.join(repoRoot, 'var', 'images'),
      INFOGERE_AGENT_NETNS: ns,
      INFOGERE_AGENT_ACCEL: 'tcg',
      INFOGERE_AGENT_BRIDGE: BRIDGE,
      INFOGERE_SMTP_URL: smtp.url,
      INFOGERE_LOG_LEVEL: 'warn',
      INFOGERE_HTTP_PORT: '0',
    },
    async joinBridge() {
      const have = await run(['ip', '-n', ns, '-j', 'addr', 'show', 'dev', BRIDGE]);
      if (!have.stdout.includes(POOL.gateway))
        await run(['ip', '-n', ns, 'addr', 'add', `${POOL.gateway}/24`, 'dev', BRIDGE]);
    },
    sshProbe(host, user, password, rootPassword) {
      return new Promise((resolve, reject) => {
        const probe = path.join(repoRoot, 'test', 'agent', 'guest-ssh-probe.ts');
        const child = spawn(
          'ip',
          [
            'netns',
            'exec',
            ns,
            process.execPath,
            probe,
            host,
            user,
            password,
            rootPassword,
            String(Date.now()),
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('exit', () => {
          try {
            resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>);
          } catch {
            reject(new Error(`ssh probe: ${out} ${err}`));
          }
        });
      });
    },
    async cleanup() {
      // QEMUs of this lab (their data dir is ours), then the namespace with its bridge and taps.
      for (const q of await listInfogereQemus()) {
        if (q.cmdline.some((a) => a.includes(dataDir))) {
          signal(q.pid, 'SIGKILL');
          await waitGone(q.pid, 10_000);
        }
      }
      closeNftSession({ netns: ns }); // its nft process would keep the namespace alive
      await run(['ip', 'netns', 'del', ns]).catch(() => undefined);
      await smtp.stop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return lab;
}
