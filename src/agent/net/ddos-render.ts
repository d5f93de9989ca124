// DDoS counting and tier-1 mitigation (R9.1, R9.5), rendered as nft text by pure functions
// (golden-tested in test/golden/nft/ddos-*.nft). A table of its own, `bridge <table>_ddos`,
// so the VPS chains (nft-render.ts) and their reconcile are untouched and a mitigation change
// is a small batch on a small table:
//   set amp_ports            host-wide named set: amplification source ports (a shared list)
//   set cnt_<kind>           per destination address, dynamic, one counter per element
//   chain count  (forward, priority -10)  counts what arrives from outside, BEFORE any drop
//   chain mitigate (forward, priority -5) `ip daddr <addr> jump mit_<id>` per mitigated VPS
//   chain mit_<id>           the tier-1 rules; counter mit_<id>_drop; sets mit_<id>_{seen,syn,src}
// Both hooks run before the VPS chains (priority 0): a drop here ends the packet; what passes
// still meets the VPS's own policy. Established TCP (no SYN flag) meets only the per-source
// meter, set far above one legitimate connection's rate.
// No SYN proxy: it needs connection tracking, which the bridge family has only with the
// nf_conntrack_bridge module (absent here); SYNs are limited per source and overall instead.
import { AMPLIFICATION_PORTS, ddosKinds } from '../../domain/ddos.ts';
import type { DdosKind } from '../../domain/ddos.ts';
import { isIpv4Cidr } from '../../domain/net-policy.ts';
import type { HostNetConfig } from './types.ts';

/** A VPS address in tier-1 mitigation, as the control plane asks for it. */
export interface MitigationSpec {
  readonly vpsId: string;
  readonly ipv4: string;
  /** New TCP connections/s let through to the address (all sources together). */
  readonly synPerSecond: number;
  /** Per source: SYNs/s and other UDP/ICMP packets/s. */
  readonly perSourceSynPerSecond: number;
  readonly perSourcePacketsPerSecond: number;
}

export const DEFAULT_MITIGATION_LIMITS = Object.freeze({
  synPerSecond: 2_000,
  perSourceSynPerSecond: 50,
  perSourcePacketsPerSecond: 5_000,
});

export const ddosTable = (host: Pick<HostNetConfig, 'table'>) => `${host.table}_ddos`;
export const countSet = (k: DdosKind) => `cnt_${k}`;
export const mitChain = (vpsId: string) => `mit_${vpsId}`;
export const mitCounter = (vpsId: string) => `mit_${vpsId}_drop`;
export const mitSeenSet = (vpsId: string) => `mit_${vpsId}_seen`;
const mitSynSet = (vpsId: string) => `mit_${vpsId}_syn`;
const mitSrcSet = (vpsId: string) => `mit_${vpsId}_src`;

/** Seconds an idle address's counters are kept (a returning address starts again at 0). */
export const COUNT_TIMEOUT_SECONDS = 120;

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

function checkSpec(m: MitigationSpec): void {
  if (!SAFE_ID.test(m.vpsId)) throw new Error(`not a VPS id: ${m.vpsId}`);
  if (!isIpv4Cidr(m.ipv4) || m.ipv4.includes('/')) throw new Error(`not an IPv4 address: ${m.ipv4}`);
  for (const v of [m.synPerSecond, m.perSourceSynPerSecond, m.perSourcePacketsPerSecond])
    if (!Number.isInteger(v) || v < 1) throw new Error(`not a positive rate: ${v}`);
}

const burst = (pps: number) => Math.max(5, Math.ceil(pps / 10));

/** What each counting set counts (nft match), in rule order. */
const COUNT_MATCHES: Record<DdosKind, string> = {
  all: 'ether type ip',
  tcp: 'meta l4proto tcp',
  syn: 'tcp flags & (syn | ack) == syn',
  udp: 'meta l4proto udp',
  icmp: 'meta l4proto icmp',
  frag: 'ip frag-off & 0x3fff != 0',
  amp: 'udp sport @amp_ports',
};

/**
 * The table, the shared port set, the counting sets and chain, and the mitigate chain (kept
 * when present: `add` of an existing object is a no-op). One transaction, at setup.
 */
export function renderDdosBase(host: HostNetConfig): string[] {
  const t = `bridge ${ddosTable(host)}`;
  const from = host.uplink ? `iifname "${host.uplink}" ` : '';
  return [
    `add table ${t}`,
    `add set ${t} amp_ports { type inet_service; }`,
    `flush set ${t} amp_ports`,
    `add element ${t} amp_ports { ${AMPLIFICATION_PORTS.join(', ')} }`,
    ...ddosKinds.map(
      (k) =>
        `add set ${t} ${countSet(k)} { type ipv4_addr; size 65536; flags dynamic,timeout; timeout ${COUNT_TIMEOUT_SECONDS}s; counter; }`,
    ),
    `add chain ${t} count { type filter hook forward priority -10; policy accept; }`,
    `flush chain ${t} count`,
    ...ddosKinds.map(
      (k) => `add rule ${t} count ${from}${COUNT_MATCHES[k]} update @${countSet(k)} { ip daddr }`,
    ),
    `add chain ${t} mitigate { type filter hook forward priority -5; policy accept; }`,
  ];
}

