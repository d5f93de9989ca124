// DDoS detection and mitigation rules (R9.1, R9.3, R9.4, R9.5, R9.6), pure. See docs/ddos.md.
// Input: per-second counter readings of what arrives for each VPS address, taken BEFORE any
// drop (the host's counting chain runs first), so an attack's end stays visible while it is
// being mitigated. Output: is it an attack (short moving average against thresholds that are
// data), its signature, whether the infrastructure is threatened (tier 2), and when a
// mitigation may end.
import { conflict, invalidData } from './errors.ts';

/** What the host counts per destination address, cumulative (packets; bytes for `all`). */
export const ddosKinds = ['all', 'tcp', 'syn', 'udp', 'icmp', 'frag', 'amp'] as const;
export type DdosKind = (typeof ddosKinds)[number];

export interface DdosCounters {
  /** Cumulative packets per kind (`all` also counts bytes). */
  readonly packets: Readonly<Record<DdosKind, number>>;
  readonly bytes: number;
}

/** One second's rates for one address. */
export interface DdosRates {
  readonly packets: Readonly<Record<DdosKind, number>>;
  readonly bitsPerSecond: number;
}

/**
 * Thresholds per plan, as data (R9.1). Rates are averaged over `averageSeconds`. Established
 * TCP (no SYN) counts only against `packetsPerSecond`, set far above what a VPS's own
 * bandwidth can carry, so a speed test or a big download is never an attack.
 */
export interface DdosThresholds {
  readonly averageSeconds: number;
  /** All packets to the address (any protocol). */
  readonly packetsPerSecond: number;
  /** Bits/s of traffic other than TCP (UDP, ICMP, fragments…). */
  readonly nonTcpBitsPerSecond: number;
  readonly udpPacketsPerSecond: number;
  /** UDP from well-known amplification source ports (DNS, NTP, SSDP, memcached…). */
  readonly amplificationPacketsPerSecond: number;
  /** New TCP connections (SYN without ACK) per second. */
  readonly synPerSecond: number;
  /** SYN share of TCP packets that, with at least a tenth of synPerSecond, is a SYN flood. */
  readonly synRatio: number;
  readonly icmpPacketsPerSecond: number;
  readonly fragmentsPerSecond: number;
}

/**
 * Defaults (docs/ddos.md). Compared with FastNetMon's 20,000 pps / 1,000 Mbit/s over 5 s, ours
 * average 3 s and look per protocol: a VPS's inbound is shaped to its plan's 100 Mbit/s
 * (~8,300 full-size packets/s), so 100,000 pps is only reached by a flood, and a TCP download
 * (no SYN) triggers nothing but that.
 */
export const DEFAULT_DDOS_THRESHOLDS: DdosThresholds = Object.freeze({
  averageSeconds: 3,
  packetsPerSecond: 100_000,
  nonTcpBitsPerSecond: 500_000_000,
  udpPacketsPerSecond: 30_000,
  amplificationPacketsPerSecond: 2_000,
  synPerSecond: 3_000,
  synRatio: 0.5,
  icmpPacketsPerSecond: 5_000,
  fragmentsPerSecond: 2_000,
});

const RANGES: Record<keyof DdosThresholds, readonly [number, number]> = {
  averageSeconds: [1, 60],
  packetsPerSecond: [1_000, 100_000_000],
  nonTcpBitsPerSecond: [1_000_000, 1_000_000_000_000],
  udpPacketsPerSecond: [100, 100_000_000],
  amplificationPacketsPerSecond: [10, 100_000_000],
  synPerSecond: [10, 100_000_000],
  synRatio: [0.05, 1],
  icmpPacketsPerSecond: [10, 100_000_000],
  fragmentsPerSecond: [10, 100_000_000],
};

