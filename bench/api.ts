// `npm run bench:api`: the API's read latency under a steady load, on a mid-size provider's data.
//
// The real server (`infogere start`, its own process through scripts/node.sh: pg-boss, the
// scheduler, the traffic collector, the HTTP API) on an embedded PostgreSQL this script starts
// under var/bench-pg (removed at the end), seeded by bench/seed-api.ts with 10,000 VPSs, 2,000
// accounts and 100,000 invoices. autocannon then sends BENCH_RATE requests a second (200) for
// BENCH_SECONDS (30) over a mix of client reads (VPS list and detail, invoice list and detail,
// each request as one of 200 clients, on its own rows) and staff lists, after BENCH_WARMUP_SECONDS
// (5) of the same mix not counted; then the same rate on a bare Fastify route (bench/bare-server.ts)
// in the same run. Prints p50/p99 per endpoint and overall, and the ratio to the bare route.
// Goal: p99 ≤ 50 ms. Any answer other than 2xx fails the run (figures of errors are no figures).
//
// The load: BENCH_CONNECTIONS (40) connections, each its own autocannon instance at
// rate/connections requests a second, started 1/connections of a second apart — autocannon sends
// a connection's quota at the start of each second, so staggering spreads the load over the
// second instead of a burst of every connection at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { ensureDatabase, withDatabaseName, createDb } from '../src/control/db/database.ts';
import { startEmbeddedPostgres } from '../src/control/db/embedded.ts';
import { migrateToLatest } from '../src/control/db/migrate.ts';
import { seedApiBench, type Seeded, type SeededClient } from './seed-api.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const num = (name: string, def: number) => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const RATE = num('BENCH_RATE', 200);
const SECONDS = num('BENCH_SECONDS', 30);
const WARMUP = num('BENCH_WARMUP_SECONDS', 5);
const CONNECTIONS = Math.min(num('BENCH_CONNECTIONS', 40), RATE);
const GOAL_P99_MS = 50;

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** A small deterministic PRNG (mulberry32): the same mix and picks in every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Endpoint {
  name: string;
  /** Share of the mix, in requests per hundred. */
  weight: number;
  as: 'client' | 'admin' | 'support';
  path: (c: SeededClient, pick: <T>(xs: T[]) => T) => string;
}

const ENDPOINTS: Endpoint[] = [
  { name: 'client GET /v1/vps', weight: 20, as: 'client', path: () => '/v1/vps' },
  {
    name: 'client GET /v1/vps/:id',
    weight: 20,
    as: 'client',
    path: (c, pick) => `/v1/vps/${pick(c.vpsIds)}`,
  },
  { name: 'client GET /v1/invoices', weight: 20, as: 'client', path: () => '/v1/invoices' },
  {
    name: 'client GET /v1/invoices/:id',
    weight: 10,
    as: 'client',
    path: (c, pick) => `/v1/invoices/${pick(c.invoiceIds)}`,
  },
  // Staff lists: their first page (50 rows; every list is paged by cursor).
  { name: 'staff GET /v1/admin/vps', weight: 5, as: 'support', path: () => '/v1/admin/vps' },
  { name: 'staff GET /v1/invoices', weight: 5, as: 'support', path: () => '/v1/invoices' },
  { name: 'staff GET /v1/orders', weight: 5, as: 'admin', path: () => '/v1/orders' },
  { name: 'staff GET /v1/admin/accounts', weight: 5, as: 'support', path: () => '/v1/admin/accounts' },
  { name: 'staff GET /v1/admin/alerts', weight: 5, as: 'support', path: () => '/v1/admin/alerts' },
  { name: 'staff GET /v1/admin/clients', weight: 5, as: 'support', path: () => '/v1/admin/clients' },
];

/** What the bench reads of an autocannon client (not in its types). */
interface Client {
  requestIterator: { context: { endpoint?: string } };
}

interface Tally {
  latencies: number[];
  statuses: Map<number, number>;
}
type Tallies = Map<string, Tally>;

