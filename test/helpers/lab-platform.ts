// One way for a test to run the real platform (startPlatform: pg-boss, the scheduler, HTTP on
// loopback) on its own fresh database and data dir; `startLabPlatform` adds the VPS lab
// (test/helpers/vps-lab.ts: a network namespace the test owns for the local host agent, a real
// SMTP server), and `labInfra` enrols what a VPS needs (datacenter, the lab's pool, this machine
// as host). `stop()` removes everything it made, in order, even after a failed start.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startPlatform, type Platform, type PlatformOptions } from '../../src/control/platform.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import type { Services } from '../../src/control/services/index.ts';
import { freshDatabase, type TestDatabase } from './db.ts';
import { ensurePanelBuilt } from './panel-build.ts';
import { createVpsLab, POOL, repoRoot, type VpsLab } from './vps-lab.ts';

export interface TestPlatform {
  platform: Platform;
  database: TestDatabase;
  dataDir: string;
  /** Stops the platform, drops its database, removes its data dir; safe to call twice. */
  stop(): Promise<void>;
}

export interface LabPlatform extends TestPlatform {
  lab: VpsLab;
}

export interface TestPlatformOptions extends Pick<PlatformOptions, 'clock' | 'extraJobs' | 'agents'> {
  /** Settings beyond the defaults (they win). */
  env?: Record<string, string>;
  /** Build the panel first (browser tests). */
  panel?: boolean;
}

/** A free loopback port, so the links in mails point at the server under test. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs `steps` in order, each even when one before failed; throws the first failure. */
async function all(steps: (() => Promise<unknown>)[]): Promise<void> {
  let first: unknown;
  for (const step of steps) await step().catch((e: unknown) => (first ??= e));
  if (first !== undefined) throw first;
}

async function start(
  opts: TestPlatformOptions,
  dataDir: string,
  env: Record<string, string>,
  cleanups: (() => Promise<unknown>)[],
): Promise<{ platform: Platform; database: TestDatabase }> {
  try {
    if (opts.panel) await ensurePanelBuilt();
    const database = await freshDatabase();
    cleanups.unshift(() => database.drop());
    const port = await freePort();
    const platform = await startPlatform({
      root: repoRoot,
      clock: opts.clock,
      extraJobs: opts.extraJobs,
      agents: opts.agents,
      env: {
        INFOGERE_DATA_DIR: dataDir,
        INFOGERE_LOG_LEVEL: 'warn',
        ...env,
        DATABASE_URL: database.url,
        INFOGERE_HTTP_HOST: '127.0.0.1',
        INFOGERE_HTTP_PORT: String(port),
        INFOGERE_PUBLIC_URL: `http://127.0.0.1:${port}`,
        ...opts.env,
      },
    });
    cleanups.unshift(() => platform.stop());
    return { platform, database };
  } catch (e) {
    await all(cleanups).catch(() => undefined);
    throw e;
  }
}

function once(steps: (() => Promise<unknown>)[]): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= all(steps));
}

/** The platform on a fresh database and data dir, listening on a loopback port; no VM network. */
export async function startTestPlatform(opts: TestPlatformOptions = {}): Promise<TestPlatform> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'infogere-test-'));
  const cleanups = [() => rm(dataDir, { recursive: true, force: true })];
  const { platform, database } = await start(opts, dataDir, {}, cleanups);
  return { platform, database, dataDir, stop: once(cleanups) };
}

/**
 * The platform with the VPS lab: its local host agent in a network namespace the test owns
 * (192.0.2.0/24, no route out), QEMU on TCG, mail to the lab's SMTP server.
 */
export async function startLabPlatform(opts: TestPlatformOptions = {}): Promise<LabPlatform> {
  const lab = await createVpsLab();
  const cleanups = [() => lab.cleanup()];
  const { platform, database } = await start(opts, lab.dataDir, lab.env, cleanups);
  return { platform, database, dataDir: lab.dataDir, lab, stop: once(cleanups) };
}

/** A datacenter, the lab's pool (192.0.2.0/24) and this machine as host `local`, through the services. */
export async function labInfra(s: Services, opts: { code?: string; name?: string } = {}) {
  const dc = await s.infra.createDatacenter(
    { code: opts.code ?? 'TST1', name: opts.name ?? 'Test', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  await s.infra.createPool({ datacenterId: dc.id, cidr: POOL.cidr, gateway: POOL.gateway }, SYSTEM_ACTOR);
  const host = await s.infra.registerHost(
    { name: 'local', datacenterId: dc.id, cpuCores: 2, memoryMiB: 4096, diskGiB: 20 },
    SYSTEM_ACTOR,
  );
  return { dc, host };
}
