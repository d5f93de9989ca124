// `make test`: type check, lint, then every test file with node's test runner, against a
// PostgreSQL started for the run (embedded, under var/test-pg) unless
// INFOGERE_TEST_DATABASE_URL names a server. Test files clone a migrated template database
// (test/helpers/db.ts), so each starts from a clean schema in milliseconds.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
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
    concurrency: { type: 'string', default: process.env.INFOGERE_TEST_CONCURRENCY ?? '3' },
  },
});
export const TEMPLATE_DB = 'infogere_template';

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

let failed = false;
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
if (!values['skip-static']) {
  console.log('# type check (tsc --noEmit)');
  if ((await step([bin('tsc'), '--noEmit', '-p', 'tsconfig.json'])) !== 0) failed = true;
  if ((await step([bin('tsc'), '--noEmit', '-p', 'web/tsconfig.json'])) !== 0) failed = true;
  console.log('# lint (eslint)');
  if ((await step([bin('eslint'), '--max-warnings=0', '.'])) !== 0) failed = true;
}

let adminUrl = process.env.INFOGERE_TEST_DATABASE_URL;
let stopPg: (() => Promise<void>) | undefined;
if (!adminUrl) {
  const port = await freePort();
  const t0 = Date.now();
  const emb = await startEmbeddedPostgres({ dir: path.join(root, 'var', 'test-pg'), port });
  console.log(`# embedded PostgreSQL for the tests on ${new URL(emb.adminUrl).host} (${emb.startedHere ? "started" : "reused"} in ${Date.now() - t0} ms)`);
  adminUrl = emb.adminUrl;
  stopPg = emb.stop;
}

// A fresh migrated template for this run.
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
// Left over by an interrupted earlier run:
const stale = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'`);
for (const r of stale.rows as { datname: string }[]) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
await admin.end();
const tpl = createDb(withDatabaseName(adminUrl, TEMPLATE_DB));
await migrateToLatest(tpl.db as never);
await tpl.db.destroy();

const files = positionals.length > 0 ? positionals : ['test/**/*.test.ts'];
const code = await step(
  [process.execPath, '--test', `--test-concurrency=${values.concurrency}`, '--test-timeout=600000', ...files],
  { ...process.env, INFOGERE_TEST_ADMIN_URL: adminUrl, INFOGERE_TEST_TEMPLATE_DB: TEMPLATE_DB },
);
if (code !== 0) failed = true;
await stopPg?.();
if (failed) console.log('# FAILED: see above (type check, lint or tests)');
process.exit(failed ? 1 : 0);
