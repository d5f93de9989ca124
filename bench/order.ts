// `npm run bench:order` (issue 5): from "staff validates" to "access-codes email accepted by
// SMTP", median of 5 sequential runs, each a fresh VPS in the same lab, with the platform's own
// time shown apart from the VM's boot.
//
// The real platform (startPlatform: pg-boss, scheduler, mail delivery, the local host agent in a
// network namespace this script creates; QEMU under TCG), its own embedded PostgreSQL under
// var/bench-pg (removed at the end), a real SMTP server (smtp-server) on loopback. Addresses:
// 192.0.2.0/24 inside the namespace, loopback. Setup (datacenter, pool, host, plan, client,
// order, payment) is not timed; each run times `commerce.validateOrder` → the SMTP server holds
// the access-codes mail. The VPS's `vps_events` rows give a timestamp per provisioning step:
//   boot     = end of `disk` → end of `guest_agent` (QEMU spawn, guest kernel and init, agent up)
//   platform = total − boot (job pickup, place, address, credentials, network, disk with the
//              config drive, accounts check, access codes, mail delivery)
// After each run the VM is destroyed through `ctx.agents` (driver + network) and the VPS row
// marked destroyed, so every run starts from the same host.
//   BENCH_RUNS=5 (default)
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmbeddedPostgres } from '../src/control/db/embedded.ts';
import { startPlatform, type Platform } from '../src/control/platform.ts';
import { SYSTEM_ACTOR } from '../src/control/services/context.ts';
import { createVpsLab, POOL, repoRoot, type VpsLab } from '../test/helpers/vps-lab.ts';

const runs = Number(process.env.BENCH_RUNS ?? 5);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
};
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

interface Sample {
  totalMs: number;
  /** validate → the provisioning job's first step done (job queue pickup + place). */
  pickupMs: number;
  /** place done → disk done (address, credentials, network, disk + config drive). */
  preBootMs: number;
  /** disk done → guest agent up: the VM's boot. */
  bootMs: number;
  /** guest agent up → access-codes step done (accounts check, link, mail queued). */
  postBootMs: number;
  /** access-codes step done → the SMTP server holds the mail (mail job + SMTP conversation). */
  mailMs: number;
  platformMs: number;
}