function tallyOf(t: Tallies, name: string): Tally {
  let x = t.get(name);
  if (!x) t.set(name, (x = { latencies: [], statuses: new Map() }));
  return x;
}

/** The sequence of endpoints each connection cycles through: weights expanded, shuffled. */
function sequenceOf(endpoints: Endpoint[], rnd: () => number): Endpoint[] {
  const seq = endpoints.flatMap((e) => Array.from({ length: e.weight }, () => e));
  for (let i = seq.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [seq[i], seq[j]] = [seq[j]!, seq[i]!];
  }
  return seq;
}

/**
 * Runs the mix at `rate` for `seconds` and returns every response's latency by endpoint.
 * Each connection is an autocannon instance; its requests rotate through the sequence from its
 * own offset, and each request's `onResponse` notes which endpoint answered, read back by the
 * instance's `response` event (emitted right after, with the latency).
 */
async function runLoad(
  url: string,
  endpoints: Endpoint[],
  seeded: Seeded | undefined,
  rate: number,
  seconds: number,
): Promise<{ tallies: Tallies; errors: number; timeouts: number; sent: number }> {
  const tallies: Tallies = new Map();
  const rnd = prng(42);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const seq = sequenceOf(endpoints, prng(7));
  const tokenOf = (e: Endpoint, c: SeededClient | undefined) =>
    e.as === 'client' ? c!.token : e.as === 'admin' ? seeded!.adminToken : seeded!.supportToken;
  const perConnection = rate / CONNECTIONS;
  const runs: Promise<autocannon.Result>[] = [];
  for (let k = 0; k < CONNECTIONS; k++) {
    const offset = Math.floor((k * seq.length) / CONNECTIONS);
    const mine = [...seq.slice(offset), ...seq.slice(0, offset)];
    const requests = mine.map((e): autocannon.Request => ({
      method: 'GET',
      path: '/',
      setupRequest: (req) => {
        const c = seeded ? pick(seeded.clients) : undefined;
        return {
          ...req,
          path: c ? e.path(c, pick) : e.path(undefined as never, pick),
          headers: seeded ? { authorization: `Bearer ${tokenOf(e, c)}` } : {},
        };
      },
      onResponse: (_status, _body, context) => {
        (context as { endpoint?: string }).endpoint = e.name;
      },
    }));
    await sleep(1000 / CONNECTIONS);
    let instance!: autocannon.Instance;
    runs.push(
      new Promise((resolve, reject) => {
        instance = autocannon(
          {
            url,
            connections: 1,
            connectionRate: Math.max(1, Math.round(perConnection)),
            duration: seconds,
            requests,
            timeout: 10,
          },
          (err, result) =>
            err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result),
        );
      }),
    );
    // The instance emits (client, status, bytes, latency) — @types/autocannon omits the client.
    // The client's iterator holds the context the request's onResponse has just set.
    (instance as NodeJS.EventEmitter).on(
      'response',
      (client: Client, statusCode: number, _bytes: number, responseTime: number) => {
        const t = tallyOf(tallies, client.requestIterator.context.endpoint ?? '?');
        t.latencies.push(responseTime);
        t.statuses.set(statusCode, (t.statuses.get(statusCode) ?? 0) + 1);
      },
    );
  }
  const results = await Promise.all(runs);
  return {
    tallies,
    errors: results.reduce((n, r) => n + r.errors, 0),
    timeouts: results.reduce((n, r) => n + r.timeouts, 0),
    sent: results.reduce((n, r) => n + r.requests.sent, 0),
  };
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
interface Stat {
  n: number;
  p50: number;
  p99: number;
  max: number;
  bad: number;
}
function statOf(latencies: number[], statuses: Map<number, number>): Stat {
  const s = [...latencies].sort((a, b) => a - b);
  let bad = 0;
  for (const [code, n] of statuses) if (code < 200 || code >= 300) bad += n;
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s.at(-1) ?? NaN, bad };
}
const merged = (t: Tallies): Tally => {
  const all: Tally = { latencies: [], statuses: new Map() };
  for (const x of t.values()) {
    all.latencies.push(...x.latencies);
    for (const [k, v] of x.statuses) all.statuses.set(k, (all.statuses.get(k) ?? 0) + v);
  }
  return all;
};
const ms = (x: number) => (Number.isNaN(x) ? '—' : x.toFixed(1));
const row = (name: string, s: Stat) =>
  `${name.padEnd(34)} ${String(s.n).padStart(6)} ${ms(s.p50).padStart(8)} ${ms(s.p99).padStart(8)} ${ms(s.max).padStart(8)} ${String(s.bad).padStart(6)}`;

