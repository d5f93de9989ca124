// Reconcile (R6.3, R5.1: what the host enforces must be what is decided): reads the live nft table, compares it with the rendering of
// the desired policies, repairs drift (missing/extra/modified chains, rules, map elements,
// counters, base chains) and reports what it fixed. Each repair is the same atomic batch the
// normal path uses (one per VPS), so a repair never rewrites another VPS.
import type { VpsNetPolicy } from '../../domain/net-policy.ts';
import { applyNft, applyTc, knownElementsOf, listTable } from './host.ts';
import { run } from '../exec/run.ts';
import {
  BASE_CHAINS,
  MAP_IN,
  MAP_OUT,
  renderBaseBatch,
  renderBaseRules,
  renderElementRemoval,
  renderInRules,
  renderOutRules,
  renderVpsBatch,
  renderVpsRemoval,
} from './nft-render.ts';
import type { NftRuleSpec } from './nft-render.ts';
import { ensureSmtpSets } from './nft-port25.ts';
import {
  chainIn,
  chainOut,
  counterKinds,
  counterName,
  parseVpsChain,
  parseVpsCounter,
  slotMinor,
} from './names.ts';
import { renderUplinkTc, renderVpsTc, tcBase } from './tc-render.ts';
import type { HostNetConfig } from './types.ts';
import { effectiveRate } from '../../domain/net-policy.ts';

export type FixKind =
  'table' | 'base' | 'vps' | 'stale_vps' | 'stale_element' | 'stale_counter' | 'foreign_chain' | 'tc';

export interface ReconcileFix {
  kind: FixKind;
  vpsId?: string;
  detail: string;
}

