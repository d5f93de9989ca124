// DDoS detection and tier-1 mitigation from the control plane (R9.1, R9.3, R9.4, R9.5): every
// second, each host's per-address counters (read before any drop) go through the domain's
// detector; an attacked VPS gets an automatic mitigation whose end date is stored
// (domain/ddos.ts mitigationEnd), each attack second moves it forward, and it ends only once
// that date has passed — in one statement, so no path ends it early; staff asking earlier get
// a 409 with the date (R9.4). The host's whole tier-1 state is applied whenever the set of
// mitigations changes, and with a reconcile on the first round after a start (restarts keep
// mitigations in force). See docs/ddos.md.
import {
  DEFAULT_DDOS_THRESHOLDS,
  DdosDetector,
  assertMayEnd,
  mitigationEnd,
  type AttackSignature,
} from '../../domain/ddos.ts';
import type { DdosMitigation, HostAgent } from '../../agent/host-agent.ts';
import {
  activeMitigations,
  addressedVpss,
  endDueMitigation,
  getMitigation,
  insertMitigation,
  mitigationsOfVps,
  pageMitigations,
  recordAttackSecond,
  recordTierOneStats,
  type DdosMitigationRow,
} from '../repositories/ddos.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import type { Scope } from '../repositories/scope.ts';
import { getVps } from '../repositories/vps.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';

/** Tier-1 limits (docs/ddos.md). */
const TIER1_LIMITS = { synPerSecond: 2_000, perSourceSynPerSecond: 50, perSourcePacketsPerSecond: 5_000 };

export interface DdosSampleReport {
  hosts: number;
  attacked: number;
  started: string[];
  ended: string[];
  /** Attacked addresses that belong to no VPS (counted per host, nothing to mitigate). */
  unassigned: number;
  errors: { hostId: string; error: string }[];
}

export type DdosListener = (event: 'started' | 'ended', m: DdosMitigationRow) => Promise<void> | void;

