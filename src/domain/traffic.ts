// Counting at the switch port (R3.13): successive 64-bit counter readings → deltas.
// Pure: the agent reads counters (tap rx_bytes, or SNMP ifHCInOctets), this module decides
// what is counted. Rules (docs/network.md, "Counting"):
// - first reading of a port: `firstReading: 'count'` counts the whole value (a tap is created
//   for its VPS and starts at 0), `'baseline'` counts nothing (a switch port's history is not
//   the VPS's);
// - a reset (the counter's epoch changed: tap recreated → new ifindex; or the counter went
//   backwards): the new counter started from zero at the reset, so the delta is the new value.
//   Bytes between the last reading and the reset are not known and never invented (the agent
//   reads a tap one last time before deleting it, so recreating a tap loses nothing);
// - an impossible rate (delta over the interval above the port's line rate × 1.1), or bytes
//   appearing while time did not move forward: flagged and NOT counted (the raw delta is kept
//   for review) — a glitch must never throttle or bill a client.

export interface CounterReading {
  /** Milliseconds since the epoch (UTC). */
  readonly at: number;
  /** Identity of the counter instance: the tap's ifindex, the SNMP port's discontinuity... */
  readonly epoch: string;
  readonly bytes: bigint;
}

/** Which of a switch port's counters holds what the VPS sends (R3.13): the side the port faces. */
export type SwitchOutbound = 'ifHCInOctets' | 'ifHCOutOctets';

/**
 * A switch port's reading as the VPS's outbound and inbound bytes: a port facing the server
 * receives what the VPS sends (ifHCInOctets, the default). The counter's epoch is the port and
 * its discontinuity time, so a counter reset starts a new epoch.
 */
export function switchPortReading(
  c: { ifIndex: number; inOctets: bigint; outOctets: bigint; discontinuity: number },
  vpsOutbound: SwitchOutbound | undefined,
  at: number,
): { outbound: CounterReading; inBytes: bigint } {
  const facesServer = (vpsOutbound ?? 'ifHCInOctets') === 'ifHCInOctets';
  return {
    outbound: { at, epoch: `${c.ifIndex}:${c.discontinuity}`, bytes: facesServer ? c.inOctets : c.outOctets },
    inBytes: facesServer ? c.outOctets : c.inOctets,
  };
}

export type SampleKind = 'first' | 'normal' | 'reset_epoch' | 'reset_backwards';
export type SampleFlag = 'impossible_rate' | 'time_backwards';

export interface TrafficSample {
  readonly kind: SampleKind;
  /** Start of the interval (the previous reading's time), null for a first reading. */
  readonly from: number | null;
  readonly to: number;
  /** What the counters say happened. */
  readonly rawDelta: bigint;
  /** What is added to the VPS's traffic (0 when flagged). */
  readonly counted: bigint;
  readonly flag: SampleFlag | null;
}

export interface DeltaOptions {
  /** The port's line rate, bits per second. */
  readonly lineRateBitsPerSecond: number;
  readonly firstReading: 'count' | 'baseline';
  /** Allowed excess over the line rate, as a ratio in thousandths (default 1100 = ×1.1). */
  readonly toleranceMilli?: number;
}

export function trafficDelta(
  prev: CounterReading | null,
  cur: CounterReading,
  opts: DeltaOptions,
): TrafficSample {
  if (cur.bytes < 0n) throw new RangeError('counter reading below zero');
  if (!prev) {
    const raw = opts.firstReading === 'count' ? cur.bytes : 0n;
    return { kind: 'first', from: null, to: cur.at, rawDelta: raw, counted: raw, flag: null };
  }
  let kind: SampleKind;
  let raw: bigint;
  if (cur.epoch !== prev.epoch) {
    kind = 'reset_epoch';
    raw = cur.bytes;
  } else if (cur.bytes < prev.bytes) {
    kind = 'reset_backwards';
    raw = cur.bytes;
  } else {
    kind = 'normal';
    raw = cur.bytes - prev.bytes;
  }
  const intervalMs = cur.at - prev.at;
  let flag: SampleFlag | null = null;
  if (intervalMs <= 0) {
    if (raw > 0n) flag = 'time_backwards';
  } else if (isImpossibleRate(raw, intervalMs, opts)) {
    flag = 'impossible_rate';
  }
  return { kind, from: prev.at, to: cur.at, rawDelta: raw, counted: flag ? 0n : raw, flag };
}

/** delta × 8 / interval > lineRate × tolerance, in integers. */
export function isImpossibleRate(bytes: bigint, intervalMs: number, opts: DeltaOptions): boolean {
  const tol = BigInt(opts.toleranceMilli ?? 1100);
  // bytes*8 bits over intervalMs/1000 s  vs  lineRate*tol/1000
  return (
    bytes * 8n * 1000n * 1000n >
    BigInt(Math.round(opts.lineRateBitsPerSecond)) * tol * BigInt(Math.round(intervalMs))
  );
}

/** Per-port accumulation: the new state is always the latest reading. */
export function advance(
  prev: CounterReading | null,
  cur: CounterReading,
  opts: DeltaOptions,
): { state: CounterReading; sample: TrafficSample } {
  return { state: cur, sample: trafficDelta(prev, cur, opts) };
}

export function sumCounted(samples: readonly TrafficSample[]): bigint {
  let s = 0n;
  for (const x of samples) s += x.counted;
  return s;
}

/**
 * Bytes on the wire for a payload sent as `packets` packets, as the Linux port counters see
 * them (rx_bytes: Ethernet header 14 bytes, no preamble, no FCS) — see docs/network.md.
 */
export const ETHERNET_HEADER_BYTES = 14;
export const IPV4_HEADER_BYTES = 20;
export const UDP_HEADER_BYTES = 8;
export const TCP_HEADER_BYTES = 20;

export function udpWireBytes(payloadBytes: readonly number[]): bigint {
  let s = 0n;
  for (const p of payloadBytes) {
    // software ports (tap, veth) do not pad short frames to 60 bytes; a physical NIC would
    s += BigInt(ETHERNET_HEADER_BYTES + IPV4_HEADER_BYTES + UDP_HEADER_BYTES + p);
  }
  return s;
}
