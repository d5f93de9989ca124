// tc rendered as argv arrays by pure functions (R3.13, R3.11). Golden-tested in
// test/golden/tc/.
//
// Outbound (what a VPS sends): shaped, not policed, on the uplink port's egress:
//   qdisc 1: htb (default 1:fffe)
//     class 1:1      the host class, rate = ceil = uplink capacity
//       class 1:<slot+0x10> one per VPS, rate = ceil = the VPS's rate (guaranteed, or after-quota)
//       class 1:fffe   unclassified traffic (the host's own), rate = 1% of the uplink, may borrow
//   nftables puts each frame of a VPS in its class (meta priority set 1:<slot+0x10>).
// Inbound (what a VPS receives): shaped on its tap's egress: qdisc 1: htb default 1, class 1:1.
// Throttling (R3.13) is `tc class change` of those two classes only: no qdisc is deleted, the
// queue and the VPS's connections survive.
// HTB cannot `qdisc replace` itself in place, so the executor skips a root-qdisc step when the
// device already has `htb 1:` (see isRootHtbStep).
import type { VpsNetPolicy } from '../../domain/net-policy.ts';
import { effectiveRate } from '../../domain/net-policy.ts';
import { slotMinor } from './names.ts';
import type { HostNetConfig } from './types.ts';

export type Argv = string[];

export const DEFAULT_CLASS_MINOR = 'fffe';

/** The tc program prefix, inside the host's namespace when it has one. */
export function tcBase(host: Pick<HostNetConfig, 'netns'>): Argv {
  return host.netns ? ['tc', '-n', host.netns] : ['tc'];
}

/** Burst and cburst: 5 ms at the rate, never under two full frames. */
export function burstBytes(bitsPerSecond: number): number {
  return Math.max(3028, Math.ceil((bitsPerSecond / 8) * 0.005));
}

function htbParams(rate: number, ceil: number = rate): Argv {
  return [
    'htb',
    'rate',
    `${rate}bit`,
    'ceil',
    `${ceil}bit`,
    'burst',
    `${burstBytes(rate)}b`,
    'cburst',
    `${burstBytes(ceil)}b`,
    'quantum',
    '1514',
  ];
}

/** A `qdisc replace … root handle 1: htb` step: its device, or null for other steps. */
export function isRootHtbStep(argv: Argv): string | null {
  const i = argv.indexOf('qdisc');
  if (i < 0 || argv[i + 1] !== 'replace' || argv[i + 2] !== 'dev') return null;
  return argv[i + 4] === 'root' && argv.includes('htb') ? (argv[i + 3] ?? null) : null;
}

/** The uplink's root HTB, host class and default class. Idempotent (replace). */
export function renderUplinkTc(host: HostNetConfig): Argv[] {
  if (!host.uplink) return [];
  const tc = tcBase(host);
  const u = host.uplinkBitsPerSecond;
  const dflt = Math.max(8000, Math.floor(u / 100));
  return [
    [
      ...tc,
      'qdisc',
      'replace',
      'dev',
      host.uplink,
      'root',
      'handle',
      '1:',
      'htb',
      'default',
      DEFAULT_CLASS_MINOR,
    ],
    [...tc, 'class', 'replace', 'dev', host.uplink, 'parent', '1:', 'classid', '1:1', ...htbParams(u)],
    [
      ...tc,
      'class',
      'replace',
      'dev',
      host.uplink,
      'parent',
      '1:1',
      'classid',
      `1:${DEFAULT_CLASS_MINOR}`,
      ...htbParams(dflt, u),
    ],
  ];
}

function vpsClassArgv(host: HostNetConfig, p: VpsNetPolicy, verb: 'replace' | 'change'): Argv[] {
  const tc = tcBase(host);
  const rate = effectiveRate(p);
  const out: Argv[] = [];
  if (host.uplink) {
    out.push([
      ...tc,
      'class',
      verb,
      'dev',
      host.uplink,
      'parent',
      '1:1',
      'classid',
      `1:${slotMinor(p.slot)}`,
      ...htbParams(rate),
    ]);
  }
  out.push([...tc, 'class', verb, 'dev', p.port, 'parent', '1:', 'classid', '1:1', ...htbParams(rate)]);
  return out;
}

/** One VPS's shaping: its class on the uplink, its tap's root HTB and class. Idempotent. */
export function renderVpsTc(host: HostNetConfig, p: VpsNetPolicy): Argv[] {
  const tc = tcBase(host);
  const [uplinkClass, tapClass] = host.uplink
    ? vpsClassArgv(host, p, 'replace')
    : [undefined, ...vpsClassArgv(host, p, 'replace')];
  return [
    ...(uplinkClass ? [uplinkClass] : []),
    [...tc, 'qdisc', 'replace', 'dev', p.port, 'root', 'handle', '1:', 'htb', 'default', '1'],
    tapClass!,
  ];
}

/** R3.13: switch a VPS's classes to its current rate (throttled or not), in place. */
export function renderThrottleTc(host: HostNetConfig, p: VpsNetPolicy): Argv[] {
  return vpsClassArgv(host, p, 'change');
}

/** Removes the VPS's class on the uplink (its tap's qdisc goes with the tap). */
export function renderVpsTcRemoval(host: HostNetConfig, slot: number): Argv[] {
  if (!host.uplink) return [];
  return [[...tcBase(host), 'class', 'del', 'dev', host.uplink, 'classid', `1:${slotMinor(slot)}`]];
}
