// The host-side network API (R6.3, R3.11, R3.13, R5.1) the agent and the control plane call. See docs/network.md.
export type { HostNetConfig } from './types.ts';
export { DEFAULT_TABLE } from './types.ts';
export { tapName, vpsMac } from './names.ts';
export {
  setupHost,
  ensureTap,
  attachPort,
  deleteTap,
  applyVpsPolicy,
  applyThrottle,
  removeVps,
  readDropCounters,
} from './host.ts';
export type { DropCounters, ApplyOptions } from './host.ts';
export { reconcileHost, reconcileNft, reconcileTc } from './reconcile.ts';
export type { ReconcileFix } from './reconcile.ts';
export { readLinkCounters, outboundReading } from './counters.ts';
export type { LinkCounters } from './counters.ts';
export { readSnmpMappings, readSnmpPorts } from './snmp.ts';
export type { SnmpPortMapping, SnmpTarget } from './snmp.ts';