/** JSON with sorted keys: the comparison key of a rule. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const ruleKey = (r: { expr: unknown; comment?: unknown }) =>
  canonical({ expr: r.expr, comment: r.comment ?? null });

interface LiveTable {
  chains: Map<string, { hook?: string; prio?: number; policy?: string; type?: string }>;
  rules: Map<string, string[]>;
  elems: Map<string, Map<string, string>>; // map → port → target chain
  counters: Set<string>;
}

export function parseLiveTable(items: Record<string, unknown>[]): LiveTable {
  const t: LiveTable = { chains: new Map(), rules: new Map(), elems: new Map(), counters: new Set() };
  for (const it of items) {
    if (it.chain) {
      const c = it.chain as { name: string; hook?: string; prio?: number; policy?: string; type?: string };
      t.chains.set(c.name, { hook: c.hook, prio: c.prio, policy: c.policy, type: c.type });
      if (!t.rules.has(c.name)) t.rules.set(c.name, []);
    } else if (it.rule) {
      const r = it.rule as { chain: string; expr: unknown; comment?: string };
      const list = t.rules.get(r.chain) ?? [];
      list.push(ruleKey(r));
      t.rules.set(r.chain, list);
    } else if (it.map) {
      const m = it.map as {
        name: string;
        elem?: [unknown, { jump?: { target: string }; goto?: { target: string } }][];
      };
      const map = new Map<string, string>();
      for (const [k, v] of m.elem ?? []) {
        const key = typeof k === 'string' ? k : canonical(k);
        map.set(key, v.jump?.target ?? `?${canonical(v)}`);
      }
      t.elems.set(m.name, map);
    } else if (it.counter) {
      t.counters.add((it.counter as { name: string }).name);
    }
  }
  return t;
}

function sameRules(live: string[] | undefined, want: NftRuleSpec[]): boolean {
  if (!live || live.length !== want.length) return false;
  return want.every((r, i) => ruleKey(r) === live[i]);
}

/** Compares the live table with the desired state and repairs it; returns what it fixed. */
export async function reconcileNft(
  host: HostNetConfig,
  policies: readonly VpsNetPolicy[],
): Promise<ReconcileFix[]> {
  const fixes: ReconcileFix[] = [];
  const items = await listTable(host);
  const known = knownElementsOf(host);
  known.clear();
  // every path below leaves each desired VPS's elements in place
  const remember = () => {
    for (const p of policies) known.set(p.port, p.vpsId);
  };
  if (!items) {
    await applyNft(host, renderBaseBatch(host));
    fixes.push({ kind: 'table', detail: `table bridge ${host.table} was missing` });
    await ensureSmtpSets(
      host,
      policies.map((p) => p.vpsId),
    ); // R7.1
    for (const p of policies) {
      await applyNft(host, renderVpsBatch(host, p));
      fixes.push({ kind: 'vps', vpsId: p.vpsId, detail: 'created' });
    }
    remember();
    return fixes;
  }
  const live = parseLiveTable(items);

  // Base chains and maps.
  const baseProblems: string[] = [];
  const baseRules = renderBaseRules(host);
  for (const name of BASE_CHAINS) {
    const c = live.chains.get(name);
    if (!c) baseProblems.push(`chain ${name} missing`);
    else if (c.hook !== name.slice(5) || c.policy !== 'accept' || c.prio !== 0 || c.type !== 'filter')
      baseProblems.push(`chain ${name} definition`);
    else if (
      !sameRules(
        live.rules.get(name),
        baseRules.filter((r) => r.chain === name),
      )
    )
      baseProblems.push(`chain ${name} rules`);
  }
  for (const m of [MAP_OUT, MAP_IN]) if (!live.elems.has(m)) baseProblems.push(`map ${m} missing`);
  if (baseProblems.length) {
    // A base chain with another definition cannot be changed in place: delete it first.
    for (const name of BASE_CHAINS) {
      const c = live.chains.get(name);
      if (c && (c.hook !== name.slice(5) || c.policy !== 'accept' || c.prio !== 0 || c.type !== 'filter')) {
        await applyNft(host, {
          nftables: [{ delete: { chain: { family: 'bridge', table: host.table, name } } }],
        });
      }
    }
    await applyNft(host, renderBaseBatch(host));
    fixes.push({ kind: 'base', detail: baseProblems.join('; ') });
  }

  const desired = new Map(policies.map((p) => [p.vpsId, p]));
  const wantElems = new Map<string, Map<string, string>>([
    [MAP_OUT, new Map(policies.map((p) => [p.port, chainOut(p.vpsId)]))],
    [MAP_IN, new Map(policies.map((p) => [p.port, chainIn(p.vpsId)]))],
  ]);

  // Desired VPSs.
  for (const p of policies) {
    const problems: string[] = [];
    for (const [chain, rules] of [
      [chainOut(p.vpsId), renderOutRules(host, p)],
      [chainIn(p.vpsId), renderInRules(host, p)],
    ] as const) {
      if (!live.chains.has(chain)) problems.push(`chain ${chain} missing`);
      else if (!sameRules(live.rules.get(chain), rules)) problems.push(`chain ${chain} rules differ`);
    }
    for (const [map, chain] of [
      [MAP_OUT, chainOut(p.vpsId)],
      [MAP_IN, chainIn(p.vpsId)],
    ] as const) {
      if (live.elems.get(map)?.get(p.port) !== chain) problems.push(`element ${map}[${p.port}] missing`);
    }
    for (const k of counterKinds)
      if (!live.counters.has(counterName(p.vpsId, k)))
        problems.push(`counter ${counterName(p.vpsId, k)} missing`);
    if (problems.length) {
      await ensureSmtpSets(host, [p.vpsId]); // R7.1
      await applyNft(host, renderVpsBatch(host, p));
      fixes.push({ kind: 'vps', vpsId: p.vpsId, detail: problems.join('; ') });
    }
  }

  // VPS chains nobody wants, and foreign chains.
  const removed = new Set<string>();
  for (const name of live.chains.keys()) {
    if ((BASE_CHAINS as readonly string[]).includes(name)) continue;
    const parsed = parseVpsChain(name);
    if (parsed) {
      if (desired.has(parsed.vpsId) || removed.has(parsed.vpsId)) continue;
      const ports = new Set<string>();
      for (const m of [MAP_OUT, MAP_IN]) {
        for (const [port, target] of live.elems.get(m) ?? []) {
          if (target === chainOut(parsed.vpsId) || target === chainIn(parsed.vpsId)) ports.add(port);
        }
      }
      await ensureSmtpSets(host, [parsed.vpsId]); // R7.1
      await applyNft(host, renderVpsRemoval(host, parsed.vpsId, [...ports]));
      removed.add(parsed.vpsId);
      for (const m of [MAP_OUT, MAP_IN]) for (const port of ports) live.elems.get(m)?.delete(port);
      fixes.push({
        kind: 'stale_vps',
        vpsId: parsed.vpsId,
        detail: `removed chains, counters and ${ports.size} port(s)`,
      });
    } else {
      await applyNft(host, {
        nftables: [
          { flush: { chain: { family: 'bridge', table: host.table, name } } },
          { delete: { chain: { family: 'bridge', table: host.table, name } } },
        ],
      });
      fixes.push({ kind: 'foreign_chain', detail: `deleted chain ${name}` });
    }
  }

  // Map elements that point elsewhere or to nobody.
  const staleElems: { map: string; port: string; chain: string }[] = [];
  for (const m of [MAP_OUT, MAP_IN]) {
    for (const [port, target] of live.elems.get(m) ?? []) {
      const want = wantElems.get(m)!.get(port);
      if (want === target) continue;
      if (want !== undefined) continue; // wrong target: the VPS's batch above rewrote it
      staleElems.push({ map: m, port, chain: target });
    }
  }
  if (staleElems.length) {
    await applyNft(host, renderElementRemoval(host, staleElems));
    for (const e of staleElems)
      fixes.push({ kind: 'stale_element', detail: `${e.map}[${e.port}] → ${e.chain}` });
  }

  // Counters of VPSs that are gone.
  const staleCounters = [...live.counters].filter((n) => {
    const c = parseVpsCounter(n);
    return c && !desired.has(c.vpsId) && !removed.has(c.vpsId);
  });
  if (staleCounters.length) {
    await applyNft(host, {
      nftables: staleCounters.map((name) => ({
        delete: { counter: { family: 'bridge', table: host.table, name } },
      })),
    });
    for (const n of staleCounters) fixes.push({ kind: 'stale_counter', detail: n });
  }
  remember();
  return fixes;
}

