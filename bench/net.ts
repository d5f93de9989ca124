// npm run bench:net — issue 4's benchmark, inside a network namespace of its own:
//   1. time to apply one VPS's rules (one atomic nft batch) with 1,000 VPSs present (goal < 50 ms),
//      and the same plus its tc classes;
//   2. time to read and store the counters of 1,000 VPS ports (goal < 500 ms): one
//      `ip -s -j link` call, the deltas computed by src/domain/traffic.ts, then `storeSamples`:
//      the collector's own storage (repositories/traffic.ts `storeReadings`: last readings,
//      cycle totals, daily buckets in one transaction) into a fresh migrated database
//      (BENCH_DATABASE_URL's server, else an embedded PostgreSQL in a temporary directory).
// Addresses from 203.0.113.0/24 and 198.51.100.0/24 only; the namespace is deleted at the end.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDb, ensureDatabase, withDatabaseName } from '../src/control/db/database.ts';
import { startEmbeddedPostgres } from '../src/control/db/embedded.ts';
import { migrateToLatest } from '../src/control/db/migrate.ts';
import { storeReadings, type PortReading } from '../src/control/repositories/traffic.ts';
import { run } from '../src/agent/exec/run.ts';
import { applyNft, applyNftOnce, applyVpsPolicy, closeNftSession, setupHost } from '../src/agent/net/host.ts';
import { reconcileNft } from '../src/agent/net/reconcile.ts';
import { renderVpsBatch } from '../src/agent/net/nft-render.ts';
import type { NftBatch } from '../src/agent/net/nft-render.ts';
import { outboundReading, readLinkCounters } from '../src/agent/net/counters.ts';
import { tapName, vpsMac } from '../src/agent/net/names.ts';
import type { HostNetConfig } from '../src/agent/net/types.ts';
import { DEFAULT_FILTERED_PORTS, DEFAULT_RATE_LIMITS, bandwidthFromTerms } from '../src/domain/net-policy.ts';
import type { VpsNetPolicy } from '../src/domain/net-policy.ts';
import { advance } from '../src/domain/traffic.ts';
import type { CounterReading, TrafficSample } from '../src/domain/traffic.ts';
import { CURRENT_TERMS } from '../src/domain/terms.ts';

const N = Number(process.env.BENCH_NET_VPS ?? 1000);
const ROUNDS = 20;

