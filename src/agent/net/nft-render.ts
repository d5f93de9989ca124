// nftables rendered as JSON by pure functions (R6.3, R3.11, R5.1, R6.4). Golden-tested in
// test/golden/nft/. Rules are written in the canonical form `nft -j list` prints back, so the
// reconcile can compare the live ruleset with the rendering expression by expression.
//
// Layout (table bridge <table>):
//   map vps_out  { type ifname : verdict }   iifname <port> → jump vps_<id>_out  (what a VPS sends)
//   map vps_in   { type ifname : verdict }   oifname <port> → jump vps_<id>_in   (what a VPS receives)
//   chain hook_forward/hook_input (iifname vmap @vps_out), hook_forward/hook_output (oifname vmap @vps_in)
//   chain vps_<id>_out, vps_<id>_in, counters vps_<id>_{spoof,filtered,ratelimit,blocked,isolated}
// VPS chains never accept (accept would end the base chain and skip the receiver's checks):
// they drop or fall through (implicit return); base chains' policy is accept.
import type { FilteredPorts, PortBlock, PortSpec, VpsNetPolicy } from '../../domain/net-policy.ts';
import { isIpv4Cidr, validateVpsNetPolicy } from '../../domain/net-policy.ts';
import type { HostNetConfig } from './types.ts';
import { chainIn, chainOut, counterKinds, counterName, slotMinor } from './names.ts';
import type { CounterKind } from './names.ts';
import { port25FlowRules, port25Objects, port25Removal } from './nft-port25.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type NftCommand = Record<string, any>;
export interface NftBatch {
  nftables: NftCommand[];
}
/** A rule's content as both rendered and listed. */
export interface NftRuleSpec {
  chain: string;
  expr: any[];
  comment?: string;
}

export const MAP_OUT = 'vps_out';
export const MAP_IN = 'vps_in';
export const BASE_CHAINS = ['hook_forward', 'hook_input', 'hook_output'] as const;

const FAMILY = 'bridge';

// ---- expression helpers (canonical forms) ----
const payload = (protocol: string, field: string) => ({ payload: { protocol, field } });
const meta = (key: string) => ({ meta: { key } });
const match = (op: '==' | '!=', left: unknown, right: unknown) => ({ match: { op, left, right } });
const counter = (name: string) => ({ counter: name });
const drop = { drop: null };

function portValue(p: PortSpec): unknown {
  return typeof p === 'number' ? p : { range: [p[0], p[1]] };
}
function cidrValue(c: string): unknown {
  if (!isIpv4Cidr(c)) throw new Error(`not an IPv4 address/CIDR: ${c}`);
  const [addr, len] = c.split('/');
  if (len === undefined || len === '32') return addr;
  return { prefix: { addr, len: Number(len) } };
}

function ruleSpec(chain: string, expr: unknown[], comment?: string): NftRuleSpec {
  return comment === undefined ? { chain, expr } : { chain, expr, comment };
}

/** Burst for a packets/s limit: a tenth of a second's worth, at least 5 packets. */
export function limitBurst(pps: number): number {
  return Math.max(5, Math.ceil(pps / 10));
}

function blockExprs(b: PortBlock): unknown[] {
  if (b.port !== undefined) return [match('==', payload(b.protocol, 'dport'), b.port)];
  if (b.protocol === 'any') return [match('==', payload('ether', 'type'), 'ip')];
  return [match('==', meta('l4proto'), b.protocol)];
}

function commonRules(
  p: VpsNetPolicy,
  chain: string,
  dir: 'in' | 'out',
  filtered: readonly FilteredPorts[],
): NftRuleSpec[] {
  const id = p.vpsId;
  const c = (k: CounterKind) => counter(counterName(id, k));
  const rules: NftRuleSpec[] = [];
  // R3.11 filtered ports (provider list), before the explicit blocks so they count as filtered.
  // One rule per port or range: no anonymous sets (each would be one more set for nft to load
  // on every change: 1,000 VPSs × a few sets made a one-VPS update cost ~400 ms).
  for (const f of filtered) {
    if (f.direction !== dir) continue;
    for (const port of f.ports) {
      rules.push(
        ruleSpec(
          chain,
          [match('==', payload(f.protocol, 'dport'), portValue(port)), c('filtered'), drop],
          'filtered',
        ),
      );
    }
  }
  // R5.1, R7, R9: explicit blocks, each named by its id (listed, never stray).
  for (const b of p.blocks) {
    if (b.direction !== dir && b.direction !== 'both') continue;
    rules.push(ruleSpec(chain, [...blockExprs(b), c('blocked'), drop], `block:${b.id}`));
  }
  // R3.11: UDP and ICMP packets/s above the limit are dropped, per VPS and per direction.
  for (const [proto, pps] of [
    ['udp', p.limits.udpPacketsPerSecond],
    ['icmp', p.limits.icmpPacketsPerSecond],
  ] as const) {
    rules.push(
      ruleSpec(
        chain,
        [
          match('==', meta('l4proto'), proto),
          { limit: { rate: pps, burst: limitBurst(pps), per: 'second', inv: true } },
          c('ratelimit'),
          drop,
        ],
        `limit:${proto}`,
      ),
    );
  }
  return rules;
}