interface TcClass {
  handle: string;
  parent: string | null;
  /** bits per second */
  rate: number;
  ceil: number;
}

const units: Record<string, number> = { bit: 1, Kbit: 1e3, Mbit: 1e6, Gbit: 1e9, Tbit: 1e12 };

/** Parses `tc class show` text (iproute2 6.1 prints no JSON for HTB classes). */
export function parseTcClasses(text: string): TcClass[] {
  const out: TcClass[] = [];
  for (const line of text.split('\n')) {
    const m =
      /^class htb (\S+) (?:root|parent (\S+)).* rate (\d+(?:\.\d+)?)(bit|Kbit|Mbit|Gbit|Tbit) ceil (\d+(?:\.\d+)?)(bit|Kbit|Mbit|Gbit|Tbit)/.exec(
        line,
      );
    if (!m) continue;
    out.push({
      handle: m[1]!,
      parent: m[2] ?? null,
      rate: Math.round(Number(m[3]) * units[m[4]!]!),
      ceil: Math.round(Number(m[5]) * units[m[6]!]!),
    });
  }
  return out;
}

async function listClasses(host: HostNetConfig, dev: string): Promise<TcClass[] | null> {
  const r = await run([...tcBase(host), 'class', 'show', 'dev', dev], { okCodes: [0, 1, 2] });
  if (r.exitCode !== 0) return null;
  return parseTcClasses(r.stdout);
}

/** Checks each VPS's classes (uplink and tap) carry its current rate; re-applies when not. */
export async function reconcileTc(
  host: HostNetConfig,
  policies: readonly VpsNetPolicy[],
): Promise<ReconcileFix[]> {
  const fixes: ReconcileFix[] = [];
  let uplinkClasses: TcClass[] | null = null;
  if (host.uplink) {
    uplinkClasses = await listClasses(host, host.uplink);
    if (!uplinkClasses?.some((c) => c.handle === '1:1')) {
      await applyTc(host, renderUplinkTc(host));
      fixes.push({ kind: 'tc', detail: `uplink ${host.uplink} HTB tree missing` });
      uplinkClasses = await listClasses(host, host.uplink);
    }
  }
  for (const p of policies) {
    const rate = effectiveRate(p);
    const problems: string[] = [];
    if (host.uplink) {
      const c = uplinkClasses?.find((x) => x.handle === `1:${slotMinor(p.slot)}`);
      if (!c || c.rate !== rate || c.ceil !== rate) problems.push('uplink class');
    }
    const tapClasses = await listClasses(host, p.port);
    const tc = tapClasses?.find((x) => x.handle === '1:1');
    if (!tc || tc.rate !== rate || tc.ceil !== rate) problems.push('tap class');
    if (problems.length) {
      await applyTc(host, renderVpsTc(host, p));
      fixes.push({ kind: 'tc', vpsId: p.vpsId, detail: problems.join('; ') });
    }
  }
  return fixes;
}

/** nft then tc. */
export async function reconcileHost(
  host: HostNetConfig,
  policies: readonly VpsNetPolicy[],
): Promise<ReconcileFix[]> {
  return [...(await reconcileNft(host, policies)), ...(await reconcileTc(host, policies))];
}
