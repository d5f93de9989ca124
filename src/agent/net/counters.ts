// Counting at the switch port (R3.13): a VPS's outbound bytes are its bridge port's receive
// counters (the tap's rx_bytes, 64-bit). One `ip -s -j link show` call reads every port of the
// host (or of a namespace); byte and packet counts are parsed as BigInt from the JSON text so
// no 64-bit value loses precision.
import { run } from '../exec/run.ts';
import type { HostNetConfig } from './types.ts';
import type { CounterReading } from '../../domain/traffic.ts';

export interface LinkCounters {
  name: string;
  ifindex: number;
  rxBytes: bigint;
  rxPackets: bigint;
  txBytes: bigint;
  txPackets: bigint;
}

interface IpLink {
  ifindex: number;
  ifname: string;
  stats64?: { rx: { bytes: bigint; packets: bigint }; tx: { bytes: bigint; packets: bigint } };
}

/** JSON.parse that keeps byte/packet counts exact (Node ≥ 21: the reviver sees the source). */
export function parseIpLinkJson(text: string): IpLink[] {
  const reviver = (key: string, value: unknown, ctx?: { source?: string }) =>
    (key === 'bytes' || key === 'packets') && typeof value === 'number' && ctx?.source !== undefined
      ? BigInt(ctx.source)
      : value;
  return JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown) as IpLink[];
}

/**
 * Counters of the given interfaces (all when `names` is omitted), in one call. Interfaces
 * that do not exist are simply absent from the result.
 */
export async function readLinkCounters(
  host: Pick<HostNetConfig, 'netns'>,
  names?: readonly string[],
): Promise<Map<string, LinkCounters>> {
  const ip = host.netns ? ['ip', '-n', host.netns] : ['ip'];
  const argv =
    names && names.length === 1
      ? [...ip, '-s', '-j', 'link', 'show', 'dev', names[0]!]
      : [...ip, '-s', '-j', 'link', 'show'];
  const r = await run(argv, { okCodes: [0, 1] });
  const out = new Map<string, LinkCounters>();
  if (r.exitCode !== 0) return out;
  const want = names ? new Set(names) : null;
  for (const l of parseIpLinkJson(r.stdout)) {
    if (want && !want.has(l.ifname)) continue;
    if (!l.stats64) continue;
    out.set(l.ifname, {
      name: l.ifname,
      ifindex: l.ifindex,
      rxBytes: l.stats64.rx.bytes,
      rxPackets: l.stats64.rx.packets,
      txBytes: l.stats64.tx.bytes,
      txPackets: l.stats64.tx.packets,
    });
  }
  return out;
}

/**
 * The VPS's outbound reading from its port's counters: rx side (what the port received from
 * the VPS), epoch = ifindex (a recreated tap gets a new one).
 */
export function outboundReading(c: LinkCounters, at: Date): CounterReading {
  return { at: at.getTime(), epoch: String(c.ifindex), bytes: c.rxBytes };
}
