// DDoS counting and tier-1 mitigation on the host (R9.1, R9.5): applies ddos-render.ts's
// commands through the nft session and reads the counting sets (one `nft -j list table` of the
// small ddos table per second).
import { CommandError, run } from '../exec/run.ts';
import { ddosKinds } from '../../domain/ddos.ts';
import type { DdosCounters, DdosKind } from '../../domain/ddos.ts';
import { applyNftText, nftBase } from './host.ts';
import { countSet, ddosTable, parseMitChain, renderDdosBase, renderMitigations } from './ddos-render.ts';
import type { MitigationSpec } from './ddos-render.ts';
import type { HostNetConfig } from './types.ts';

export async function setupDdos(host: HostNetConfig): Promise<void> {
  await applyNftText(host, renderDdosBase(host));
}

export interface DdosHostReading {
  /** Cumulative counters per destination address (what arrived from outside, before any drop). */
  addresses: Map<string, DdosCounters>;
  /** Per mitigated VPS: packets/bytes its tier-1 rules dropped, and its top sources. */
  mitigations: Map<
    string,
    { dropped: { packets: number; bytes: number }; topSources: { address: string; packets: number }[] }
  >;
}

interface SetElem {
  elem?: { val: unknown; counter?: { packets: number; bytes: number } };
}
type Item = Record<string, unknown>;

function elemsOf(set: { elem?: unknown[] }): { key: string; packets: number; bytes: number }[] {
  const out: { key: string; packets: number; bytes: number }[] = [];
  for (const e of set.elem ?? []) {
    const el = (e as SetElem).elem;
    if (!el || typeof el.val !== 'string' || !el.counter) continue;
    out.push({ key: el.val, packets: el.counter.packets, bytes: el.counter.bytes });
  }
  return out;
}

/** The table's listing parsed into counters (pure; exported for tests). */
export function parseDdosTable(items: Item[]): DdosHostReading {
  const addresses = new Map<string, DdosCounters>();
  const byKind = new Map<DdosKind, Map<string, { packets: number; bytes: number }>>();
  const drops = new Map<string, { packets: number; bytes: number }>();
  const seen = new Map<string, { address: string; packets: number }[]>();
  const chains: string[] = [];
  for (const it of items) {
    if (it.set) {
      const s = it.set as { name: string; elem?: unknown[] };
      const kind = ddosKinds.find((k) => countSet(k) === s.name);
      if (kind) byKind.set(kind, new Map(elemsOf(s).map((e) => [e.key, e])));
      const m = /^mit_(.+)_seen$/.exec(s.name);
      if (m)
        seen.set(
          m[1]!,
          elemsOf(s).map((e) => ({ address: e.key, packets: e.packets })),
        );
    } else if (it.counter) {
      const c = it.counter as { name: string; packets: number; bytes: number };
      const m = /^mit_(.+)_drop$/.exec(c.name);
      if (m) drops.set(m[1]!, { packets: c.packets, bytes: c.bytes });
    } else if (it.chain) {
      const id = parseMitChain((it.chain as { name: string }).name);
      if (id) chains.push(id);
    }
  }
  for (const [addr, all] of byKind.get('all') ?? []) {
    const packets = Object.fromEntries(
      ddosKinds.map((k) => [k, byKind.get(k)?.get(addr)?.packets ?? 0]),
    ) as Record<DdosKind, number>;
    addresses.set(addr, { packets, bytes: all.bytes });
  }
  const mitigations: DdosHostReading['mitigations'] = new Map();
  for (const id of chains) {
    const top = (seen.get(id) ?? []).sort((a, b) => b.packets - a.packets).slice(0, 5);
    mitigations.set(id, { dropped: drops.get(id) ?? { packets: 0, bytes: 0 }, topSources: top });
  }
  return { addresses, mitigations };
}

/** One reading of the whole ddos table; empty when it does not exist yet. */
export async function readDdos(host: HostNetConfig): Promise<DdosHostReading> {
  try {
    const r = await run([...nftBase(host), '-j', 'list', 'table', 'bridge', ddosTable(host)]);
    return parseDdosTable((JSON.parse(r.stdout) as { nftables: Item[] }).nftables);
  } catch (e) {
    if (e instanceof CommandError && /No such file or directory/.test(e.stderr))
      return { addresses: new Map(), mitigations: new Map() };
    throw e;
  }
}

/**
 * The host's whole tier-1 state (R9.1): `active` in force, the chains of `ended` removed, in
 * one transaction. Idempotent. setupDdos must have run (the agent's setup does it).
 */
export async function applyMitigations(
  host: HostNetConfig,
  active: readonly MitigationSpec[],
  ended: readonly string[] = [],
): Promise<void> {
  await applyNftText(host, renderMitigations(host, active, ended));
}

/** Like applyMitigations, also removing every mitigation chain nobody asked for (a restart, drift). */
export async function reconcileMitigations(
  host: HostNetConfig,
  active: readonly MitigationSpec[],
): Promise<void> {
  await setupDdos(host);
  const present = [...(await readDdos(host)).mitigations.keys()];
  await applyMitigations(host, active, present);
}
