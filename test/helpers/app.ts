// An app over a fresh database with a clock the test moves; requests through `inject`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ManualClock } from '../../src/domain/clock.ts';
import { buildApp } from '../../src/control/app.ts';
import { loadConfig } from '../../src/control/config.ts';
import type { App } from '../../src/control/http/types.ts';
import { SecretBox } from '../../src/control/security/secretbox.ts';
import { totpCode } from '../../src/control/security/totp.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { createServices, type Services } from '../../src/control/services/index.ts';
import { createScheduler } from '../../src/control/jobs/registry.ts';
import type { Scheduler } from '../../src/control/jobs/scheduler.ts';
import { recordingQueue, type RecordingQueue } from './queue.ts';
import { localAgents, type HostAgents } from '../../src/control/hosts/agents.ts';
import { resticRepos } from '../../src/agent/backup/restic.ts';
import { freshDatabase, type TestDatabase } from './db.ts';
import { randomBytes } from 'node:crypto';

export interface TestApp {
  app: App;
  services: Services;
  /** The production scheduler with every module's deadline handlers; call `tick()` after moving the clock. */
  scheduler: Scheduler;
  /** Jobs the services sent; `t.queue.runAll(allJobs(t.services))` runs them in process. */
  queue: RecordingQueue;
  clock: ManualClock;
  database: TestDatabase;
  dataDir: string;
  close(): Promise<void>;
}

export async function testApp(
  env: Record<string, string> = {},
  opts: { agents?: HostAgents } = {},
): Promise<TestApp> {
  const database = await freshDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'infogere-test-'));
  const config = loadConfig(
    { INFOGERE_DATA_DIR: dataDir, DATABASE_URL: database.url, ...env },
    process.cwd(),
  );
  const clock = new ManualClock('2026-03-01T09:00:00Z');
  const queue = recordingQueue();
  const agents = opts.agents ?? localAgents(config, clock, pino({ level: 'silent' }));
  const services = createServices({
    db: database.db,
    queue,
    agents,
    clock,
    config,
    secrets: new SecretBox(randomBytes(32)),
    log: pino({ level: 'silent' }),
    backupRepos: resticRepos(),
  });
  const app = await buildApp(services, { webDir: path.join(dataDir, 'no-panel') });
  await app.ready();
  const scheduler = createScheduler(services, pino({ level: 'silent' }));
  return {
    app,
    services,
    scheduler,
    queue,
    clock,
    database,
    dataDir,
    async close() {
      await app.close();
      await agents.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const PASSWORD = 'correct horse battery staple';

export async function makeStaff(
  t: TestApp,
  role: 'admin' | 'support' = 'admin',
  email = `${role}-${randomBytes(3).toString('hex')}@example.test`,
) {
  const r = await t.services.identity.createStaff(
    { email, name: `The ${role}`, password: PASSWORD, role },
    SYSTEM_ACTOR,
  );
  return { ...r, email };
}

export async function makeClient(
  t: TestApp,
  email = `client-${randomBytes(3).toString('hex')}@example.test`,
) {
  const r = await t.services.identity.createClientAccount(
    { accountName: `Account of ${email}`, email, name: 'A Client', password: PASSWORD },
    SYSTEM_ACTOR,
  );
  return { ...r, email };
}

/** A cookie session: the cookie header and the CSRF token to send on writes. */
export interface Session {
  cookie: string;
  csrf: string;
}

export async function login(
  t: TestApp,
  email: string,
  opts: { totpSecret?: string; ip?: string } = {},
): Promise<Session> {
  const body: Record<string, string> = { email, password: PASSWORD };
  // A TOTP code is accepted once: move to the next 30 s step so each login has a fresh code.
  if (opts.totpSecret) body.totp = totpCode(opts.totpSecret, t.clock.advance(30_000));
  const r = await t.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: body,
    remoteAddress: opts.ip ?? '198.51.100.7',
  });
  if (r.statusCode !== 200) throw new Error(`login failed: ${r.statusCode} ${r.body}`);
  const set = r.cookies.find((c) => c.name === 'infogere_session');
  if (!set) throw new Error('no session cookie');
  return { cookie: `infogere_session=${set.value}`, csrf: (r.json() as { csrfToken: string }).csrfToken };
}