/** The rules of vps_<id>_out: what the VPS sends (iifname = its port). */
export function renderOutRules(host: HostNetConfig, p: VpsNetPolicy): NftRuleSpec[] {
  const ch = chainOut(p.vpsId);
  const spoof = counter(counterName(p.vpsId, 'spoof'));
  const rules: NftRuleSpec[] = [
    // R6.3 anti-spoofing: own MAC only, ARP sender fields own MAC/IP, IPv4 source own IP.
    ruleSpec(ch, [match('!=', payload('ether', 'saddr'), p.mac), spoof, drop], 'spoof:mac'),
    ruleSpec(ch, [match('!=', payload('arp', 'saddr ether'), p.mac), spoof, drop], 'spoof:arp-mac'),
    ruleSpec(ch, [match('!=', payload('arp', 'saddr ip'), p.ipv4), spoof, drop], 'spoof:arp-ip'),
    ruleSpec(ch, [match('!=', payload('ip', 'saddr'), p.ipv4), spoof, drop], 'spoof:ip'),
    // R6.3: no DHCP server replies, no IPv6 router advertisements.
    ruleSpec(ch, [match('==', payload('udp', 'sport'), 67), spoof, drop], 'spoof:dhcp-server'),
    ruleSpec(ch, [match('==', payload('icmpv6', 'type'), 'nd-router-advert'), spoof, drop], 'spoof:ipv6-ra'),
    // Only IPv4 and ARP leave a VPS (IPv6, VLAN tags, other ethertypes: dropped, see docs).
    ruleSpec(
      ch,
      [
        match('!=', payload('ether', 'type'), 'ip'),
        match('!=', payload('ether', 'type'), 'arp'),
        spoof,
        drop,
      ],
      'spoof:ethertype',
    ),
  ];
  rules.push(...port25FlowRules(ch, p.vpsId)); // R7.1: counted, never dropped here
  if (p.isolated) rules.push(...isolationRules(host, p, ch, 'daddr'));
  rules.push(...commonRules(p, ch, 'out', p.filteredPorts));
  // R3.13: the uplink's HTB puts the frame in the VPS's class (skb->priority = 1:<slot + 0x10>).
  rules.push(ruleSpec(ch, [{ mangle: { key: meta('priority'), value: `1:${slotMinor(p.slot)}` } }], 'class'));
  return rules;
}

/** The rules of vps_<id>_in: what the VPS receives (oifname = its port). */
export function renderInRules(host: HostNetConfig, p: VpsNetPolicy): NftRuleSpec[] {
  const ch = chainIn(p.vpsId);
  const rules: NftRuleSpec[] = [
    // R6.3 (sniffing): unicast frames for another MAC (flooded by the bridge) never reach the VPS.
    ruleSpec(
      ch,
      [
        match('!=', payload('ether', 'daddr'), p.mac),
        match('==', { '&': [payload('ether', 'daddr'), '01:00:00:00:00:00'] }, '00:00:00:00:00:00'),
        drop,
      ],
      'foreign-unicast',
    ),
  ];
  if (p.isolated) rules.push(...isolationRules(host, p, ch, 'saddr'));
  rules.push(...commonRules(p, ch, 'in', p.filteredPorts));
  return rules;
}

function isolationRules(
  host: HostNetConfig,
  p: VpsNetPolicy,
  ch: string,
  field: 'saddr' | 'daddr',
): NftRuleSpec[] {
  const c = counter(counterName(p.vpsId, 'isolated'));
  // The management path returns to the base chain (no set: see commonRules); ARP still passes
  // (the management path needs it); all other IPv4 drops.
  return [
    ...host.management.map((m) =>
      ruleSpec(
        ch,
        [match('==', payload('ip', field), cidrValue(m)), { return: null }],
        'isolated:management',
      ),
    ),
    ruleSpec(ch, [match('==', payload('ether', 'type'), 'ip'), c, drop], 'isolated'),
  ];
}

const tableObj = (host: HostNetConfig) => ({ family: FAMILY, name: host.table });
const mapObj = (host: HostNetConfig, name: string) => ({
  family: FAMILY,
  table: host.table,
  name,
  type: 'ifname',
  map: 'verdict',
});
const chainObj = (host: HostNetConfig, name: string) => ({ family: FAMILY, table: host.table, name });
const counterObj = (host: HostNetConfig, name: string) => ({ family: FAMILY, table: host.table, name });
const ruleObj = (host: HostNetConfig, r: NftRuleSpec) => ({ family: FAMILY, table: host.table, ...r });
const elemObj = (host: HostNetConfig, map: string, port: string, chain: string) => ({
  family: FAMILY,
  table: host.table,
  name: map,
  elem: [[port, { jump: { target: chain } }]],
});

