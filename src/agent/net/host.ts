// The host side of the network (R6.3, R3.11, R3.13, R5.1): bridge, taps, nftables and tc, applied through
// run() (execFile with argv arrays). Every function takes the HostNetConfig whose `netns`
// (optional) names the network namespace to work in (`ip -n NS`, `ip netns exec NS nft`,
// `tc -n NS`), so tests run all of it inside namespaces they create.
import { randomBytes } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandError, run } from '../exec/run.ts';
import type { VpsNetPolicy } from '../../domain/net-policy.ts';
import { renderBaseBatch, renderVpsBatch, renderVpsRemoval } from './nft-render.ts';
import type { NftBatch } from './nft-render.ts';
import { NftSession } from './nft-session.ts';
import {
  isRootHtbStep,
  renderThrottleTc,
  renderUplinkTc,
  renderVpsTc,
  renderVpsTcRemoval,
  tcBase,
} from './tc-render.ts';
import type { Argv } from './tc-render.ts';
import type { HostNetConfig } from './types.ts';
import { readLinkCounters } from './counters.ts';
import type { LinkCounters } from './counters.ts';
import { counterKinds, parseVpsCounter } from './names.ts';
import type { CounterKind } from './names.ts';
import { ensureSmtpSets } from './nft-port25.ts';

export function ipBase(host: Pick<HostNetConfig, 'netns'>): Argv {
  return host.netns ? ['ip', '-n', host.netns] : ['ip'];
}

export function nftBase(host: Pick<HostNetConfig, 'netns'>): Argv {
  return host.netns ? ['ip', 'netns', 'exec', host.netns, 'nft'] : ['nft'];
}

/** One nft session per network namespace ('' = the host's). */
const sessions = new Map<string, NftSession>();

/**
 * Applies one nft JSON batch atomically (one transaction): all of it or nothing. Through the
 * table's long-lived `nft -j -i` (nft-session.ts): no program start per change.
 */
export async function applyNft(host: HostNetConfig, batch: NftBatch): Promise<void> {
  await sessionOf(host).apply(batch);
}

/** nft text commands as one transaction, through the same session. */
export async function applyNftText(host: HostNetConfig, commands: readonly string[]): Promise<void> {
  await sessionOf(host).applyText(commands);
}

function sessionOf(host: Pick<HostNetConfig, 'netns'>): NftSession {
  const key = host.netns ?? '';
  let s = sessions.get(key);
  if (!s) sessions.set(key, (s = new NftSession(nftBase(host))));
  return s;
}

/** Ends the namespace's nft session (before deleting its namespace: the process would keep it alive). */
export function closeNftSession(host: Pick<HostNetConfig, 'netns'>): void {
  const key = host.netns ?? '';
  sessions.get(key)?.close();
  sessions.delete(key);
}

/**
 * The same batch through a one-shot `nft -j -f FILE` (a file, not stdin: nft opens
 * /dev/stdin, which fails on the socket Node gives). For comparison in bench:net.
 */
