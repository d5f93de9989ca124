// What this host holds that no VM owns: QEMU processes, sockets, disks, state directories and
// taps left behind (a crash mid-define, an agent killed mid-spawn). Listed, then cleaned on
// request (disks wiped first: R12.4).
import { existsSync } from 'node:fs';
import { readdir, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { OrphanReport } from '../driver.ts';
import { wipeFile } from '../disks/disks.ts';
import { run } from '../exec/run.ts';
import type { QemuHost } from './context.ts';
import { isAlive, listInfogereQemus, readCmdline, signal, waitGone } from './process.ts';

export async function orphans(host: QemuHost): Promise<OrphanReport> {
  const { config, diskDir } = host;
  const known = new Map([...host.vms.values()].map((v) => [v.rec.spec.id, v.rec]));
  const report: OrphanReport = { processes: [], sockets: [], disks: [], stateDirs: [], taps: [] };
  const roots = [path.resolve(config.dataDir) + '/', path.resolve(diskDir) + '/'];
  // Processes: QEMUs named infogere-… launched from this data dir that no VM owns.
  for (const q of await listInfogereQemus()) {
    if (!q.cmdline.some((a) => roots.some((r) => a.includes(r)))) continue; // another agent's
    const rec = known.get(q.vmId);
    if (!rec || rec.pid !== q.pid) report.processes.push(q);
  }
  for (const { dir, record } of await host.store.scan()) {
    if (!record) {
      report.stateDirs.push(dir);
      continue;
    }
    const live = record.pid !== null && (await isAlive(record.pid));
    if (!live)
      for (const s of [record.paths.qmpSocket, record.paths.guestAgentSocket, record.paths.consoleSocket])
        if (existsSync(s)) report.sockets.push(s);
  }
  const ownedDisks = new Set([...known.values()].map((r) => path.resolve(r.paths.disk)));
  for (const f of await readdir(diskDir).catch(() => [] as string[])) {
    const full = path.resolve(diskDir, f);
    if (!ownedDisks.has(full)) report.disks.push(full);
  }
  const prefix = config.tapPrefix ?? 'igt';
  const usedTaps = new Set(
    [...known.values()].flatMap((r) =>
      r.spec.network ? [`${r.spec.network.netns ?? ''}/${r.spec.network.tap}`] : [],
    ),
  );
  const namespaces = new Set<string>(['', ...(config.orphanNetns ?? [])]);
  for (const r of known.values()) if (r.spec.network?.netns) namespaces.add(r.spec.network.netns);
  for (const ns of namespaces) {
    const argv = ns ? ['ip', '-n', ns, '-j', 'link', 'show'] : ['ip', '-j', 'link', 'show'];
    const out = await run(argv, { timeoutMs: 10_000 }).catch(() => null);
    if (!out) continue;
    for (const l of JSON.parse(out.stdout || '[]') as { ifname: string }[]) {
      if (l.ifname.startsWith(prefix) && !usedTaps.has(`${ns}/${l.ifname}`))
        report.taps.push(ns ? `${ns}/${l.ifname}` : l.ifname);
    }
  }
  return report;
}

/** Removes what orphans() finds (disks wiped first: R12.4). Taps are listed, not removed. */
export async function cleanOrphans(host: QemuHost): Promise<OrphanReport> {
  const o = await orphans(host);
  for (const p of o.processes) {
    const argv = await readCmdline(p.pid);
    if (!argv || argv.join('\0') !== p.cmdline.join('\0')) continue;
    signal(p.pid, 'SIGTERM');
    if (!(await waitGone(p.pid, 5_000))) {
      signal(p.pid, 'SIGKILL');
      await waitGone(p.pid, 5_000);
    }
  }
  for (const s of o.sockets) await unlink(s).catch(() => undefined);
  for (const d of o.disks)
    await wipeFile(d, host.config.diskWipe ?? 'overwrite').catch(() => rm(d, { force: true }));
  for (const d of o.stateDirs) {
    const seed = path.join(d, 'seed.img');
    if (existsSync(seed)) await wipeFile(seed, 'overwrite').catch(() => undefined);
    await rm(d, { recursive: true, force: true });
  }
  return o;
}