/** Base chains and their rules (the vmap dispatch). */
export function renderBaseRules(_host: HostNetConfig): NftRuleSpec[] {
  const vmap = (key: string, map: string) => ({ vmap: { key: meta(key), data: `@${map}` } });
  return [
    ruleSpec('hook_forward', [vmap('iifname', MAP_OUT)]),
    ruleSpec('hook_forward', [vmap('oifname', MAP_IN)]),
    ruleSpec('hook_input', [vmap('iifname', MAP_OUT)]),
    ruleSpec('hook_output', [vmap('oifname', MAP_IN)]),
  ];
}

const baseChainDefs = (host: HostNetConfig) =>
  BASE_CHAINS.map((name) => ({
    ...chainObj(host, name),
    type: 'filter',
    hook: name.slice('hook_'.length),
    prio: 0,
    policy: 'accept',
  }));

/** Creates the table, maps and base chains and (re)writes the base rules, atomically. */
export function renderBaseBatch(host: HostNetConfig): NftBatch {
  return {
    nftables: [
      { add: { table: tableObj(host) } },
      { add: { map: mapObj(host, MAP_OUT) } },
      { add: { map: mapObj(host, MAP_IN) } },
      ...baseChainDefs(host).map((c) => ({ add: { chain: c } })),
      ...BASE_CHAINS.map((name) => ({ flush: { chain: chainObj(host, name) } })),
      ...renderBaseRules(host).map((r) => ({ add: { rule: ruleObj(host, r) } })),
    ],
  };
}

/**
 * One VPS's whole policy as one atomic batch: its counters (kept if they exist), its two
 * chains flushed and refilled, its two map elements. Touches no other VPS's objects.
 * `elements: false` leaves the map elements out (they never change for a VPS on a port, and
 * adding a map element makes nft load every set element of the table: ~300 ms with 1,000 VPSs).
 */
export function renderVpsBatch(
  host: HostNetConfig,
  p: VpsNetPolicy,
  opts: { elements?: boolean } = {},
): NftBatch {
  validateVpsNetPolicy(p);
  const out = chainOut(p.vpsId);
  const inn = chainIn(p.vpsId);
  return {
    nftables: [
      { add: { table: tableObj(host) } },
      { add: { map: mapObj(host, MAP_OUT) } },
      { add: { map: mapObj(host, MAP_IN) } },
      ...counterKinds.map((k) => ({ add: { counter: counterObj(host, counterName(p.vpsId, k)) } })),
      ...port25Objects(host, p.vpsId),
      { add: { chain: chainObj(host, out) } },
      { add: { chain: chainObj(host, inn) } },
      { flush: { chain: chainObj(host, out) } },
      { flush: { chain: chainObj(host, inn) } },
      ...renderOutRules(host, p).map((r) => ({ add: { rule: ruleObj(host, r) } })),
      ...renderInRules(host, p).map((r) => ({ add: { rule: ruleObj(host, r) } })),
      ...(opts.elements === false
        ? []
        : [
            { add: { element: elemObj(host, MAP_OUT, p.port, out) } },
            { add: { element: elemObj(host, MAP_IN, p.port, inn) } },
          ]),
    ],
  };
}

/**
 * Removes one VPS (chains, counters, map elements) in one batch. Idempotent: each object is
 * added (a no-op when present) before being deleted, so a half-present VPS is removed too.
 * `ports`: every port whose map elements point at this VPS's chains.
 */
export function renderVpsRemoval(host: HostNetConfig, vpsId: string, ports: readonly string[]): NftBatch {
  const out = chainOut(vpsId);
  const inn = chainIn(vpsId);
  const cmds: NftCommand[] = [
    { add: { table: tableObj(host) } },
    { add: { map: mapObj(host, MAP_OUT) } },
    { add: { map: mapObj(host, MAP_IN) } },
    { add: { chain: chainObj(host, out) } },
    { add: { chain: chainObj(host, inn) } },
  ];
  for (const port of ports) {
    cmds.push(
      { add: { element: elemObj(host, MAP_OUT, port, out) } },
      { add: { element: elemObj(host, MAP_IN, port, inn) } },
    );
    cmds.push(
      { delete: { element: elemObj(host, MAP_OUT, port, out) } },
      { delete: { element: elemObj(host, MAP_IN, port, inn) } },
    );
  }
  cmds.push({ flush: { chain: chainObj(host, out) } }, { flush: { chain: chainObj(host, inn) } });
  cmds.push({ delete: { chain: chainObj(host, out) } }, { delete: { chain: chainObj(host, inn) } });
  cmds.push(...port25Removal(host, vpsId));
  for (const k of counterKinds) {
    cmds.push(
      { add: { counter: counterObj(host, counterName(vpsId, k)) } },
      { delete: { counter: counterObj(host, counterName(vpsId, k)) } },
    );
  }
  return { nftables: cmds };
}

/** Deletes map elements (stale ports) in one batch. */
export function renderElementRemoval(
  host: HostNetConfig,
  items: readonly { map: string; port: string; chain: string }[],
): NftBatch {
  return { nftables: items.map((i) => ({ delete: { element: elemObj(host, i.map, i.port, i.chain) } })) };
}