export async function applyNftOnce(host: HostNetConfig, batch: NftBatch): Promise<void> {
  const file = path.join(tmpdir(), `infogere-nft-${process.pid}-${randomBytes(6).toString('hex')}.json`);
  await writeFile(file, JSON.stringify(batch), { mode: 0o600 });
  try {
    await run([...nftBase(host), '-j', '-f', file]);
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

/** The live table as `nft -j list table` prints it, or null when the table does not exist. */
export async function listTable(host: HostNetConfig): Promise<Record<string, unknown>[] | null> {
  try {
    const r = await run([...nftBase(host), '-j', 'list', 'table', 'bridge', host.table]);
    return (JSON.parse(r.stdout) as { nftables: Record<string, unknown>[] }).nftables;
  } catch (e) {
    if (e instanceof CommandError && /No such file or directory/.test(e.stderr)) return null;
    throw e;
  }
}

async function linkExists(host: HostNetConfig, name: string): Promise<boolean> {
  const r = await run([...ipBase(host), '-j', 'link', 'show', 'dev', name], { okCodes: [0, 1] });
  return r.exitCode === 0 && r.stdout.trim().startsWith('[');
}

/** Root qdisc of a device ("htb 1:" → true). */
async function hasRootHtb(host: HostNetConfig, dev: string): Promise<boolean> {
  const r = await run([...tcBase(host), '-j', 'qdisc', 'show', 'dev', dev, 'root']);
  const q = JSON.parse(r.stdout || '[]') as { kind: string; handle: string; root?: boolean }[];
  return q.some((x) => x.kind === 'htb' && x.handle === '1:');
}

/** Runs tc steps in one `tc -batch -` (skipping root HTB steps already in place). */
export async function applyTc(host: HostNetConfig, steps: readonly Argv[]): Promise<void> {
  const prefix = tcBase(host).length;
  const lines: string[] = [];
  for (const argv of steps) {
    const dev = isRootHtbStep(argv);
    if (dev && (await hasRootHtb(host, dev))) continue;
    lines.push(argv.slice(prefix).join(' '));
  }
  if (lines.length === 0) return;
  await run([...tcBase(host), '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/**
 * Once per host (and at agent start): the bridge (created if missing, up), the uplink
 * enslaved to it when configured, the nft table with its maps and base chains, the uplink's
 * HTB tree.
 */
export async function setupHost(host: HostNetConfig): Promise<void> {
  const ip = ipBase(host);
  if (!(await linkExists(host, host.bridge)))
    await run([...ip, 'link', 'add', 'name', host.bridge, 'type', 'bridge']);
  await run([...ip, 'link', 'set', 'dev', host.bridge, 'up']);
  if (host.uplink) await run([...ip, 'link', 'set', 'dev', host.uplink, 'master', host.bridge, 'up']);
  knownElementsOf(host).clear();
  await applyNft(host, renderBaseBatch(host));
  await applyTc(host, renderUplinkTc(host));
}

/** Creates the VPS's tap (persistent, for QEMU's `-netdev tap,ifname=`) on the bridge, up. */
export async function ensureTap(host: HostNetConfig, name: string): Promise<void> {
  const ip = ipBase(host);
  if (!(await linkExists(host, name))) await run([...ip, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
  await attachPort(host, name);
}

/** Makes an existing interface (tap, or a veth end in tests) a port of the bridge, up. */
export async function attachPort(host: HostNetConfig, name: string): Promise<void> {
  await run([...ipBase(host), 'link', 'set', 'dev', name, 'master', host.bridge, 'up']);
}

/**
 * Deletes a tap, returning its last counters first (R3.13: the caller records the final
 * delta, so a recreated tap neither loses nor doubles bytes). Null when it did not exist.
 */
export async function deleteTap(host: HostNetConfig, name: string): Promise<LinkCounters | null> {
  const last = (await readLinkCounters(host, [name])).get(name) ?? null;
  if (last) await run([...ipBase(host), 'link', 'del', 'dev', name], { okCodes: [0, 1] });
  return last;
}

/**
 * Map elements this process has put in place (or seen in place, by reconcile), per table:
 * port → VPS id. A VPS whose element is known gets a batch without elements (see
 * renderVpsBatch). Drift made behind our back is the reconcile's job.
 */
const knownElements = new Map<string, Map<string, string>>();
const tableKey = (host: HostNetConfig) => `${host.netns ?? ''}/${host.table}`;
export function knownElementsOf(host: HostNetConfig): Map<string, string> {
  let m = knownElements.get(tableKey(host));
  if (!m) knownElements.set(tableKey(host), (m = new Map()));
  return m;
}

export interface ApplyOptions {
  /** Also (re)apply tc shaping (default true). */
  tc?: boolean;
}

/**
 * Applies one VPS's whole desired policy: one atomic nft batch (its own chains, counters and
 * map elements only), then its tc classes (changed in place when they exist).
 */
export async function applyVpsPolicy(
  host: HostNetConfig,
  p: VpsNetPolicy,
  opts: ApplyOptions = {},
): Promise<void> {
  const known = knownElementsOf(host);
  const elements = known.get(p.port) !== p.vpsId;
  await ensureSmtpSets(host, [p.vpsId]); // R7.1
  await applyNft(host, renderVpsBatch(host, p, { elements }));
  known.set(p.port, p.vpsId);
  if (opts.tc !== false) await applyTc(host, renderVpsTc(host, p));
}

/** R3.13: switches the VPS's classes to p's rate (p.throttled decides), with `tc class change`. */
export async function applyThrottle(host: HostNetConfig, p: VpsNetPolicy): Promise<void> {
  await applyTc(host, renderThrottleTc(host, p));
}

/** Removes a VPS's rules, counters, map elements and uplink class. */
export async function removeVps(
  host: HostNetConfig,
  v: { vpsId: string; slot: number; port: string },
): Promise<void> {
  await ensureSmtpSets(host, [v.vpsId]); // R7.1
  await applyNft(host, renderVpsRemoval(host, v.vpsId, [v.port]));
  knownElementsOf(host).delete(v.port);
  const steps = renderVpsTcRemoval(host, v.slot);
  if (steps.length) {
    await run(steps[0]!, { okCodes: [0, 2] }); // absent class: nothing to remove
  }
}

export type DropCounters = Record<CounterKind, { packets: bigint; bytes: bigint }>;

/** Per-VPS drop counters (named nft counters), one `nft -j list counters` call. */
export async function readDropCounters(host: HostNetConfig): Promise<Map<string, DropCounters>> {
  const r = await run([...nftBase(host), '-j', 'list', 'counters', 'table', 'bridge', host.table]);
  const data = JSON.parse(r.stdout) as {
    nftables: { counter?: { name: string; packets: number; bytes: number } }[];
  };
  const out = new Map<string, DropCounters>();
  for (const item of data.nftables) {
    if (!item.counter) continue;
    const parsed = parseVpsCounter(item.counter.name);
    if (!parsed) continue;
    let entry = out.get(parsed.vpsId);
    if (!entry) {
      entry = Object.fromEntries(counterKinds.map((k) => [k, { packets: 0n, bytes: 0n }])) as DropCounters;
      out.set(parsed.vpsId, entry);
    }
    entry[parsed.kind] = { packets: BigInt(item.counter.packets), bytes: BigInt(item.counter.bytes) };
  }
  return out;
}