const DYN = 'type ipv4_addr; size 65536; flags dynamic,timeout; timeout 60s;';
/** A mitigated VPS's sets and their definitions (the same for creation and removal). */
const mitSets = (vpsId: string): [string, string][] => [
  [mitSeenSet(vpsId), `{ ${DYN} counter; }`],
  [mitSynSet(vpsId), `{ ${DYN} }`],
  [mitSrcSet(vpsId), `{ ${DYN} }`],
];

/** One VPS's tier-1 chain, its counter and its sets (R9.1, R9.5). */
export function renderMitigationChain(host: HostNetConfig, m: MitigationSpec): string[] {
  checkSpec(m);
  const t = `bridge ${ddosTable(host)}`;
  const ch = mitChain(m.vpsId);
  const drop = `counter name "${mitCounter(m.vpsId)}" drop`;
  return [
    `add counter ${t} ${mitCounter(m.vpsId)}`,
    ...mitSets(m.vpsId).map(([name, def]) => `add set ${t} ${name} ${def}`),
    `add chain ${t} ${ch}`,
    `flush chain ${t} ${ch}`,
    // sources sampled with their packet counts (the attack's top sources), before any drop
    `add rule ${t} ${ch} update @${mitSeenSet(m.vpsId)} { ip saddr }`,
    `add rule ${t} ${ch} ip frag-off & 0x3fff != 0 ${drop}`,
    `add rule ${t} ${ch} udp sport @amp_ports ${drop}`,
    // invalid TCP flag combinations
    `add rule ${t} ${ch} tcp flags & (fin | syn) == fin | syn ${drop}`,
    `add rule ${t} ${ch} tcp flags & (syn | rst) == syn | rst ${drop}`,
    `add rule ${t} ${ch} tcp flags & (fin | syn | rst | psh | ack | urg) == 0x0 ${drop}`,
    `add rule ${t} ${ch} tcp flags & (fin | psh | urg) == fin | psh | urg ${drop}`,
    // new connections: per source, then all sources together
    `add rule ${t} ${ch} tcp flags & (syn | ack) == syn add @${mitSynSet(m.vpsId)} { ip saddr limit rate over ${m.perSourceSynPerSecond}/second burst ${burst(m.perSourceSynPerSecond)} packets } ${drop}`,
    `add rule ${t} ${ch} tcp flags & (syn | ack) == syn limit rate over ${m.synPerSecond}/second burst ${burst(m.synPerSecond)} packets ${drop}`,
    // UDP and ICMP: per source
    `add rule ${t} ${ch} meta l4proto { udp, icmp } add @${mitSrcSet(m.vpsId)} { ip saddr limit rate over ${m.perSourcePacketsPerSecond}/second burst ${burst(m.perSourcePacketsPerSecond)} packets } ${drop}`,
  ];
}

/**
 * The whole mitigation state of the host in one transaction: the mitigate chain rewritten with
 * one jump per mitigated address, each mitigated VPS's chain, and the chains of VPSs no longer
 * mitigated (`ended`) removed. The base (renderDdosBase) is applied once at setup: adding set
 * elements here would make nft load every counting set's elements on each change.
 */
export function renderMitigations(
  host: HostNetConfig,
  active: readonly MitigationSpec[],
  ended: readonly string[],
): string[] {
  const t = `bridge ${ddosTable(host)}`;
  const lines = [`flush chain ${t} mitigate`];
  for (const m of active) lines.push(...renderMitigationChain(host, m));
  for (const m of active) lines.push(`add rule ${t} mitigate ip daddr ${m.ipv4} jump ${mitChain(m.vpsId)}`);
  const keep = new Set(active.map((m) => m.vpsId));
  for (const vpsId of ended) {
    if (keep.has(vpsId) || !SAFE_ID.test(vpsId)) continue;
    // each object added first (a no-op when present), so a half-removed VPS is removed too
    lines.push(
      `add chain ${t} ${mitChain(vpsId)}`,
      `flush chain ${t} ${mitChain(vpsId)}`,
      `delete chain ${t} ${mitChain(vpsId)}`,
    );
    for (const [name, def] of mitSets(vpsId))
      lines.push(`add set ${t} ${name} ${def}`, `delete set ${t} ${name}`);
    lines.push(`add counter ${t} ${mitCounter(vpsId)}`, `delete counter ${t} ${mitCounter(vpsId)}`);
  }
  return lines;
}

/** Parses `mit_<id>` back (the agent lists the chains it finds to remove strays). */
export function parseMitChain(name: string): string | null {
  const m = /^mit_(.+)$/.exec(name);
  return m && !/_(drop|seen|syn|src)$/.test(name) ? m[1]! : null;
}
