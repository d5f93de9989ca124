// Test doubles for the traffic and network-block tests: a HostNetwork whose port counters the test
// sets (and which records what the control plane asked of it), and a VPS placed on a host
// with an address, MAC and slot (what provisioning leaves), without any real VM.
import type {
  DdosMitigation,
  DdosReading,
  HostNetwork,
  PortCounters,
  SmtpHostStats,
} from '../../src/agent/host-agent.ts';
import { tapName, vpsMac } from '../../src/agent/net/names.ts';
import type { VpsNetPolicy } from '../../src/domain/net-policy.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import type { TestApp } from './app.ts';

export interface FakeNetwork extends HostNetwork {
  /** Port name → counters the next read returns. */
  ports: Map<string, { ifindex: number; rx: bigint; tx: bigint }>;
  applied: VpsNetPolicy[];
  throttles: VpsNetPolicy[];
  reconciled: VpsNetPolicy[][];
  /** VPS ids whose network was removed, in order. */
  removed: string[];
  /** Set to make every call fail (an unreachable host). */
  down: boolean;
  /** What the next readSmtpStats returns (R7.1); content is drained by the read. */
  smtp: SmtpHostStats;
  /** R9.1: what readDdos returns (the test moves the counters). */
  ddos: DdosReading;
  /** Each applyMitigations call: the active VPS ids, the ended ones, reconcile or not. */
  mitigationCalls: { active: DdosMitigation[]; ended: string[]; reconcile: boolean }[];
  set(vpsId: string, c: { ifindex?: number; rx: bigint; tx?: bigint }): void;
}

export function fakeNetwork(): FakeNetwork {
  const out = (port: string, c: { ifindex: number; rx: bigint; tx: bigint }): PortCounters => ({
    port,
    ifindex: c.ifindex,
    rxBytes: c.rx.toString(),
    txBytes: c.tx.toString(),
  });
  const n: FakeNetwork = {
    ports: new Map(),
    applied: [],
    throttles: [],
    reconciled: [],
    removed: [],
    down: false,
    smtp: { flows: {}, content: {} },
    ddos: { addresses: {}, mitigations: {} },
    mitigationCalls: [],
    set(vpsId, c) {
      const port = tapName(vpsId);
      const prev = n.ports.get(port);
      n.ports.set(port, { ifindex: c.ifindex ?? prev?.ifindex ?? 7, rx: c.rx, tx: c.tx ?? prev?.tx ?? 0n });
    },
    async setup() {},
    portName: tapName,
    async ensurePort(vpsId) {
      return { port: tapName(vpsId), mac: vpsMac(vpsId) };
    },
    async applyPolicy(p) {
      if (n.down) throw new Error('host down');
      n.applied.push(p);
    },
    async setThrottle(p) {
      if (n.down) throw new Error('host down');
      n.throttles.push(p);
    },
    async removeVps(v) {
      n.removed.push(v.vpsId);
      const c = n.ports.get(v.port);
      n.ports.delete(v.port);
      return { last: c ? out(v.port, c) : null };
    },
    async readPortCounters(ports) {
      if (n.down) throw new Error('host down');
      return [...n.ports].filter(([p]) => !ports || ports.includes(p)).map(([p, c]) => out(p, c));
    },
    async readDrops() {
      return {};
    },
    async readSmtpStats() {
      if (n.down) throw new Error('host down');
      const out = structuredClone(n.smtp);
      n.smtp.content = {};
      return out;
    },
    async reconcile(policies) {
      n.reconciled.push(policies);
      return [];
    },
    async readDdos() {
      if (n.down) throw new Error('host down');
      return structuredClone(n.ddos);
    },
    async applyMitigations(active, ended, opts = {}) {
      if (n.down) throw new Error('host down');
      n.mitigationCalls.push({ active, ended, reconcile: opts.reconcile === true });
    },
  };
  return n;
}

/** A datacenter and a host (once per test app). */
export async function hostFor(t: TestApp, code = 'TRF1') {
  const dc = await t.services.infra.createDatacenter(
    { code, name: `DC ${code}`, city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  const host = await t.services.infra.registerHost(
    { name: `host-${code.toLowerCase()}`, datacenterId: dc.id, cpuCores: 8, memoryMiB: 16384, diskGiB: 200 },
    SYSTEM_ACTOR,
  );
  return { dc, host };
}

/** A running VPS of `accountId` on `hostId` with slot, address and MAC (as provisioning leaves it). */
export async function placedVps(
  t: TestApp,
  p: {
    accountId: string;
    datacenterId: string;
    hostId: string;
    slot: number;
    ipv4: string;
    hostname?: string;
    anchor?: Date;
  },
) {
  const db = t.database.db;
  const v = await db.transaction().execute((tx) =>
    t.services.infra.requestVps(tx, {
      accountId: p.accountId,
      datacenterId: p.datacenterId,
      hostname: p.hostname ?? `vps${p.slot}`,
      vcpus: 1,
      memoryMiB: 256,
      diskGiB: 1,
      billingAnchor: p.anchor ?? t.clock.now(),
      clientUsername: 'alice',
    }),
  );
  await db
    .updateTable('vps')
    .set({ host_id: p.hostId, net_slot: p.slot, ipv4: `${p.ipv4}/24`, mac: vpsMac(v.id), state: 'running' })
    .where('id', '=', v.id)
    .execute();
  return v;
}
