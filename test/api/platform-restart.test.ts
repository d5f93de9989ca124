// The whole platform on its embedded PostgreSQL, in a child process: data survives a clean
// restart and a SIGKILL; a job interrupted by the kill is picked up again after restart.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { totpCode } from '../../src/control/security/totp.ts';
import { childEnv } from '../helpers/child-env.ts';

let dataDir: string;
let pgPort: number;
const children = new Set<ChildProcess>();

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

interface Running {
  child: ChildProcess;
  url: string;
  out: () => string;
}

async function start(): Promise<Running> {
  const child = spawn(process.execPath, ['test/helpers/platform-child.ts'], {
    env: childEnv({
      INFOGERE_DATA_DIR: dataDir,
      INFOGERE_HTTP_PORT: '0',
      INFOGERE_EMBEDDED_PG_PORT: String(pgPort),
      INFOGERE_LOG_LEVEL: 'warn',
      DATABASE_URL: '',
    }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  for (let i = 0; i < 600; i++) {
    const m = /READY (\S+)/.exec(out);
    if (m) return { child, url: m[1]!, out: () => out };
    if (child.exitCode !== null) throw new Error(`platform exited: ${out}`);
    await sleep(100);
  }
  throw new Error(`platform did not start: ${out}`);
}

async function until(what: string, f: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function kill9(r: Running): Promise<void> {
  return new Promise((resolve) => {
    r.child.once('exit', () => resolve());
    r.child.kill('SIGKILL');
  });
}

async function stopClean(r: Running): Promise<void> {
  r.child.stdin!.write('stop\n');
  await new Promise((resolve) => r.child.once('exit', resolve));
}

async function adminLogin(url: string, email: string, password: string, secret: string, at: Date) {
  const r = await fetch(`${url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, totp: totpCode(secret, at) }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  const cookie = r.headers.getSetCookie()[0]!.split(';')[0]!;
  return { cookie, csrf: ((await r.json()) as { csrfToken: string }).csrfToken };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function postmasterPid(): Promise<number> {
  const text = await readFile(path.join(dataDir, 'pg', 'data', 'postmaster.pid'), 'utf8').catch(() => '0');
  return Number(text.split('\n')[0]);
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'infogere-restart-'));
  pgPort = await freePort();
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  // Stop the embedded PostgreSQL a killed platform may have left running.
  const pid = Number(
    (await readFile(path.join(dataDir, 'pg', 'data', 'postmaster.pid'), 'utf8').catch(() => '0')).split(
      '\n',
    )[0],
  );
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGINT');
      await until(
        'postgres to stop',
        async () => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        },
        30_000,
      );
    } catch {
      /* already gone */
    }
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe('platform restarts (embedded PostgreSQL under the data dir)', () => {
  let admin: { email: string; password: string; secret: string };
  let clientEmail: string;

  it('first start initialises the database; data written through the API survives a clean restart', async () => {
    const r = await start();
    // The CLI makes staff; here we use the API the console uses, after creating the first admin via the CLI.
    const cli = spawn(
      process.execPath,
      [
        'src/cli/main.ts',
        'admin',
        'create',
        '--email',
        'boss@example.test',
        '--name',
        'Boss',
        '--password',
        'a long enough password',
      ],
      {
        env: childEnv({
          INFOGERE_DATA_DIR: dataDir,
          INFOGERE_EMBEDDED_PG_PORT: String(pgPort),
          DATABASE_URL: '',
        }),
      },
    );
    let out = '';
    cli.stdout.on('data', (d) => (out += d));
    cli.stderr.on('data', (d) => (out += d));
    assert.equal(await new Promise((res) => cli.on('exit', res)), 0, out);
    const secret = /TOTP secret:\s+(\S+)/.exec(out)![1]!;
    admin = { email: 'boss@example.test', password: 'a long enough password', secret };
    const s = await adminLogin(r.url, admin.email, admin.password, secret, new Date());
    clientEmail = 'first-client@example.test';
    const created = await fetch(`${r.url}/v1/admin/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: s.cookie, 'x-csrf-token': s.csrf },
      body: JSON.stringify({
        accountName: 'First Client SARL',
        email: clientEmail,
        name: 'Jeanne',
        password: 'another long password',
      }),
    });
    assert.equal(created.status, 201);
    await stopClean(r);
    const r2 = await start();
    const login = await fetch(`${r2.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: clientEmail, password: 'another long password' }),
    });
    assert.equal(login.status, 200);
    await stopClean(r2);
  });

  it('after SIGKILL mid-job, a restart loses no data and finishes the interrupted job', async () => {
    const r = await start();
    r.child.stdin!.write('send-slow crash-test\n');
    const log = path.join(dataDir, 'slow-job.log');
    await until('the job to start', async () =>
      (await readFile(log, 'utf8').catch(() => '')).includes('start crash-test 1'),
    );
    await kill9(r);
    const r2 = await start();
    // The client account made before is still there, and the job is retried to completion.
    const login = await fetch(`${r2.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: clientEmail, password: 'another long password' }),
    });
    assert.equal(login.status, 200);
    await until('the interrupted job to complete after restart', async () =>
      (await readFile(log, 'utf8')).includes('done crash-test 2'),
    );
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('done')).length, 1, lines.join('\n'));
    await stopClean(r2);
  });

  it('the next start adopts the PostgreSQL a killed platform left running, and stops it on a clean shutdown; a second platform on the same data dir is refused', async () => {
    const r = await start();
    const pgPid = await postmasterPid();
    assert.ok(pgPid > 0 && isAlive(pgPid));
    await kill9(r);
    assert.ok(isAlive(pgPid), 'SIGKILL leaves the embedded PostgreSQL running');
    const r2 = await start();
    assert.equal(await postmasterPid(), pgPid, 'the running server was adopted, not started again');
    // While r2 runs, another platform on its data dir would share (then stop) its database.
    const second = spawn(process.execPath, ['test/helpers/platform-child.ts'], {
      env: childEnv({
        INFOGERE_DATA_DIR: dataDir,
        INFOGERE_HTTP_PORT: '0',
        INFOGERE_EMBEDDED_PG_PORT: String(pgPort),
        INFOGERE_LOG_LEVEL: 'warn',
        DATABASE_URL: '',
      }),
    });
    children.add(second);
    let out = '';
    second.stdout.on('data', (d) => (out += d));
    second.stderr.on('data', (d) => (out += d));
    const code = await new Promise((res) => second.once('exit', res));
    assert.notEqual(code, 0, out);
    assert.match(out, /another infogere platform \(pid \d+\) is running/);
    assert.ok(isAlive(pgPid), 'the refused start left the database alone');
    await stopClean(r2);
    await until('the adopted PostgreSQL to stop', async () => !isAlive(pgPid), 30_000);
    await assert.rejects(
      readFile(path.join(dataDir, 'platform.pid'), 'utf8'),
      'the platform lock is released',
    );
  });
});
