// One process runs the whole platform by default: database (embedded unless DATABASE_URL),
// migrations, jobs, the deadline scheduler and the HTTP server (API + panel).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../domain/clock.ts';
import { buildApp, createLogger } from './app.ts';
import { loadConfig, type Config } from './config.ts';
import { createDb, ensureDatabase, withDatabaseName, type Db } from './db/database.ts';
import { claimPlatformLock, startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.ts';
import { migrateToLatest } from './db/migrate.ts';
import type { App } from './http/types.ts';
import { resticRepos } from '../agent/local-agent.ts';
import { localAgents, type HostAgents } from './hosts/agents.ts';
import { deferredQueue, startJobs, type JobDefinition, type Jobs } from './jobs/boss.ts';
import { prettyDestination, wantsPretty } from './pretty-log.ts';
import { allJobs, createScheduler } from './jobs/registry.ts';
import type { Scheduler } from './jobs/scheduler.ts';
import { RECONCILE_CRON, trafficCollector } from './jobs/traffic.ts';
import { ddosSampler } from './jobs/ddos.ts';
import { RETENTION_PURGE_CRON, RETENTION_PURGE_JOB } from './jobs/retention.ts';
import { spamSampler } from './jobs/spam.ts';
import { receiverCertificate, startSyslogReceiver, type SyslogReceiver } from './syslog-receiver.ts';
import { RECONCILE_JOB } from './services/network-blocks.ts';
import { loadMasterKey, SecretBox } from './security/secretbox.ts';
import { createServices, type Services } from './services/index.ts';
import { startSupportSmtp, type SupportSmtp } from './support-smtp.ts';

export const DATABASE_NAME = 'infogere';

export interface PlatformOptions {
  env?: Record<string, string | undefined>;
  clock?: Clock;
  root?: string;
  logger?: Logger;
  /** Listen on the configured port (default true); false: build only (tests use inject). */
  listen?: boolean;
  /** Job types beyond the platform's own (later modules; tests). */
  extraJobs?: JobDefinition<never>[];
  /** The hosts' agents; default: this machine's, opened on first use. */
  agents?: HostAgents;
}

export interface Platform {
  readonly config: Config;
  readonly db: Db;
  readonly services: Services;
  readonly scheduler: Scheduler;
  readonly jobs: Jobs;
  readonly app: App;
  readonly url: string;
  readonly log: Logger;
  /** R6.2: the syslog receiver, when a syslog port is set. */
  readonly syslog: SyslogReceiver | null;
  stop(): Promise<void>;
}

/** Opens the database (starting the embedded one if needed) and migrates it. */
export async function openDatabase(
  config: Config,
  log: Logger,
  opts: { adopt?: boolean } = {},
): Promise<{ db: Db; url: string; close(): Promise<void>; embedded?: EmbeddedDatabase }> {
  let url = config.databaseUrl;
  let embedded: EmbeddedDatabase | undefined;
  if (!url) {
    const t0 = Date.now();
    embedded = await startEmbeddedPostgres({
      dir: path.join(config.dataDir, 'pg'),
      port: config.embeddedPgPort,
      log: (l) => log.debug({ pg: l }, 'postgres'),
      adopt: opts.adopt,
    });
    log.info({ ms: Date.now() - t0, reused: !embedded.startedHere }, 'embedded PostgreSQL ready');
    await ensureDatabase(embedded.adminUrl, DATABASE_NAME);
    url = withDatabaseName(embedded.adminUrl, DATABASE_NAME);
  }
  const { db } = createDb(url);
  const applied = await migrateToLatest(db as never);
  if (applied.length) log.info({ applied }, 'migrations applied');
  return {
    db,
    url,
    embedded,
    async close() {
      await db.destroy();
    },
  };
}

export async function startPlatform(opts: PlatformOptions = {}): Promise<Platform> {
  const config = loadConfig(opts.env ?? process.env, opts.root ?? process.cwd());
  const log =
    opts.logger ??
    createLogger(
      config.logLevel,
      wantsPretty(config.logFormat)
        ? prettyDestination({ color: process.stdout.isTTY === true && !process.env.NO_COLOR })
        : undefined,
    );
  const clock = opts.clock ?? systemClock;
  await mkdir(config.dataDir, { recursive: true });

  // The embedded database belongs to the one platform of its data dir: it adopts a server a
  // crashed platform left running, and stops it on a clean shutdown.
  const releaseLock = config.databaseUrl ? async () => {} : await claimPlatformLock(config.dataDir);
  const database = await openDatabase(config, log, { adopt: !config.databaseUrl });
  const secrets = new SecretBox(await loadMasterKey(config.masterKey, config.dataDir));
  const queue = deferredQueue();
  const agents = opts.agents ?? localAgents(config, clock, log);
  const ctx = { db: database.db, queue, agents, clock, config, secrets, log, backupRepos: resticRepos() };
  const services = createServices(ctx);
  agents.onVmEvent(
    (e) =>
      void services.vmEvents
        .handle(e)
        .catch((err: unknown) => log.error({ err, event: e }, 'VM event not recorded')),
  );
  // Mails written before 0012 with a usable link in clear: redacted (and sealed) before any
  // delivery or console read.
  const legacy = await services.mail.sealLegacySecrets();
  if (legacy.spent || legacy.redacted) log.info(legacy, 'one-time links of earlier mails checked');
  const scheduler = createScheduler(services, log);
  const jobDefs: JobDefinition<never>[] = [...allJobs(services), ...(opts.extraJobs ?? [])];
  const jobs = await startJobs(database.url, jobDefs, log);
  queue.bind(jobs);
  await jobs.boss.schedule('maintenance.prune', '17 * * * *', {});
  // R12.4, R6.2: records past their legal period deleted once a day.
  await jobs.boss.schedule(RETENTION_PURGE_JOB, RETENTION_PURGE_CRON, {});
  scheduler.start(config.schedulerTickSeconds * 1000);
  // R6.1: suspensions changed while the platform was down (listeners run only in a live process).
  void services.vps
    .reconcileSuspensions()
    .then((r) => (r.paused || r.resumed ? log.info(r, 'VPS suspensions reconciled') : undefined))
    .catch((err: unknown) => log.error({ err }, 'VPS suspension reconcile failed'));
  // R11.1–R11.3: contracts opened before the renewals module get their deadlines (once).
  void services.renewals
    .planUnplanned()
    .then((n) => (n ? log.info({ contracts: n }, 'contract renewal deadlines planned') : undefined))
    .catch((err: unknown) => log.error({ err }, 'planning contract renewal deadlines failed'));
  // R3.13: traffic counted every few seconds; R6.3/R3.11/R5.1: the hosts' rules reconciled every 5 min.
  await jobs.boss.schedule(RECONCILE_JOB, RECONCILE_CRON, {});
  const traffic = trafficCollector(services, log);
  traffic.start(config.trafficIntervalSeconds * 1000);
  // R7.1: port-25 statistics read every few seconds, the anti-spam rules checked.
  const spam = spamSampler(services, log);
  spam.start(config.spamSampleSeconds * 1000);
  // R9.1: DDoS detection every second (mitigations in force are re-applied on the first round).
  const ddos = ddosSampler(services, log);
  if (config.ddosIntervalMs > 0) ddos.start(config.ddosIntervalMs);

  // R6.2: the log store's syslog receiver, when a port is set.
  let syslog: SyslogReceiver | null = null;
  if (config.syslogTlsPort || config.syslogTcpPort || config.syslogUdpPort)
    syslog = await startSyslogReceiver(services.logStore, log, {
      host: config.syslogHost,
      ...(config.syslogTlsPort
        ? { tls: { port: config.syslogTlsPort, ...(await receiverCertificate(config)) } }
        : {}),
      ...(config.syslogTcpPort ? { tcpPort: config.syslogTcpPort } : {}),
      ...(config.syslogUdpPort ? { udpPort: config.syslogUdpPort } : {}),
    });

  const app = await buildApp(services, { logger: log });
  let url = `http://${config.httpHost}:${config.httpPort}`;
  if (opts.listen !== false) {
    url = await app.listen({ host: config.httpHost, port: config.httpPort });
    log.info({ url, panel: config.publicUrl }, 'infogere is up');
  }
  // R4.3: replies to tickets by email (INFOGERE_SUPPORT_SMTP_PORT; 0: none).
  const supportSmtp: SupportSmtp | null =
    config.supportSmtpPort > 0 ? await startSupportSmtp(config, services.ticketInbound, log) : null;
  let stopped = false;
  return {
    config,
    db: database.db,
    services,
    syslog,
    scheduler,
    jobs,
    app,
    url,
    log,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.close();
      await supportSmtp?.close();
      await syslog?.stop();
      await traffic.stop();
      await spam.stop();
      await ddos.stop();
      await scheduler.stop();
      await jobs.stop();
      services.mail.close();
      await agents.close();
      await database.close();
      if (database.embedded?.owned) await database.embedded.stop();
      await releaseLock();
    },
  };
}
