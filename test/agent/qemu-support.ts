// Shared by the QEMU driver tests: a network namespace with a bridge and a tap (documentation
// addresses only, no route or NAT out), a temp data dir, cleanup that runs even when a test fails.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { run } from '../../src/agent/exec/run.ts';
import { listInfogereQemus, signal, waitGone } from '../../src/agent/qemu/process.ts';
import type { QemuHostConfig } from '../../src/agent/qemu/driver.ts';
import type { VmEvent, VmSpec } from '../../src/agent/driver.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const imagesDir = path.join(repoRoot, 'var', 'images');

export interface TestNet {
  ns: string;
  bridge: string;
  tap: string;
  hostAddr: string;
  guestAddr: string;
  /** Adds another tap on the bridge (for a second VM). */
  addTap(name: string): Promise<void>;
  cleanup(): Promise<void>;
}

export const suffix = () => randomBytes(3).toString('hex');

/** A namespace `igq-xxxxxx` with bridge br0 (192.0.2.1/24) and tap `igtxxxxxx` on it. */
export async function createTestNet(): Promise<TestNet> {
  const s = suffix();
  const ns = `igq-${s}`;
  const tap = `igt${s}`;
  await run(['ip', 'netns', 'add', ns]);
  const net: TestNet = {
    ns,
    bridge: 'br0',
    tap,
    hostAddr: '192.0.2.1',
    guestAddr: '192.0.2.10',
    async addTap(name: string) {
      await run(['ip', '-n', ns, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
      await run(['ip', '-n', ns, 'link', 'set', name, 'master', 'br0', 'up']);
    },
    async cleanup() {
      await run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    },
  };
  try {
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await run(['ip', '-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
    await run(['ip', '-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'br0']);
    await run(['ip', '-n', ns, 'link', 'set', 'br0', 'up']);
    await net.addTap(tap);
  } catch (e) {
    await net.cleanup();
    throw e;
  }
  return net;
}

export async function tempDataDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'igq-'));
}

/** Kills every QEMU launched from `dataDir` (a failed test must not leave VMs running). */
export async function killQemusUnder(dataDir: string): Promise<number[]> {
  const killed: number[] = [];
  for (const q of await listInfogereQemus()) {
    if (!q.cmdline.some((a) => a.includes(dataDir + '/'))) continue;
    signal(q.pid, 'SIGKILL');
    await waitGone(q.pid, 5_000);
    killed.push(q.pid);
  }
  return killed;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function baseConfig(dataDir: string, extra: Partial<QemuHostConfig> = {}): QemuHostConfig {
  return { dataDir, imagesDir, cpuRatio: 4, ramRatio: 1.5, accel: 'tcg', diskWipe: 'discard', ...extra };
}

export function spec(id: string, over: Partial<VmSpec> = {}): VmSpec {
  return {
    id,
    vcpus: 1,
    memoryMiB: 256,
    diskGiB: 1,
    image: 'infogere-mini',
    seed: { hostname: id, user: { name: 'client' } },
    ...over,
  };
}

/** Collects events; `waitFor` resolves on the first matching one (or rejects after timeoutMs). */
export function eventLog() {
  const events: VmEvent[] = [];
  const waiters: { pred: (e: VmEvent) => boolean; resolve: (e: VmEvent) => void }[] = [];
  return {
    events,
    listener: (e: VmEvent) => {
      events.push(e);
      for (const w of [...waiters])
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
    },
    waitFor(pred: (e: VmEvent) => boolean, timeoutMs: number): Promise<VmEvent> {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`)),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (e) => {
            clearTimeout(t);
            resolve(e);
          },
        });
      });
    },
  };
}

export const imageReady = async (): Promise<boolean> => {
  try {
    await run(['test', '-f', path.join(imagesDir, 'infogere-mini', 'rootfs.ext4')]);
    return true;
  } catch {
    return false;
  }
};