export function createDdosService(ctx: ServiceContext, audit: AuditService) {
  const { db, clock, log } = ctx;
  const detectors = new Map<string, DdosDetector>();
  /** Per host, the VPS ids whose tier-1 state this process applied (absent: not yet, reconcile). */
  const applied = new Map<string, string>();
  const listeners: DdosListener[] = [];
  const spec = (m: DdosMitigationRow): DdosMitigation => ({
    vpsId: m.vps_id,
    ipv4: m.address,
    ...TIER1_LIMITS,
  });

  async function tell(event: 'started' | 'ended', m: DdosMitigationRow) {
    for (const l of listeners) {
      try {
        await l(event, m);
      } catch (e) {
        log.error({ err: e, mitigation: m.id }, 'ddos listener failed');
      }
    }
  }

  async function applyHost(hostId: string, agent: HostAgent, active: DdosMitigationRow[], ended: string[]) {
    const key = active
      .map((m) => m.vps_id)
      .sort()
      .join(',');
    if (applied.get(hostId) === key && ended.length === 0) return;
    await agent.network.applyMitigations(active.map(spec), ended, { reconcile: !applied.has(hostId) });
    applied.set(hostId, key);
  }

  async function sampleHost(
    hostId: string,
    agent: HostAgent,
    vpsByAddress: Map<string, { id: string }>,
    report: DdosSampleReport,
  ) {
    const reading = await agent.network.readDdos();
    const now = clock.now();
    let det = detectors.get(hostId);
    if (!det) detectors.set(hostId, (det = new DdosDetector(DEFAULT_DDOS_THRESHOLDS)));
    const states = det.feed(now, new Map(Object.entries(reading.addresses)));
    const active = new Map((await activeMitigations(db, hostId)).map((m) => [m.vps_id, m]));
    const attackedNow = new Set<string>();
    for (const [address, st] of states) {
      if (!st.attack) continue;
      report.attacked++;
      const v = vpsByAddress.get(address);
      if (!v) {
        report.unassigned++;
        continue;
      }
      attackedNow.add(v.id);
      const m = active.get(v.id);
      if (!m) {
        const row = await start(v.id, hostId, address, st.attack, now);
        if (row) {
          active.set(v.id, row);
          report.started.push(row.id);
        }
      } else {
        await recordAttackSecond(db, m.id, {
          at: now,
          endsAt: mitigationEnd({ startedAt: m.started_at, lastAttackAt: now }),
          pps: st.attack.packetsPerSecond,
          bps: st.attack.bitsPerSecond,
        });
      }
    }
    for (const m of active.values()) {
      const t1 = reading.mitigations[m.vps_id];
      if (t1) await recordTierOneStats(db, m.id, t1.dropped.packets, t1.topSources);
    }
    const ended: string[] = [];
    for (const m of [...active.values()]) {
      if (attackedNow.has(m.vps_id)) continue;
      const row = await endDueMitigation(db, m.id, now);
      if (!row) continue;
      active.delete(m.vps_id);
      ended.push(m.vps_id);
      report.ended.push(m.id);
      await audit.record(
        SYSTEM_ACTOR,
        'ddos.mitigation_ended',
        { type: 'vps', id: m.vps_id },
        { mitigation: m.id },
      );
      await tell('ended', row);
    }
    await applyHost(hostId, agent, [...active.values()], ended);
  }

  async function start(vpsId: string, hostId: string, address: string, sig: AttackSignature, now: Date) {
    const row = await insertMitigation(db, {
      vps_id: vpsId,
      host_id: hostId,
      address,
      signature: { ...sig },
      peak_pps: sig.packetsPerSecond,
      peak_bps: sig.bitsPerSecond,
      started_at: now,
      ends_at: mitigationEnd({ startedAt: now, lastAttackAt: now }),
    });
    if (!row) return undefined;
    await audit.record(
      SYSTEM_ACTOR,
      'ddos.mitigation_started',
      { type: 'vps', id: vpsId },
      { mitigation: row.id, types: sig.types, packetsPerSecond: sig.packetsPerSecond, endsAt: row.ends_at },
    );
    log.warn({ vps: vpsId, address, signature: sig }, 'DDoS detected: mitigation started (tier 1)');
    await tell('started', row);
    return row;
  }

  return {
    onChange(l: DdosListener) {
      listeners.push(l);
    },

    /** One sampling round over every host with addressed VPSs (the platform runs it each second). */
    async sample(): Promise<DdosSampleReport> {
      const report: DdosSampleReport = {
        hosts: 0,
        attacked: 0,
        started: [],
        ended: [],
        unassigned: 0,
        errors: [],
      };
      const vpss = await addressedVpss(db);
      const hosts = new Map<string, { id: string; agent: 'local'; netns: string | null }>();
      const byHost = new Map<string, Map<string, { id: string }>>();
      for (const v of vpss) {
        hosts.set(v.host_id, { id: v.host_id, agent: v.agent, netns: v.netns });
        const m = byHost.get(v.host_id) ?? new Map<string, { id: string }>();
        m.set(v.address, { id: v.id });
        byHost.set(v.host_id, m);
      }
      // hosts with mitigations in force but no addressed VPS left still get their state applied
      for (const m of await activeMitigations(db))
        if (!hosts.has(m.host_id)) byHost.set(m.host_id, byHost.get(m.host_id) ?? new Map());
      for (const [hostId, addrs] of byHost) {
        const h = hosts.get(hostId);
        if (!h) continue;
        try {
          const agent = await ctx.agents.forHost(h);
          await sampleHost(hostId, agent, addrs, report);
          report.hosts++;
        } catch (e) {
          log.error({ err: e, host: hostId }, 'DDoS sampling failed for a host');
          report.errors.push({ hostId, error: e instanceof Error ? e.message : String(e) });
        }
      }
      return report;
    },

    /**
     * R9.4: staff asking to end a mitigation. Before its end date: 409 with the date, for every
     * role. After it: ended now (the host's rules go at the next sampling round).
     */
    async end(id: string, actor: AuditActor): Promise<DdosMitigationRow> {
      const m = await getMitigation(db, id);
      if (m.ended_at) return m;
      const now = clock.now();
      assertMayEnd({ startedAt: m.started_at, lastAttackAt: m.last_attack_at, storedEnd: m.ends_at }, now);
      const row = await endDueMitigation(db, id, now);
      if (!row) return getMitigation(db, id); // ended meanwhile, or an attack second moved the date
      await audit.record(actor, 'ddos.mitigation_ended', { type: 'vps', id: m.vps_id }, { mitigation: id });
      await tell('ended', row);
      return row;
    },

    get: (id: string) => getMitigation(db, id),
    list: (opts: { active?: boolean }, page: PageRequest) => pageMitigations(db, opts, page),

    /** A VPS's mitigations (client: its own VPS only, 404 otherwise). */
    async ofVps(scope: Scope, vpsId: string, page: PageRequest) {
      await getVps(db, scope, vpsId);
      return mitigationsOfVps(db, scope, vpsId, page);
    },
  };
}

export type DdosService = ReturnType<typeof createDdosService>;
export type { DdosMitigationRow };