function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  label: string,
): { child: ChildProcess; out: string[] } {
  const child = spawn(path.join(repoRoot, 'scripts', 'node.sh'), args, {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const keep = (b: Buffer) => {
    out.push(b.toString());
    if (out.length > 200) out.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`${label} exited (${code ?? signal}):\n${out.join('').slice(-4000)}`);
  });
  return { child, out };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(t);
}

async function waitFor(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${ms / 1000} s`);
    await sleep(250);
  }
}

// The platform's child gets this environment: the caller's, minus any INFOGERE_* setting.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFOGERE_')));

const runDir = path.join(
  repoRoot,
  'var',
  'bench-pg',
  `api-${process.pid.toString(36)}${Date.now().toString(36)}`,
);
let stopping = false;
let server: ChildProcess | undefined;
let bare: ChildProcess | undefined;
let stopPg: (() => Promise<void>) | undefined;
async function cleanup(): Promise<void> {
  stopping = true;
  await stopChild(server).catch((e: unknown) => console.error('server stop:', e));
  await stopChild(bare).catch((e: unknown) => console.error('bare server stop:', e));
  await stopPg?.().catch((e: unknown) => console.error('postgres stop:', e));
  await rm(runDir, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

let failed = false;
try {
  const loadBefore = load();
  await mkdir(runDir, { recursive: true, mode: 0o711 });
  await writeFile(path.join(runDir, 'owner.pid'), String(process.pid));
  const pgStarted = await startEmbeddedPostgres({ dir: path.join(runDir, 'pg'), port: await freePort() });
  stopPg = () => pgStarted.stop();
  await ensureDatabase(pgStarted.adminUrl, 'infogere');
  const dbUrl = withDatabaseName(pgStarted.adminUrl, 'infogere');
  const { db } = createDb(dbUrl, { max: 1 });
  await migrateToLatest(db as never);
  await db.destroy();
  const masterKey = randomBytes(32);
  const seeded = await seedApiBench(dbUrl, masterKey);

  const port = await freePort();
  const started = Date.now();
  server = startChild(
    ['src/cli/main.ts', 'start'],
    {
      ...baseEnv,
      DATABASE_URL: dbUrl,
      INFOGERE_DATA_DIR: path.join(runDir, 'platform'),
      INFOGERE_HTTP_HOST: '127.0.0.1',
      INFOGERE_HTTP_PORT: String(port),
      INFOGERE_MASTER_KEY: masterKey.toString('base64'),
      INFOGERE_LOG_LEVEL: 'warn',
      INFOGERE_LOG_FORMAT: 'json',
    },
    'the platform',
  ).child;
  const base = `http://127.0.0.1:${port}`;
  await waitFor('the platform answering /healthz', 120_000, async () => (await fetch(`${base}/healthz`)).ok);
  const upMs = Date.now() - started;
  // At start the platform plans the renewal deadlines of contracts that have none: the seeder
  // wrote them, so this is a check (planning 10,000 would take minutes) before the load starts.
  const probe = new pg.Client({ connectionString: dbUrl });
  await probe.connect();
  await waitFor('renewal deadlines planned', 600_000, async () => {
    const r = await probe.query(
      `SELECT count(*)::int AS n FROM contracts c
       WHERE NOT EXISTS (SELECT 1 FROM deadlines d WHERE d.subject_type = 'contract' AND d.subject_id = c.id::text)`,
    );
    return (r.rows[0] as { n: number }).n === 0;
  });
  const plannedMs = Date.now() - started;
  await probe.end();

  const b = startChild(['bench/bare-server.ts'], baseEnv, 'the bare server');
  bare = b.child;
  let barePort = 0;
  await waitFor('the bare server', 30_000, async () => {
    const m = /\{"port":(\d+)\}/.exec(b.out.join(''));
    barePort = m ? Number(m[1]) : 0;
    return barePort > 0;
  });

  const c = seeded.counts;
  console.log(
    `bench:api — ${c.vps} VPSs, ${c.accounts} accounts, ${c.invoices} invoices (seeded in ${(seeded.ms / 1000).toFixed(1)} s); ` +
      `${RATE} req/s for ${SECONDS} s over ${CONNECTIONS} connections after ${WARMUP} s of warm-up; ${availableParallelism()} cores`,
  );
  console.log(
    `platform: /healthz after ${(upMs / 1000).toFixed(1)} s, every contract's renewal deadlines checked after ${(plannedMs / 1000).toFixed(1)} s`,
  );
  console.log(`load average before: ${loadBefore}; at the start of the load: ${load()}`);

  await runLoad(base, ENDPOINTS, seeded, RATE, WARMUP);
  const mix = await runLoad(base, ENDPOINTS, seeded, RATE, SECONDS);
  const loadAfterMix = load();
  const bareEp: Endpoint[] = [{ name: 'bare GET /bare', weight: 1, as: 'client', path: () => '/bare' }];
  await runLoad(`http://127.0.0.1:${barePort}`, bareEp, undefined, RATE, WARMUP);
  const bareRun = await runLoad(`http://127.0.0.1:${barePort}`, bareEp, undefined, RATE, SECONDS);

  console.log(
    `\n${'endpoint'.padEnd(34)} ${'n'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'non2xx'.padStart(6)}`,
  );
  for (const e of ENDPOINTS) {
    const t = mix.tallies.get(e.name);
    console.log(row(e.name, t ? statOf(t.latencies, t.statuses) : statOf([], new Map())));
  }
  const all = merged(mix.tallies);
  const overall = statOf(all.latencies, all.statuses);
  console.log(row('overall (the mix)', overall));
  const bt = merged(bareRun.tallies);
  const bareStat = statOf(bt.latencies, bt.statuses);
  console.log(row('bare Fastify route', bareStat));
  console.log(
    `\nachieved: mix ${(overall.n / SECONDS).toFixed(0)} req/s, bare ${(bareStat.n / SECONDS).toFixed(0)} req/s; ` +
      `errors ${mix.errors + bareRun.errors}, timeouts ${mix.timeouts + bareRun.timeouts}`,
  );
  console.log(
    `ratio to the bare route: p50 ×${(overall.p50 / bareStat.p50).toFixed(1)}, p99 ×${(overall.p99 / bareStat.p99).toFixed(1)}`,
  );
  console.log(`load average after the mix: ${loadAfterMix}; at the end: ${load()}`);
  const worst = ENDPOINTS.map((e) => {
    const t = mix.tallies.get(e.name);
    return { name: e.name, p99: t ? statOf(t.latencies, t.statuses).p99 : NaN };
  }).sort((x, y) => y.p99 - x.p99)[0]!;
  console.log(
    overall.p99 <= GOAL_P99_MS
      ? `goal p99 ≤ ${GOAL_P99_MS} ms: met (overall ${ms(overall.p99)} ms; slowest endpoint ${worst.name} ${ms(worst.p99)} ms)`
      : `goal p99 ≤ ${GOAL_P99_MS} ms: NOT met (overall ${ms(overall.p99)} ms; slowest endpoint ${worst.name} ${ms(worst.p99)} ms)`,
  );
  if (overall.bad || bareStat.bad || mix.errors || bareRun.errors) {
    failed = true;
    console.error(
      'some requests failed (non-2xx answers or connection errors): the figures above are not valid',
    );
  }
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
