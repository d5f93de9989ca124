// The network policy a VPS should have, from its record and its network blocks in force (R3.11,
// R3.13, R5.1, R6.3, R6.4): the one object the host applies as a whole.
import {
  bandwidthFromTerms,
  DEFAULT_FILTERED_PORTS,
  DEFAULT_RATE_LIMITS,
  type PortBlock,
  type VpsNetPolicy,
} from '../../domain/net-policy.ts';
import { CURRENT_TERMS } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import { blocksInForce } from '../repositories/traffic-quota.ts';
import type { VpsRow } from '../repositories/vps.ts';

export async function policyFor(db: Db, vps: VpsRow, port: string): Promise<VpsNetPolicy> {
  if (!vps.ipv4 || !vps.mac || vps.net_slot === null)
    throw new Error(`VPS ${vps.id} has no address, MAC or slot yet`);
  const inForce = await blocksInForce(db, vps.id);
  const blocks: PortBlock[] = inForce
    .filter((m) => m.kind === 'block')
    .map((m) => ({
      id: m.id,
      direction: m.direction as PortBlock['direction'],
      protocol: (m.protocol === 'all' ? 'any' : m.protocol) as PortBlock['protocol'],
      ...(m.port !== null ? { port: m.port } : {}),
      reason: m.reason,
    }));
  return {
    vpsId: vps.id,
    slot: vps.net_slot,
    port,
    mac: vps.mac,
    ipv4: vps.ipv4.split('/')[0]!,
    bandwidth: bandwidthFromTerms(CURRENT_TERMS),
    throttled: inForce.some((m) => m.kind === 'throttle'),
    isolated: inForce.some((m) => m.kind === 'isolate'),
    blocks,
    filteredPorts: DEFAULT_FILTERED_PORTS,
    limits: DEFAULT_RATE_LIMITS,
  };
}
