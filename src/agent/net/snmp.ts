// The second counting source (R3.13): real switch ports polled over SNMP (IF-MIB 64-bit
// counters ifHCInOctets / ifHCOutOctets, SNMPv2c). A VPS maps to one port (ifIndex) on one
// agent; which counter is the VPS's outbound depends on which side the switch port faces:
// a port facing the server *receives* what the VPS sends (ifHCInOctets, the default).
import snmp from 'net-snmp';
import type { Varbind } from 'net-snmp';
import type { SwitchTarget } from '../host-agent.ts';
import { switchPortReading, type CounterReading, type SwitchOutbound } from '../../domain/traffic.ts';

export const OID_IF_HC_IN_OCTETS = '1.3.6.1.2.1.31.1.1.1.6';
export const OID_IF_HC_OUT_OCTETS = '1.3.6.1.2.1.31.1.1.1.10';
/** ifCounterDiscontinuityTime: changes when the port's counters were reset. */
export const OID_IF_COUNTER_DISCONTINUITY = '1.3.6.1.2.1.31.1.1.1.19';

export type SnmpTarget = SwitchTarget;

export interface SnmpPortMapping {
  vpsId: string;
  target: SnmpTarget;
  ifIndex: number;
  /** The counter that holds what the VPS sends (default ifHCInOctets). */
  vpsOutbound?: SwitchOutbound;
}

export interface SnmpPortCounters {
  ifIndex: number;
  inOctets: bigint;
  outOctets: bigint;
  /** TimeTicks, 0 when the agent does not report it. */
  discontinuity: number;
}

/** A Counter64 arrives as a big-endian byte buffer of any length. */
export function counter64(value: unknown): bigint {
  if (typeof value === 'number') return BigInt(value);
  if (value instanceof Uint8Array) {
    let n = 0n;
    for (const b of value) n = (n << 8n) | BigInt(b);
    return n;
  }
  throw new TypeError(`not a Counter64: ${String(value)}`);
}

export class SnmpError extends Error {
  readonly target: string;
  constructor(target: string, message: string) {
    super(`SNMP ${target}: ${message}`);
    this.name = 'SnmpError';
    this.target = target;
  }
}

const MAX_OIDS_PER_GET = 30;

/** Reads the counters of the given ports on one agent (GETs of up to 30 OIDs each). */
export async function readSnmpPorts(
  target: SnmpTarget,
  ifIndexes: readonly number[],
): Promise<Map<number, SnmpPortCounters>> {
  const name = `${target.host}:${target.port ?? 161}`;
  const session = snmp.createSession(target.host, target.community, {
    port: target.port ?? 161,
    version: snmp.Version2c,
    timeout: target.timeoutMs ?? 2000,
    retries: target.retries ?? 1,
  });
  session.on('error', () => undefined);
  const get = (oids: string[]) =>
    new Promise<Varbind[]>((resolve, reject) =>
      session.get(oids, (err, vbs) => (err ? reject(new SnmpError(name, err.message)) : resolve(vbs))),
    );
  try {
    const out = new Map<number, SnmpPortCounters>();
    const perGet = Math.floor(MAX_OIDS_PER_GET / 3);
    for (let i = 0; i < ifIndexes.length; i += perGet) {
      const chunk = ifIndexes.slice(i, i + perGet);
      const oids = chunk.flatMap((ix) => [
        `${OID_IF_HC_IN_OCTETS}.${ix}`,
        `${OID_IF_HC_OUT_OCTETS}.${ix}`,
        `${OID_IF_COUNTER_DISCONTINUITY}.${ix}`,
      ]);
      const vbs = await get(oids);
      chunk.forEach((ix, k) => {
        const [vin, vout, vdisc] = [vbs[3 * k]!, vbs[3 * k + 1]!, vbs[3 * k + 2]!];
        if (snmp.isVarbindError(vin) || snmp.isVarbindError(vout)) return; // no such port: absent
        out.set(ix, {
          ifIndex: ix,
          inOctets: counter64(vin.value),
          outOctets: counter64(vout.value),
          discontinuity: snmp.isVarbindError(vdisc) ? 0 : Number(vdisc.value),
        });
      });
    }
    return out;
  } finally {
    session.close();
  }
}

/** The VPS's outbound reading from its switch port (epoch: port + counter discontinuity). */
export function snmpOutboundReading(m: SnmpPortMapping, c: SnmpPortCounters, at: Date): CounterReading {
  return switchPortReading(c, m.vpsOutbound, at.getTime()).outbound;
}

/** Polls every mapping, one session per agent. Ports the agent does not know are absent. */
export async function readSnmpMappings(
  mappings: readonly SnmpPortMapping[],
  at: Date = new Date(),
): Promise<Map<string, CounterReading>> {
  const byTarget = new Map<string, SnmpPortMapping[]>();
  for (const m of mappings) {
    const k = `${m.target.host}:${m.target.port ?? 161}:${m.target.community}`;
    byTarget.set(k, [...(byTarget.get(k) ?? []), m]);
  }
  const out = new Map<string, CounterReading>();
  for (const ms of byTarget.values()) {
    const counters = await readSnmpPorts(
      ms[0]!.target,
      ms.map((m) => m.ifIndex),
    );
    for (const m of ms) {
      const c = counters.get(m.ifIndex);
      if (c) out.set(m.vpsId, snmpOutboundReading(m, c, at));
    }
  }
  return out;
}
