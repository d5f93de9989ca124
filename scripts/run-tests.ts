// `make test`: type check, lint, then every test file with node's test runner, against a
// PostgreSQL started for the run (embedded, under var/test-pg) unless
// TEST_DATABASE_URL names a server. Test files clone a migrated template database
// (test/helpers/db.ts), so each starts from a clean schema in milliseconds.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createDb, withDatabaseName } from '../src/control/db/database.ts';
import { startEmbeddedPostgres } from '../src/control/db/embedded.ts';
import { migrateToLatest } from '../src/control/db/migrate.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'skip-static': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: process.env.TEST_CONCURRENCY ?? '3' },
  },
});
// Each run has its own PostgreSQL and template, so several runs (developers side by side) never
// touch each other's databases.
const runId = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
export const TEMPLATE_DB = `tpl_${runId}`;

function step(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', cwd: root, env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs killed before they could clean up leave their server and files: stop and remove them. */
async function removeAbandonedRuns(dir: string): Promise<void> {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const runDir = path.join(dir, name);
    const owner = Number(await readFile(path.join(runDir, 'owner.pid'), 'utf8').catch(() => '0'));
    if (owner > 0 && alive(owner)) continue;
    if (owner === 0 && Date.now() - (await stat(runDir)).mtimeMs < 600_000) continue; // an older runner's, maybe live
    const pm = Number(
      (await readFile(path.join(runDir, 'data', 'postmaster.pid'), 'utf8').catch(() => '0')).split('\n')[0],
    );
    if (pm > 0 && alive(pm)) {
      process.kill(pm, 'SIGINT');
      for (let i = 0; i < 100 && alive(pm); i++) await new Promise((r) => setTimeout(r, 100));
    }
    await rm(runDir, { recursive: true, force: true });
  }
}

let failed = false;
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
if (!values['skip-static']) {
  console.log('# type check (tsc --noEmit)');
  if ((await step([bin('tsc'), '--noEmit', '-p', 'tsconfig.json'])) !== 0) failed = true;
  if ((await step([bin('tsc'), '--noEmit', '-p', 'web/tsconfig.json'])) !== 0) failed = true;
  console.log('# lint (eslint)');
  if ((await step([bin('eslint'), '--max-warnings=0', '.'])) !== 0) failed = true;
  console.log('# format (prettier --check)');
  if ((await step([bin('prettier'), '--check', '--log-level=warn', '.'])) !== 0) failed = true;
}

let adminUrl = process.env.TEST_DATABASE_URL;
let stopPg: (() => Promise<void>) | undefined;
const pgDir = path.join(root, 'var', 'test-pg', `run-${runId}`);
if (!adminUrl) {
  await removeAbandonedRuns(path.dirname(pgDir));
  // Claimed before initdb, so a run starting at the same time never takes it for abandoned.
  await mkdir(pgDir, { recursive: true, mode: 0o711 });
  await writeFile(path.join(pgDir, 'owner.pid'), String(process.pid));
  const port = await freePort();
  const t0 = Date.now();
  const emb = await startEmbeddedPostgres({ dir: pgDir, port });
  console.log(
    `# embedded PostgreSQL for the tests on ${new URL(emb.adminUrl).host} (${emb.startedHere ? 'started' : 'reused'} in ${Date.now() - t0} ms)`,
  );
  adminUrl = emb.adminUrl;
  stopPg = async () => {
    await emb.stop();
    await rm(pgDir, { recursive: true, force: true });
  };
}

// A fresh migrated template for this run.
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
await admin.end();
const tpl = createDb(withDatabaseName(adminUrl, TEMPLATE_DB));
await migrateToLatest(tpl.db as never);
await tpl.db.destroy();

const files = positionals.length > 0 ? positionals : ['test/**/*.test.ts'];
const code = await step(
  [process.execPath, '--test', `--test-concurrency=${values.concurrency}`, '--test-timeout=600000', ...files],
  {
    ...process.env,
    TEST_ADMIN_URL: adminUrl,
    TEST_TEMPLATE_DB: TEMPLATE_DB,
    TEST_RUN_ID: runId,
  },
);
if (code !== 0) failed = true;
if (stopPg) await stopPg();
else {
  // An external server: remove what this run made.
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  const mine = await c.query(`SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`, [
    TEMPLATE_DB,
    `t\\_${runId}\\_%`,
  ]);
  for (const r of mine.rows as { datname: string }[])
    await c.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  await c.end();
}
if (failed) console.log('# FAILED: see above (type check, lint or tests)');
process.exit(failed ? 1 : 0);
