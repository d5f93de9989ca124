// The per-VPS network policy (R6.3, R3.11, R3.13, R5.1, R6.4): everything the host enforces for one VPS is a field of
// this object, so every restriction is a listed state, never a stray rule. The host agent
// renders it to nftables JSON and tc argv (src/agent/net/) and applies it as a whole.
// Pure: validation raises DomainErrors; no Node, no network.
import { invalidData } from './errors.ts';
import type { Terms } from './terms.ts';

export type Direction = 'in' | 'out';
export type PortProtocol = 'tcp' | 'udp';

/** A port or an inclusive port range. */
export type PortSpec = number | readonly [number, number];

/**
 * R3.11: a provider-set filtered port list entry. `in` = traffic to the VPS, `out` = traffic
 * the VPS sends; ports are destination ports.
 */
export interface FilteredPorts {
  readonly direction: Direction;
  readonly protocol: PortProtocol;
  readonly ports: readonly PortSpec[];
  readonly reason: string;
}

/**
 * R5.1, R6.4, R7, R9: an explicit block on one VPS. `protocol: 'any'` blocks all IPv4 in that
 * direction (a class of traffic); a port is only allowed with tcp/udp and is a destination port.
 */
export interface PortBlock {
  /** Stable identifier given by the control plane (its audit row), kept in the rule listing. */
  readonly id: string;
  readonly direction: Direction | 'both';
  readonly protocol: PortProtocol | 'icmp' | 'any';
  readonly port?: number;
  readonly reason?: string;
}

/** R3.11: per-VPS packet rate limits, applied separately to each direction. */
export interface RateLimits {
  readonly udpPacketsPerSecond: number;
  readonly icmpPacketsPerSecond: number;
}

/** R3.13: rates come from the terms the contract was signed under. */
export interface Bandwidth {
  readonly guaranteedBitsPerSecond: number;
  readonly afterQuotaBitsPerSecond: number;
}

export interface VpsNetPolicy {
  readonly vpsId: string;
  /**
   * The VPS's port number on its host, unique per host (1..65000), assigned by the control
   * plane when the VPS is placed (like a switch port number). It names the VPS's tc class.
   */
  readonly slot: number;
  /** The bridge port (tap) name; tests pass veth ends. */
  readonly port: string;
  /** The guest's MAC (lower case, colon separated). */
  readonly mac: string;
  /** The VPS's fixed IPv4 (R3.2). */
  readonly ipv4: string;
  readonly bandwidth: Bandwidth;
  /** R3.13: over quota → bandwidth.afterQuotaBitsPerSecond both ways. */
  readonly throttled: boolean;
  /** R5.1, R6.4: no traffic in or out except the provider's management path. */
  readonly isolated: boolean;
  readonly blocks: readonly PortBlock[];
  readonly filteredPorts: readonly FilteredPorts[];
  readonly limits: RateLimits;
}

/** R3.11: default filtered ports (documented in docs/network.md). */
export const DEFAULT_FILTERED_PORTS: readonly FilteredPorts[] = Object.freeze([
  {
    direction: 'in',
    protocol: 'tcp',
    ports: [[135, 139], 445],
    reason: 'MS-RPC, NetBIOS and SMB: worm entry points, never meant for the Internet',
  },
  {
    direction: 'in',
    protocol: 'udp',
    ports: [[135, 139]],
    reason: 'MS-RPC and NetBIOS name/datagram services: worms, information leaks',
  },
  { direction: 'in', protocol: 'udp', ports: [1900], reason: 'SSDP: reflection/amplification attacks' },
  {
    direction: 'in',
    protocol: 'udp',
    ports: [11211],
    reason: 'memcached over UDP: amplification attacks (factor up to 50,000)',
  },
  { direction: 'in', protocol: 'udp', ports: [19], reason: 'chargen: reflection/amplification attacks' },
  {
    direction: 'out',
    protocol: 'tcp',
    ports: [[135, 139], 445],
    reason: 'worm propagation from a compromised VPS (SMB/NetBIOS scans)',
  },
  {
    direction: 'out',
    protocol: 'udp',
    ports: [[135, 139]],
    reason: 'worm propagation from a compromised VPS (NetBIOS)',
  },
] satisfies FilteredPorts[]);