/** A threshold out of range is refused with the field and its range (R9.1, bad input). */
export function validateDdosThresholds(t: DdosThresholds): DdosThresholds {
  for (const [k, [min, max]] of Object.entries(RANGES) as [keyof DdosThresholds, [number, number]][]) {
    const v = t[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      throw invalidData('ddos.threshold_out_of_range', `${k} must be between ${min} and ${max}`, {
        field: k,
        min,
        max,
        value: v,
      });
  }
  return t;
}

/** UDP source ports of common reflection/amplification services (the host-wide named set). */
export const AMPLIFICATION_PORTS: readonly number[] = Object.freeze([
  17, 19, 53, 69, 111, 123, 137, 161, 389, 1900, 3283, 3702, 5353, 11211,
]);

/**
 * Rates between two readings; a counter that went backwards (the set element expired and
 * started again) counts from 0. Null when time did not move forward.
 */
export function ratesBetween(
  prev: DdosCounters | null,
  cur: DdosCounters,
  seconds: number,
): DdosRates | null {
  if (!(seconds > 0)) return null;
  const d = (a: number, b: number | undefined) => (b === undefined || a < b ? a : a - b);
  const packets = Object.fromEntries(
    ddosKinds.map((k) => [k, d(cur.packets[k], prev?.packets[k]) / seconds]),
  ) as Record<DdosKind, number>;
  return { packets, bitsPerSecond: (d(cur.bytes, prev?.bytes) * 8) / seconds };
}

/** The moving average of the last `n` seconds' rates (fewer at the start). */
export function averageRates(window: readonly DdosRates[], n: number): DdosRates | null {
  const w = window.slice(-n);
  if (w.length === 0) return null;
  const packets = Object.fromEntries(
    ddosKinds.map((k) => [k, w.reduce((s, r) => s + r.packets[k], 0) / w.length]),
  ) as Record<DdosKind, number>;
  return { packets, bitsPerSecond: w.reduce((s, r) => s + r.bitsPerSecond, 0) / w.length };
}

export const attackTypes = [
  'udp_amplification',
  'udp_flood',
  'syn_flood',
  'icmp_flood',
  'fragment_flood',
  'volumetric',
] as const;
export type AttackType = (typeof attackTypes)[number];

/** What is recorded with an attack (R9.1): what matched, how big. */
export interface AttackSignature {
  readonly types: readonly AttackType[];
  readonly packetsPerSecond: number;
  readonly bitsPerSecond: number;
  /** Per-kind packets/s at detection. */
  readonly rates: Readonly<Record<DdosKind, number>>;
  /** Top sources, when the host sampled them (during mitigation). */
  readonly topSources?: readonly { address: string; packets: number }[];
}

/** The attack types an averaged rate shows (empty: not an attack). */
export function classify(avg: DdosRates, t: DdosThresholds): AttackType[] {
  const p = avg.packets;
  const types: AttackType[] = [];
  if (p.amp >= t.amplificationPacketsPerSecond) types.push('udp_amplification');
  if (p.udp >= t.udpPacketsPerSecond) types.push('udp_flood');
  if (p.syn >= t.synPerSecond || (p.syn >= t.synPerSecond / 10 && p.tcp > 0 && p.syn / p.tcp >= t.synRatio))
    types.push('syn_flood');
  if (p.icmp >= t.icmpPacketsPerSecond) types.push('icmp_flood');
  if (p.frag >= t.fragmentsPerSecond) types.push('fragment_flood');
  // Bits of non-TCP traffic: the TCP share is estimated from packets (no per-kind bytes).
  const nonTcpShare = p.all > 0 ? Math.max(0, p.all - p.tcp) / p.all : 0;
  if (p.all >= t.packetsPerSecond || avg.bitsPerSecond * nonTcpShare >= t.nonTcpBitsPerSecond)
    types.push('volumetric');
  return types;
}

/** Detection over a window of per-second rates: the signature when it is an attack. */
export function detect(window: readonly DdosRates[], t: DdosThresholds): AttackSignature | null {
  const avg = averageRates(window, t.averageSeconds);
  if (!avg) return null;
  const types = classify(avg, t);
  if (types.length === 0) return null;
  return {
    types,
    packetsPerSecond: Math.round(avg.packets.all),
    bitsPerSecond: Math.round(avg.bitsPerSecond),
    rates: Object.fromEntries(ddosKinds.map((k) => [k, Math.round(avg.packets[k])])) as Record<
      DdosKind,
      number
    >,
  };
}

// ---- duration (R9.3, R9.4) ----

/** R9.3: a mitigation lasts at least 26 h from its start. */
export const MINIMUM_MITIGATION_MS = 26 * 3_600_000;
/** And it ends only after this long without an attack second (an attack still going on keeps it). */
export const QUIET_PERIOD_MS = 30 * 60_000;

export interface MitigationTimes {
  readonly startedAt: Date;
  /** The last second the attack was seen (counters are read before the drops, R9.1). */
  readonly lastAttackAt: Date;
}

/** The earliest end: max(start + 26 h, last attack second + quiet period). */
export function mitigationEnd(m: MitigationTimes): Date {
  return new Date(
    Math.max(m.startedAt.getTime() + MINIMUM_MITIGATION_MS, m.lastAttackAt.getTime() + QUIET_PERIOD_MS),
  );
}

export function mitigationMayEnd(m: MitigationTimes, now: Date): boolean {
  return now.getTime() >= mitigationEnd(m).getTime();
}

/**
 * R9.4: nobody (API, console, staff of any role) ends an automatic mitigation before its end
 * date: 409 naming it.
 */
export function assertMayEnd(m: MitigationTimes & { storedEnd?: Date }, now: Date): void {
  const end = Math.max(mitigationEnd(m).getTime(), m.storedEnd?.getTime() ?? 0);
  if (now.getTime() >= end) return;
  const endsAt = new Date(end).toISOString();
  throw conflict(
    'ddos.mitigation_minimum',
    `an automatic mitigation cannot be ended before ${endsAt} (26 h minimum, R9.4)`,
    { endsAt },
  );
}

// ---- tier 2 (R9.6) ----

export interface InfrastructureThresholds {
  /** Share of the host's uplink capacity that one attack's traffic reaches. */
  readonly uplinkShare: number;
  /** Number of the host's addresses under attack at once. */
  readonly addressesUnderAttack: number;
  /** How long tier 2 holds after the threat falls below the thresholds (no flapping). */
  readonly holdMs: number;
}

export const DEFAULT_INFRASTRUCTURE_THRESHOLDS: InfrastructureThresholds = Object.freeze({
  uplinkShare: 0.5,
  addressesUnderAttack: 5,
  holdMs: 10 * 60_000,
});

export interface HostThreat {
  /** Bits/s arriving for the address (averaged), before any drop. */
  readonly attackBitsPerSecond: number;
  readonly uplinkBitsPerSecond: number;
  /** The host's addresses currently detected as attacked. */
  readonly addressesUnderAttack: number;
}

/** R9.6: does this attack threaten the infrastructure or other clients? */
export function threatensInfrastructure(h: HostThreat, t: InfrastructureThresholds): boolean {
  return (
    h.attackBitsPerSecond >= h.uplinkBitsPerSecond * t.uplinkShare ||
    h.addressesUnderAttack >= t.addressesUnderAttack
  );
}

/** Tier 2 stays while threatened and `holdMs` after the last threatened second. */
export function tier2Holds(lastThreatAt: Date | null, now: Date, t: InfrastructureThresholds): boolean {
  return lastThreatAt !== null && now.getTime() - lastThreatAt.getTime() < t.holdMs;
}

// ---- the per-second detector (state kept by its owner; no timers here) ----

export interface AddressState {
  readonly rates: DdosRates;
  /** The averaged rates' signature when they are an attack, else null. */
  readonly attack: AttackSignature | null;
}

/**
 * Feeds cumulative readings of every address, one call per sampling; keeps the last reading
 * and a short window of rates per address. Addresses absent from a reading are forgotten.
 */
export class DdosDetector {
  private readonly last = new Map<string, { at: number; c: DdosCounters }>();
  private readonly windows = new Map<string, DdosRates[]>();
  private thresholds: DdosThresholds;
  constructor(thresholds: DdosThresholds = DEFAULT_DDOS_THRESHOLDS) {
    this.thresholds = validateDdosThresholds(thresholds);
  }

  feed(at: Date, readings: ReadonlyMap<string, DdosCounters>): Map<string, AddressState> {
    const out = new Map<string, AddressState>();
    const t = at.getTime();
    for (const addr of [...this.last.keys()])
      if (!readings.has(addr)) {
        this.last.delete(addr);
        this.windows.delete(addr);
      }
    for (const [addr, c] of readings) {
      const prev = this.last.get(addr);
      this.last.set(addr, { at: t, c });
      // a first reading gives no rate: the counter may be older than this detector
      if (!prev) continue;
      const r = ratesBetween(prev.c, c, (t - prev.at) / 1000);
      if (!r) continue;
      // after a gap (the sampler stopped), older seconds no longer describe the present
      const stale = t - prev.at > this.thresholds.averageSeconds * 2_000;
      const w = stale ? [] : (this.windows.get(addr) ?? []);
      w.push(r);
      while (w.length > this.thresholds.averageSeconds) w.shift();
      this.windows.set(addr, w);
      out.set(addr, { rates: r, attack: detect(w, this.thresholds) });
    }
    return out;
  }
}
