// IPv4 prefixes and addresses as numbers: parsing, containment, overlap (R3.2 pools).
import { invalidData } from './errors.ts';

export interface Prefix {
  network: number;
  length: number;
}

export function parseIpv4(s: string, field = 'address'): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) throw invalidData(`validation.${field}`, `"${s}" is not an IPv4 address`, { field });
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255))
    throw invalidData(`validation.${field}`, `"${s}" is not an IPv4 address`, { field });
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function formatIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parsePrefix(s: string, field = 'cidr'): Prefix {
  const [addr, len] = s.trim().split('/');
  const length = Number(len);
  if (addr === undefined || len === undefined || !Number.isInteger(length) || length < 8 || length > 30)
    throw invalidData(`validation.${field}`, `"${s}" is not an IPv4 prefix between /8 and /30`, { field });
  const n = parseIpv4(addr, field);
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  if ((n & mask) >>> 0 !== n)
    throw invalidData(
      `validation.${field}`,
      `"${s}" has host bits set (the network is ${formatIpv4((n & mask) >>> 0)}/${length})`,
      { field },
    );
  return { network: n, length };
}

export const formatPrefix = (p: Prefix) => `${formatIpv4(p.network)}/${p.length}`;
export const prefixSize = (p: Prefix) => 2 ** (32 - p.length);
export const contains = (p: Prefix, addr: number) => addr >= p.network && addr < p.network + prefixSize(p);
export const overlaps = (a: Prefix, b: Prefix) =>
  a.network < b.network + prefixSize(b) && b.network < a.network + prefixSize(a);

/** Addresses a pool can give to VPSs: all but the network, broadcast and gateway addresses. */
export function usableAddresses(p: Prefix, gateway: number): number {
  return prefixSize(p) - 2 - (contains(p, gateway) ? 1 : 0);
}

/** The addresses of a pool in order, skipping network, broadcast and gateway. */
export function* hostAddresses(p: Prefix, gateway: number): Generator<number> {
  const last = p.network + prefixSize(p) - 1;
  for (let a = p.network + 1; a < last; a++) if (a !== gateway) yield a;
}
