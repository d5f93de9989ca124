#!/usr/bin/env node
// The `infogere` command: start the platform, create staff, verify the audit chain.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { systemClock } from '../domain/clock.ts';
import { isDomainError } from '../domain/errors.ts';
import { ConfigError, describeSettings, loadConfig, settingsMarkdown } from '../control/config.ts';
import { openDatabase, startPlatform } from '../control/platform.ts';
import { startJobs, type Jobs } from '../control/jobs/boss.ts';
import { localAgents } from '../control/hosts/agents.ts';
import { loadMasterKey, SecretBox } from '../control/security/secretbox.ts';
import { createServices } from '../control/services/index.ts';
import { SYSTEM_ACTOR } from '../control/services/context.ts';
import { totpCode } from '../control/security/totp.ts';
import { hasStaff } from '../control/repositories/users.ts';
import { infraCommand, infraUsage, UsageError } from './commands/infra.ts';

const usage = `infogere — managed VPS hosting platform

  infogere start [--first-run]      run the platform (API, panel, jobs) in the foreground
  infogere admin create --email E --name N [--role admin|support] [--password P]
                                    create a provider staff member (TOTP secret printed once)
  infogere audit verify             check the audit log's hash chain (exit 1 if broken)
  infogere config [--markdown]      list the settings (INFOGERE_*) and their defaults
${infraUsage}`;

async function withServices<T>(fn: (s: ReturnType<typeof createServices>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const log = pino({ level: 'warn' });
  const database = await openDatabase(config, log);
  try {
    const secrets = new SecretBox(await loadMasterKey(config.masterKey, config.dataDir));
    // The CLI only queues work (no workers): the running platform carries it out.
    let jobs: Jobs | undefined;
    const queue = {
      async send(name: string, data: object, opts?: Parameters<Jobs['send']>[2]) {
        jobs ??= await startJobs(database.url, [], log, { work: false });
        await jobs.send(name, data, opts);
      },
    };
    try {
      return await fn(
        createServices({
          db: database.db,
          queue,
          agents: localAgents(config, systemClock, log),
          clock: systemClock,
          config,
          secrets,
          log,
        }),
      );
    } finally {
      await jobs?.stop();
    }
  } finally {
    await database.close();
    // A CLI command leaves a running platform's database alone.
    if (database.embedded?.startedHere) await database.embedded.stop();
  }
}

function printStaffCredentials(
  email: string,
  password: string | null,
  secret: string,
  otpauthUrl: string,
): void {
  console.log(`
  email:        ${email}${password ? `\n  password:     ${password}` : ''}
  TOTP secret:  ${secret}
  otpauth URL:  ${otpauthUrl}
  (add the secret to an authenticator app; the current code is ${totpCode(secret, new Date())})
`);
}

async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  if (cmd === 'start') {
    const { values } = parseArgs({
      args: argv.slice(1),
      options: { 'first-run': { type: 'boolean', default: false } },
    });
    const platform = await startPlatform({});
    if (values['first-run']) {
      if (!(await hasStaff(platform.db))) {
        const password = randomBytes(12).toString('base64url');
        const email = 'admin@infogere.localhost';
        const r = await platform.services.identity.createStaff(
          { email, name: 'Administrator', password, role: 'admin' },
          SYSTEM_ACTOR,
        );
        const file = path.join(platform.config.dataDir, 'first-admin.txt');
        await writeFile(
          file,
          `email: ${email}\npassword: ${password}\ntotp secret: ${r.totpSecret}\notpauth: ${r.otpauthUrl}\n`,
          { mode: 0o600 },
        );
        console.log(`\nFirst run: an administrator was created (also written to ${file}):`);
        printStaffCredentials(email, password, r.totpSecret, r.otpauthUrl);
      }
    }
    const url = platform.config.httpPort === 0 ? platform.url : platform.config.publicUrl;
    console.log(`\n  infogere is up: open ${url} (API: ${url}/v1/openapi.json). Ctrl-C stops it.\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    console.log('stopping…');
    await platform.stop();
    return 0;
  }
  if (cmd === 'admin' && sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: {
        email: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string', default: 'admin' },
        password: { type: 'string' },
      },
    });
    if (!values.email || !values.name) throw new Error('admin create needs --email and --name');
    if (values.role !== 'admin' && values.role !== 'support') throw new Error('--role is admin or support');
    const password = values.password ?? randomBytes(12).toString('base64url');
    const r = await withServices((s) =>
      s.identity.createStaff(
        { email: values.email!, name: values.name!, password, role: values.role as 'admin' | 'support' },
        { ...SYSTEM_ACTOR, label: 'cli' },
      ),
    );
    console.log(`Staff member created (${r.user.role}):`);
    printStaffCredentials(r.user.email, values.password ? null : password, r.totpSecret, r.otpauthUrl);
    return 0;
  }
  if (cmd === 'audit' && sub === 'verify') {
    const r = await withServices((s) => s.audit.verify());
    if (r.ok) console.log(`audit chain OK: ${r.checked} entries verified`);
    else
      console.log(
        `audit chain BROKEN at entry ${r.firstBadId}: ${r.reason} (${r.checked} entries verified before it)`,
      );
    return r.ok ? 0 : 1;
  }
  if (cmd === 'hosts' || cmd === 'vps') return infraCommand(cmd, sub, rest, withServices, () => loadConfig());
  if (cmd === 'config') {
    if (sub === '--markdown') {
      process.stdout.write(settingsMarkdown());
      return 0;
    }
    for (const s of describeSettings())
      console.log(`${s.env.padEnd(42)} ${String(s.default ?? '(unset)').padEnd(14)} ${s.help}`);
    return 0;
  }
  process.stdout.write(usage);
  return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (
      e instanceof UsageError ||
      (e instanceof Error && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      console.error(`infogere: ${e.message}`);
      process.exit(2);
    }
    if (e instanceof ConfigError) console.error(`infogere: configuration error: ${e.message}`);
    else if (isDomainError(e)) console.error(`infogere: ${e.code}: ${e.message}`);
    else console.error(`infogere: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