/** A fresh migrated database with N VPS rows (the counters' foreign keys), dropped at the end. */
async function benchDatabase(n: number) {
  const dir = await mkdtemp(path.join(tmpdir(), 'infogere-bench-'));
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  let admin = process.env.BENCH_DATABASE_URL;
  if (!admin) {
    embedded = await startEmbeddedPostgres({ dir, port: 20_000 + Math.floor(Math.random() * 20_000) });
    admin = embedded.adminUrl;
  }
  const name = `bench_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(admin, name);
  const { db } = createDb(withDatabaseName(admin, name));
  await migrateToLatest(db as never);
  const now = new Date();
  const account = await db
    .insertInto('accounts')
    .values({ name: 'bench', language: 'fr', created_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const dc = await db
    .insertInto('datacenters')
    .values({ code: 'BENCH', name: 'bench', city: 'Paris', country: 'FR', region: 'FR-IDF', created_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const rows = Array.from({ length: n }, (_, i) => ({
    account_id: account.id,
    datacenter_id: dc.id,
    hostname: `bench${i}`,
    vcpus: 1,
    memory_mib: 256,
    disk_gib: 1,
    image: 'bench',
    state: 'running',
    state_changed_at: now,
    billing_anchor: new Date(now.getTime() - 86_400_000),
    client_username: 'bench',
    created_at: now,
  }));
  const vps = await db.insertInto('vps').values(rows).returning(['id', 'billing_anchor']).execute();
  return {
    db,
    vps,
    async close() {
      await db.destroy();
      if (embedded?.startedHere) await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: q(0.5), p95: q(0.95), max: s.at(-1)! };
}
const fmt = (x: { median: number; p95: number; max: number }) =>
  `median ${x.median.toFixed(1)} ms, p95 ${x.p95.toFixed(1)} ms, max ${x.max.toFixed(1)} ms`;

async function main() {
  const ns = `igb${randomBytes(3).toString('hex')}`;
  const host: HostNetConfig = {
    netns: ns,
    table: 'infogere',
    bridge: 'igbr0',
    uplink: 'up0',
    uplinkBitsPerSecond: 100_000_000_000,
    management: ['198.51.100.10'],
  };
  await run(['ip', 'netns', 'add', ns]);
  try {
    await run(['ip', '-n', ns, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up0p']);
    await setupHost(host);
    const policies: VpsNetPolicy[] = [];
    for (let i = 0; i < N; i++) {
      const vpsId = `bench-${i}`;
      policies.push({
        vpsId,
        slot: i + 1,
        port: tapName(vpsId),
        mac: vpsMac(vpsId),
        ipv4: i < 250 ? `203.0.113.${i + 1}` : `198.51.100.${(i % 250) + 1}`,
        bandwidth: bandwidthFromTerms(CURRENT_TERMS),
        throttled: false,
        isolated: i % 50 === 0,
        blocks: i % 10 === 0 ? [{ id: `smtp-${i}`, direction: 'out', protocol: 'tcp', port: 25 }] : [],
        filteredPorts: DEFAULT_FILTERED_PORTS,
        limits: DEFAULT_RATE_LIMITS,
      });
    }
    let t = performance.now();
    const lines = policies.flatMap((p) => [
      `tuntap add dev ${p.port} mode tap`,
      `link set dev ${p.port} master ${host.bridge} up`,
    ]);
    await run(['ip', '-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n', timeoutMs: 300_000 });
    console.log(`setup: ${N} taps on the bridge in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    for (let i = 0; i < N; i += 100) {
      const batch: NftBatch = {
        nftables: policies.slice(i, i + 100).flatMap((p) => renderVpsBatch(host, p).nftables),
      };
      await applyNft(host, batch);
    }
    console.log(`setup: ${N} VPS rule sets in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const rules = JSON.parse(
      (await run(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset'], { timeoutMs: 120_000 })).stdout,
    ) as {
      nftables: { rule?: unknown }[];
    };
    console.log(`setup: ${rules.nftables.filter((x) => x.rule).length} rules in the table`);
    t = performance.now();
    const fixes = await reconcileNft(host, policies);
    if (fixes.length)
      throw new Error(`reconcile found drift after setup: ${JSON.stringify(fixes.slice(0, 3))}`);
    console.log(
      `reconcile of ${N} VPSs (reads the live table, nothing to fix): ${(performance.now() - t).toFixed(0)} ms`,
    );

    // 1. one VPS's rules, 1,000 VPSs present
    const nftTimes: number[] = [];
    const fullTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const p = policies[(r * 37) % N]!;
      const changed: VpsNetPolicy = {
        ...p,
        blocks: r % 2 ? [] : [{ id: `bench-${r}`, direction: 'in', protocol: 'udp', port: 5000 + r }],
      };
      let s = performance.now();
      await applyVpsPolicy(host, changed, { tc: false });
      nftTimes.push(performance.now() - s);
      s = performance.now();
      await applyVpsPolicy(host, { ...changed, throttled: r % 2 === 0 });
      fullTimes.push(performance.now() - s);
    }
    const newTimes: number[] = [];
    for (let r = 0; r < 5; r++) {
      const vpsId = `bench-new-${r}`;
      const p: VpsNetPolicy = {
        ...policies[0]!,
        vpsId,
        port: tapName(vpsId),
        mac: vpsMac(vpsId),
        slot: N + 1 + r,
      };
      const s = performance.now();
      await applyVpsPolicy(host, p, { tc: false });
      newTimes.push(performance.now() - s);
    }
    // The same one-VPS batch through a one-shot `nft -j -f` (what applyNft did before the session).
    const onceTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const s = performance.now();
      await applyNftOnce(host, renderVpsBatch(host, policies[(r * 37) % N]!, { elements: false }));
      onceTimes.push(performance.now() - s);
    }
    const spawnTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const s = performance.now();
      await run(['ip', 'netns', 'exec', ns, 'true']);
      spawnTimes.push(performance.now() - s);
    }
    const nftStats = stats(nftTimes);
    console.log(
      `apply one VPS's nft rules (1 atomic batch) with ${N} VPSs present: ${fmt(nftStats)} (goal < 50 ms)`,
    );
    console.log(`  the same batch through a one-shot nft -j -f (no session): ${fmt(stats(onceTimes))}`);
    console.log(
      `  starting a program in the namespace (ip netns exec NS true; what the session saves): ${fmt(stats(spawnTimes))}`,
    );
    console.log(
      `  machine load average at the end: ${(await import('node:os')).loadavg()[0]!.toFixed(2)} on ${(await import('node:os')).availableParallelism()} CPUs`,
    );
    console.log(`add a new VPS's nft rules and map elements (first apply): ${fmt(stats(newTimes))}`);
    console.log(`apply one VPS's nft rules + tc classes (class change in place): ${fmt(stats(fullTimes))}`);

    // 2. counters of 1,000 VPSs: one read, the deltas (in memory), then the collector's path
    const state = new Map<string, CounterReading>();
    const ports = new Map(policies.map((p) => [p.port, p.vpsId]));
    const counterTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const s = performance.now();
      const now = new Date();
      const all = await readLinkCounters(host);
      const samples = new Map<string, TrafficSample>();
      for (const [name, vpsId] of ports) {
        const c = all.get(name);
        if (!c) continue;
        const a = advance(state.get(vpsId) ?? null, outboundReading(c, now), {
          lineRateBitsPerSecond: 10_000_000_000,
          firstReading: 'count',
        });
        state.set(vpsId, a.state);
        samples.set(vpsId, a.sample);
      }
      counterTimes.push(performance.now() - s);
      if (samples.size !== N) throw new Error(`read ${samples.size} of ${N} ports`);
    }
    console.log(
      `read + delta ${N} VPS port counters in memory (one ip -s -j link call): ${fmt(stats(counterTimes))}`,
    );

    // The collector's path: one read, then the deltas and the storage in one transaction.
    const bench = await benchDatabase(N);
    const storeTimes: number[] = [];
    try {
      const byPort = new Map(policies.map((p, i) => [p.port, bench.vps[i]!]));
      for (let r = 0; r < ROUNDS; r++) {
        const s = performance.now();
        const stored = await bench.db.transaction().execute(async (tx) => {
          const all = await readLinkCounters(host);
          const readings: PortReading[] = [];
          for (const [name, v] of byPort) {
            const c = all.get(name);
            if (c)
              readings.push({
                vpsId: v.id,
                anchor: v.billing_anchor,
                counterId: String(c.ifindex),
                outBytes: c.rxBytes,
                inBytes: c.txBytes,
              });
          }
          return storeReadings(tx, 'tap', new Date(), readings, {
            lineRateBitsPerSecond: 10_000_000_000,
            firstReading: 'count',
          });
        });
        storeTimes.push(performance.now() - s);
        if (stored.length !== N) throw new Error(`stored ${stored.length} of ${N} ports`);
      }
    } finally {
      await bench.close();
    }
    const cStats = stats(storeTimes);
    console.log(
      `read + store ${N} VPS port counters (one ip -s -j link call, one PostgreSQL transaction): ${fmt(cStats)} (goal < 500 ms)`,
    );
    const ok = nftStats.median < 50 && cStats.median < 500;
    console.log(ok ? 'goals met (medians)' : 'GOALS NOT MET');
  } finally {
    closeNftSession(host);
    await run(['ip', 'netns', 'del', ns], { okCodes: [0, 1] });
  }
}

await main();
