// Deterministic names for a VPS's host-side network objects: a reconcile finds them again from the VPS's id alone.
import { createHash } from 'node:crypto';

export const TAP_PREFIX = 'igt';

function digest(vpsId: string): Buffer {
  return createHash('sha256').update(`infogere-net:${vpsId}`).digest();
}

/** `igt` + 12 hex chars = 15 chars, the kernel's limit (IFNAMSIZ - 1). */
export function tapName(vpsId: string): string {
  return TAP_PREFIX + digest(vpsId).subarray(0, 6).toString('hex');
}

/**
 * A stable guest MAC: first octet 0x02 (locally administered, unicast), then 40 bits of the
 * hash (collision odds on one bridge of 1,000 VPSs: about 5e-7).
 */
export function vpsMac(vpsId: string): string {
  const h = digest(vpsId);
  const bytes = [0x02, ...h.subarray(6, 11)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export const chainOut = (vpsId: string) => `vps_${vpsId}_out`;
export const chainIn = (vpsId: string) => `vps_${vpsId}_in`;

export const counterKinds = ['spoof', 'filtered', 'ratelimit', 'blocked', 'isolated'] as const;
export type CounterKind = (typeof counterKinds)[number];
export const counterName = (vpsId: string, kind: CounterKind) => `vps_${vpsId}_${kind}`;

/** Parses `vps_<id>_out|in` back to the VPS id. */
export function parseVpsChain(name: string): { vpsId: string; dir: 'out' | 'in' } | null {
  const m = /^vps_(.+)_(out|in)$/.exec(name);
  return m ? { vpsId: m[1]!, dir: m[2] as 'out' | 'in' } : null;
}

export function parseVpsCounter(name: string): { vpsId: string; kind: CounterKind } | null {
  const m = /^vps_(.+)_(spoof|filtered|ratelimit|blocked|isolated)$/.exec(name);
  return m ? { vpsId: m[1]!, kind: m[2] as CounterKind } : null;
}

/**
 * The HTB class minor (hex) of a VPS slot on the uplink, also the value nft writes to
 * skb->priority: slot + 0x10 (minors 1..f are the host's own classes, fffe the default).
 */
export const SLOT_MINOR_OFFSET = 0x10;
export const slotMinor = (slot: number) => (slot + SLOT_MINOR_OFFSET).toString(16);