const pgDir = path.join(
  repoRoot,
  'var',
  'bench-pg',
  `run-${process.pid.toString(36)}${Date.now().toString(36)}`,
);
let lab: VpsLab | undefined;
let platform: Platform | undefined;
let stopPg: (() => Promise<void>) | undefined;
async function cleanup(): Promise<void> {
  await platform?.stop().catch((e: unknown) => console.error('platform stop:', e));
  await lab?.cleanup().catch((e: unknown) => console.error('lab cleanup:', e));
  await stopPg?.().catch((e: unknown) => console.error('postgres stop:', e));
  await rm(pgDir, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

const samples: Sample[] = [];
const loadBefore = load();
try {
  await mkdir(pgDir, { recursive: true, mode: 0o711 });
  await writeFile(path.join(pgDir, 'owner.pid'), String(process.pid));
  const pg = await startEmbeddedPostgres({ dir: pgDir, port: await freePort() });
  stopPg = () => pg.stop();
  lab = await createVpsLab();
  platform = await startPlatform({
    root: repoRoot,
    env: {
      ...lab.env,
      DATABASE_URL: pg.adminUrl,
      INFOGERE_HTTP_HOST: '127.0.0.1',
      INFOGERE_AUTO_VALIDATE_ON_PAYMENT: 'false',
      INFOGERE_LOG_LEVEL: 'error',
    },
  });
  const p = platform;
  const s = p.services;
  const smtp = lab.smtp;
  const dc = await s.infra.createDatacenter(
    { code: 'BEN1', name: 'Bench', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  await s.infra.createPool({ datacenterId: dc.id, cidr: POOL.cidr, gateway: POOL.gateway }, SYSTEM_ACTOR);
  await s.infra.registerHost(
    { name: 'local', datacenterId: dc.id, cpuCores: 2, memoryMiB: 4096, diskGiB: 20 },
    SYSTEM_ACTOR,
  );
  const plan = await s.commerce.createPlan(
    {
      code: 'XS1',
      name: 'VPS XS',
      vcpus: 1,
      memoryMiB: 256,
      diskGiB: 1,
      monthlyPriceCents: 499,
      vatRateBp: 2000,
      datacenterIds: [dc.id],
    },
    SYSTEM_ACTOR,
  );
  const email = `bench-${randomBytes(3).toString('hex')}@example.test`;
  const c = await s.identity.createClientAccount(
    { accountName: 'Bench', email, name: 'Bench Client', password: 'a long enough password', language: 'en' },
    SYSTEM_ACTOR,
  );
  const scope = { kind: 'client' as const, userId: c.user.id, accountId: c.account.id };

  console.log(`bench:order — staff validates → access-codes email accepted by SMTP, ${runs} runs (TCG)`);
  console.log(`load average before: ${loadBefore}`);
  for (let i = 1; i <= runs; i++) {
    const hostname = `bench${i}`;
    const { order, invoice } = await s.commerce.placeOrder(
      scope,
      c.user.id,
      {
        planId: plan.id,
        datacenterId: dc.id,
        kind: 'subscription',
        termMonths: null,
        hostname,
        username: 'bench',
      },
      SYSTEM_ACTOR,
    );
    await s.commerce.recordPayment(
      invoice.id,
      { method: 'transfer', reference: `BENCH-${i}`, amountCents: invoice.total_cents },
      SYSTEM_ACTOR,
    );
    // The access-codes mail only (the invoice mail of the same order may arrive meanwhile).
    const seen = smtp.received.length;
    const t0 = Date.now();
    const { contract } = await s.commerce.validateOrder(order.id, SYSTEM_ACTOR);
    let t1 = 0;
    const deadline = t0 + 600_000;
    for (;;) {
      if (smtp.received.slice(seen).some((m) => m.subject.includes(`Your VPS ${hostname} is ready`))) {
        t1 = Date.now();
        break;
      }
      const v = await p.db
        .selectFrom('vps')
        .select('state')
        .where('id', '=', contract.vps_id)
        .executeTakeFirstOrThrow();
      if (v.state === 'failed') throw new Error(`run ${i}: provisioning failed`);
      if (Date.now() > deadline) throw new Error(`run ${i}: no access-codes mail after 10 min`);
      await sleep(10);
    }
    const events = await p.db
      .selectFrom('vps_events')
      .select(['at', 'details'])
      .where('vps_id', '=', contract.vps_id)
      .where('kind', '=', 'provision')
      .execute();
    const at = (step: string) => {
      const e = events.find((x) => {
        const d = (typeof x.details === 'string' ? JSON.parse(x.details) : x.details) as { step?: string };
        return d.step === step;
      });
      if (!e) throw new Error(`run ${i}: no '${step}' event in ${JSON.stringify(events)}`);
      return e.at.getTime();
    };
    const sample: Sample = {
      totalMs: t1 - t0,
      pickupMs: at('place') - t0,
      preBootMs: at('disk') - at('place'),
      bootMs: at('guest_agent') - at('disk'),
      postBootMs: at('access_codes') - at('guest_agent'),
      mailMs: t1 - at('access_codes'),
      platformMs: 0,
    };
    sample.platformMs = sample.totalMs - sample.bootMs;
    samples.push(sample);
    console.log(
      `run ${i}: total ${sample.totalMs} ms = boot ${sample.bootMs} ms + platform ${sample.platformMs} ms ` +
        `(pickup ${sample.pickupMs}, pre-boot ${sample.preBootMs}, post-boot ${sample.postBootMs}, mail ${sample.mailMs}) · load ${load()}`,
    );

    // Destroy the VM and its network on the host; the row leaves the host's placed load.
    const vps = await p.db
      .selectFrom('vps')
      .selectAll()
      .where('id', '=', contract.vps_id)
      .executeTakeFirstOrThrow();
    const host = await p.db
      .selectFrom('hosts')
      .selectAll()
      .where('id', '=', vps.host_id!)
      .executeTakeFirstOrThrow();
    const agent = await s.ctx.agents.forHost(host);
    await agent.driver.destroy(vps.id);
    await s.traffic.removeVpsNetwork(agent, vps);
    await p.db.updateTable('vps').set({ state: 'destroyed' }).where('id', '=', vps.id).execute();
  }

  const m = (k: keyof Sample) => median(samples.map((x) => x[k]));
  console.log(
    `median of ${samples.length}: total ${m('totalMs')} ms = boot ${m('bootMs')} ms + platform ${m('platformMs')} ms ` +
      `(pickup ${m('pickupMs')}, pre-boot ${m('preBootMs')}, post-boot ${m('postBootMs')}, mail ${m('mailMs')})`,
  );
  console.log(`load average after: ${load()}`);
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await cleanup();
}