/** R3.11: default per-VPS limits (provider settings override them). */
export const DEFAULT_RATE_LIMITS: RateLimits = Object.freeze({
  udpPacketsPerSecond: 20_000,
  icmpPacketsPerSecond: 200,
});

export function bandwidthFromTerms(terms: Terms): Bandwidth {
  return {
    guaranteedBitsPerSecond: terms.guaranteedBandwidthBitsPerSecond,
    afterQuotaBitsPerSecond: terms.bandwidthAfterQuotaBitsPerSecond,
  };
}

/** The rate a VPS's classes get now (R3.13). */
export function effectiveRate(p: Pick<VpsNetPolicy, 'bandwidth' | 'throttled'>): number {
  return p.throttled ? p.bandwidth.afterQuotaBitsPerSecond : p.bandwidth.guaranteedBitsPerSecond;
}

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const ifnamePattern = /^[A-Za-z0-9_.-]{1,15}$/;
const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

export function isIpv4Cidr(s: string): boolean {
  const [addr, len, ...rest] = s.split('/');
  if (rest.length || addr === undefined || !isIpv4(addr)) return false;
  return len === undefined || (/^[0-9]{1,2}$/.test(len) && Number(len) <= 32);
}

const isPort = (n: unknown): n is number =>
  Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;

function bad(field: string, message: string): never {
  throw invalidData('net.invalid_policy', message, { field });
}

export function validatePortSpecs(field: string, ports: readonly PortSpec[]): void {
  if (ports.length === 0) bad(field, `${field}: empty port list`);
  for (const p of ports) {
    if (typeof p === 'number') {
      if (!isPort(p)) bad(field, `${field}: ${p} is not a port`);
    } else if (!isPort(p[0]) || !isPort(p[1]) || p[0] > p[1])
      bad(field, `${field}: bad range ${p[0]}-${p[1]}`);
  }
}

/** Throws invalid_data on the first problem; returns the policy unchanged. */
export function validateVpsNetPolicy(p: VpsNetPolicy): VpsNetPolicy {
  if (!idPattern.test(p.vpsId)) bad('vpsId', `vpsId must match ${idPattern}`);
  if (!Number.isInteger(p.slot) || p.slot < 1 || p.slot > 65000)
    bad('slot', 'slot must be an integer in 1..65000');
  if (!ifnamePattern.test(p.port)) bad('port', 'port must be an interface name (1-15 chars)');
  if (!macPattern.test(p.mac)) bad('mac', 'mac must be lower-case xx:xx:xx:xx:xx:xx');
  if ((parseInt(p.mac.slice(0, 2), 16) & 1) !== 0) bad('mac', 'mac must be unicast');
  if (!isIpv4(p.ipv4)) bad('ipv4', 'ipv4 must be a dotted quad');
  for (const r of [p.bandwidth.guaranteedBitsPerSecond, p.bandwidth.afterQuotaBitsPerSecond]) {
    if (!Number.isInteger(r) || r < 8000)
      bad('bandwidth', 'rates are integer bits per second, at least 8000');
  }
  for (const r of [p.limits.udpPacketsPerSecond, p.limits.icmpPacketsPerSecond]) {
    if (!Number.isInteger(r) || r < 1) bad('limits', 'rate limits are positive integer packets per second');
  }
  const ids = new Set<string>();
  for (const b of p.blocks) {
    if (!idPattern.test(b.id)) bad('blocks', `block id must match ${idPattern}`);
    if (ids.has(b.id)) bad('blocks', `duplicate block id ${b.id}`);
    ids.add(b.id);
    if (b.port !== undefined) {
      if (b.protocol !== 'tcp' && b.protocol !== 'udp')
        bad('blocks', 'a port block needs protocol tcp or udp');
      if (!isPort(b.port)) bad('blocks', `${b.port} is not a port`);
    }
  }
  for (const f of p.filteredPorts) validatePortSpecs('filteredPorts', f.ports);
  return p;
}
