// Traffic counting and the outbound quota (R3.13), control-plane side.
//
// collect(): for every host with live VPSs, the ports' counters are read in one call to its
//   agent and stored in ONE transaction per host (repositories/traffic.ts: last reading, cycle
//   totals, daily buckets, flagged samples commit together), under a per-host advisory lock
//   taken before the read, so two collectors never count the same bytes. The SNMP source
//   (switch ports, mapping per VPS) is stored separately under source 'snmp'.
// Quota: after each collection, the VPSs whose host counts with this source are checked with
//   `quotaStatus` against their contract's terms. Above the quota: a `throttle` network block until
//   the cycle's end (one per VPS and cycle: unique index), a deadline at the cycle's end, the
//   client's email, all in one transaction; then the host's class goes to 1 Mbit/s. The
//   deadline lifts it at the new cycle (and restores the rate), surviving restarts.
// The quota's numbers come from the terms of the VPS's contract (CURRENT_TERMS when it has
//   none). `opts.terms` replaces them for one call: tests use a small quota this way, so the
//   product has no test-only setting.
import type { HostAgent, PortCounters, SwitchTarget } from '../../agent/host-agent.ts';
import { invalidData, notFound } from '../../domain/errors.ts';
import { quotaStatus, type QuotaStatus, type QuotaTerms } from '../../domain/quota.ts';
import { CURRENT_TERMS, termsFor } from '../../domain/terms.ts';
import { switchPortReading, type DeltaOptions, type SwitchOutbound } from '../../domain/traffic.ts';
import type { Db } from '../db/database.ts';
import type { Deadline } from '../db/schema.ts';
import type { TrafficSource } from '../db/tables/traffic.ts';
import { mailDate } from '../mail/format.ts';
import { findRecipient } from '../mail/recipients.ts';
import type { MailService } from './mail.ts';
import { scheduleDeadline } from '../repositories/deadlines.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import {
  cycleFor,
  cycleUsage,
  dailySeries,
  storeReadings,
  type PortReading,
  type StoredUsage,
} from '../repositories/traffic.ts';
import { termsVersionOfVps } from '../repositories/contracts.ts';
import { getHost } from '../repositories/hosts.ts';
import {
  deleteSnmpMapping,
  hostAgentsOf,
  hostTrafficSource,
  insertThrottle,
  lastReadAt,
  liftEndedThrottles,
  listFlagged,
  listSnmpMappings,
  liveThrottle,
  liveVpss as liveVpssOf,
  setHostTrafficSource,
  snmpMappingsOfLiveVpss,
  throttleKeys,
  upsertSnmpMapping,
  type LiveVps,
} from '../repositories/traffic-quota.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import { inTransaction, tryXactLock, xactLock } from '../repositories/transactions.ts';
import { getVps, lockVps, type VpsRow } from '../repositories/vps.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import { policyFor } from './net-policy.ts';

/** Deadline kind: the billing cycle of a throttled VPS ends (R3.13). */
export const TRAFFIC_CYCLE_END = 'traffic.cycle_end';
export const THROTTLE_REASON =
  'R3.13: outbound traffic above the quota of the billing cycle; limited until the cycle ends';

export { NETWORKED_STATES } from '../repositories/traffic-quota.ts';

export interface CollectOptions {
  /** Replaces the contract's terms for the quota check (tests, what-if). */
  terms?: QuotaTerms;
}

export interface CollectReport {
  hosts: number;
  ports: number;
  flagged: number;
  throttled: string[];
  errors: { hostId: string; error: string }[];
}

const termsOf = (v: { terms_version: string | null }): QuotaTerms =>
  v.terms_version ? termsFor(v.terms_version) : CURRENT_TERMS;

/** Bytes as the client reads them: decimal units (1 TB = 10^12 bytes, as in the terms). */
export function formatBytes(b: bigint): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let scaled = Number(b);
  while (scaled >= 1000 && i < units.length - 1) {
    scaled /= 1000;
    i++;
  }
  return `${i === 0 ? scaled.toFixed(0) : scaled.toFixed(2)} ${units[i]}`;
}

export function createTrafficService(ctx: ServiceContext, audit: AuditService, mail: MailService) {
  const { db, clock, log } = ctx;

  /** The tap is a software port with no line rate of its own: the host's uplink bounds it, never below the terms' guarantee. */
  const deltaOptions = (firstReading: DeltaOptions['firstReading']): DeltaOptions => ({
    lineRateBitsPerSecond: Math.max(
      ctx.config.agentUplinkMbps * 1_000_000,
      CURRENT_TERMS.guaranteedBandwidthBitsPerSecond,
    ),
    firstReading,
  });

  const liveVpss = (filter: { hostId?: string; ids?: string[] } = {}) => liveVpssOf(db, filter);

  /** Reads and stores one host's tap counters; returns the stored totals (null: another collector holds the host). */
  async function collectHostTaps(
    hostId: string,
    agent: HostAgent,
    vpss: LiveVps[],
  ): Promise<StoredUsage[] | null> {
    const ports = new Map(vpss.map((v) => [agent.network.portName(v.id), v]));
    return inTransaction(db, async (tx) => {
      if (!(await tryXactLock(tx, `traffic:tap:${hostId}`))) return null;
      // Read after the lock: readings of one host are stored in the order they were taken.
      const counters = await agent.network.readPortCounters([...ports.keys()]);
      const now = clock.now();
      const readings: PortReading[] = [];
      for (const c of counters) {
        const v = ports.get(c.port);
        if (v) readings.push(tapReading(v, c));
      }
      return storeReadings(tx, 'tap', now, readings, deltaOptions('count'));
    });
  }

  const tapReading = (v: { id: string; billing_anchor: Date }, c: PortCounters): PortReading => ({
    vpsId: v.id,
    anchor: v.billing_anchor,
    counterId: String(c.ifindex),
    outBytes: BigInt(c.rxBytes),
    inBytes: BigInt(c.txBytes),
  });

  interface SwitchMapping {
    vpsId: string;
    target: SwitchTarget;
    ifIndex: number;
    vpsOutbound: SwitchOutbound;
    anchor: Date;
  }

  async function snmpMappings(ids?: string[]): Promise<SwitchMapping[]> {
    return (await snmpMappingsOfLiveVpss(db, ids)).map((m) => ({
      vpsId: m.vps_id,
      target: { host: m.agent_host, port: m.agent_port, community: ctx.secrets.open(m.community_enc) },
      ifIndex: m.if_index,
      vpsOutbound: m.vps_outbound,
      anchor: m.billing_anchor,
    }));
  }

  /** The SNMP source: every mapped VPS's switch port (one session per SNMP agent), stored under 'snmp'. */
  async function collectSnmp(): Promise<StoredUsage[]> {
    const mappings = await snmpMappings();
    if (!mappings.length) return [];
    return inTransaction(db, async (tx) => {
      if (!(await tryXactLock(tx, 'traffic:snmp'))) return [];
      const byTarget = new Map<string, typeof mappings>();
      for (const m of mappings) {
        const k = `${m.target.host}:${m.target.port ?? 161}:${m.target.community}`;
        byTarget.set(k, [...(byTarget.get(k) ?? []), m]);
      }
      const readings: PortReading[] = [];
      const now = clock.now();
      for (const ms of byTarget.values()) {
        try {
          const read = await ctx.agents.readSwitchPorts(
            ms[0]!.target,
            ms.map((m) => m.ifIndex),
          );
          const counters = new Map(read.map((c) => [c.ifIndex, c]));
          for (const m of ms) {
            const c = counters.get(m.ifIndex);
            if (!c) continue;
            const { outbound, inBytes } = switchPortReading(
              { ...c, inOctets: BigInt(c.inOctets), outOctets: BigInt(c.outOctets) },
              m.vpsOutbound,
              now.getTime(),
            );
            readings.push({
              vpsId: m.vpsId,
              anchor: m.anchor,
              counterId: outbound.epoch,
              outBytes: outbound.bytes,
              inBytes,
            });
          }
        } catch (e) {
          log.warn({ err: e, agent: ms[0]!.target.host }, 'SNMP agent not read');
        }
      }
      return storeReadings(tx, 'snmp', now, readings, deltaOptions('baseline'));
    });
  }

  /** Applies the VPS's current throttle state on its host (after the database says so). */
  async function applyThrottleOnHost(vpsId: string, dbOrTx: Db = db): Promise<void> {
    const vps = await getVps(dbOrTx, SYSTEM_SCOPE, vpsId);
    if (!vps.host_id || vps.net_slot === null || !vps.ipv4 || !vps.mac) return;
    const agent = await ctx.agents.forHost(await getHost(dbOrTx, vps.host_id));
    await agent.network.setThrottle(await policyFor(dbOrTx, vps, agent.network.portName(vps.id)));
  }

  /** R3.13: throttles a VPS above its quota, once per cycle (network block, deadline, email in one transaction), then applies it. */
  async function throttle(v: LiveVps, status: QuotaStatus): Promise<boolean> {
    const now = clock.now();
    const measureId = await inTransaction(db, async (tx) => {
      const vps = await lockVps(tx, v.id);
      const id = await insertThrottle(tx, {
        vpsId: v.id,
        reason: THROTTLE_REASON,
        now,
        until: status.cycle.end,
      });
      if (!id) return null;
      await scheduleDeadline(
        tx,
        {
          kind: TRAFFIC_CYCLE_END,
          subjectType: 'vps',
          subjectId: v.id,
          dueAt: status.cycle.end,
          payload: { measureId: id },
        },
        now,
      );
      const owner = await findRecipient(tx, v.account_id);
      // Last in the transaction: the mail module holds the notices chain's lock until commit.
      if (owner)
        await mail.send(tx, {
          to: owner.to,
          template: 'traffic.throttled',
          language: owner.language,
          vars: {
            name: owner.name,
            hostname: vps.hostname,
            usedBytes: formatBytes(status.usedBytes),
            quotaBytes: formatBytes(status.quotaBytes),
            rate: `${status.bandwidthBitsPerSecond / 1_000_000} Mbit/s`,
            until: mailDate(status.cycle.end, owner.language),
          },
          accountId: v.account_id,
          reason: 'R3.13 outbound quota reached: throttled until the end of the billing cycle',
        });
      return id;
    });
    if (!measureId) return false;
    await audit.record(
      SYSTEM_ACTOR,
      'vps.traffic_throttled',
      { type: 'vps', id: v.id },
      {
        measureId,
        usedBytes: status.usedBytes.toString(),
        quotaBytes: status.quotaBytes.toString(),
        until: status.cycle.end.toISOString(),
      },
    );
    await applyThrottleOnHost(v.id).catch((e: unknown) =>
      log.error({ err: e, vps: v.id }, 'throttle not applied on the host (the reconcile will)'),
    );
    return true;
  }

  /** Checks the quota of VPSs just counted with `source`; throttles those above it. */
  async function checkQuota(
    stored: StoredUsage[],
    source: TrafficSource,
    opts: CollectOptions,
  ): Promise<string[]> {
    if (!stored.length) return [];
    const now = clock.now();
    const byId = new Map((await liveVpss({ ids: stored.map((s) => s.vpsId) })).map((v) => [v.id, v]));
    const over: { v: LiveVps; status: QuotaStatus }[] = [];
    for (const s of stored) {
      const v = byId.get(s.vpsId);
      if (!v || v.traffic_source !== source) continue;
      const terms = opts.terms ?? termsOf(v);
      if (s.bytesOut <= terms.outboundQuotaBytes) continue;
      over.push({
        v,
        status: quotaStatus({
          anchor: v.billing_anchor,
          now: now < v.billing_anchor ? v.billing_anchor : now,
          usedBytes: s.bytesOut,
          terms,
        }),
      });
    }
    if (!over.length) return [];
    // Already throttled this cycle (or lifted by staff for this cycle): nothing to do.
    const done = await throttleKeys(
      db,
      over.map((o) => o.v.id),
    );
    const throttled: string[] = [];
    for (const o of over) {
      if (done.has(`${o.v.id}|${o.status.cycle.end.getTime()}`)) continue;
      if (await throttle(o.v, o.status)) throttled.push(o.v.id);
    }
    return throttled;
  }

  /**
   * The tap's last counters when it is removed (`HostNetwork.removeVps` returns them): counted
   * like any reading, so the bytes since the last collection are not lost.
   */
  async function recordFinal(vpsId: string, last: PortCounters | null): Promise<void> {
    if (!last) return;
    const v = await getVps(db, SYSTEM_SCOPE, vpsId);
    await inTransaction(db, async (tx) => {
      await xactLock(tx, `traffic:tap:${v.host_id ?? ''}`);
      await storeReadings(tx, 'tap', clock.now(), [tapReading(v, last)], deltaOptions('count'));
    });
  }

  return {
    /** One collection round: every host with live VPSs (tap), then the SNMP mappings. */
    async collect(opts: CollectOptions = {}): Promise<CollectReport> {
      const report: CollectReport = { hosts: 0, ports: 0, flagged: 0, throttled: [], errors: [] };
      const vpss = await liveVpss();
      const byHost = new Map<string, LiveVps[]>();
      for (const v of vpss) byHost.set(v.host_id, [...(byHost.get(v.host_id) ?? []), v]);
      const hosts = await hostAgentsOf(db, [...byHost.keys()]);
      for (const h of hosts) {
        try {
          const agent = await ctx.agents.forHost(h);
          const stored = await collectHostTaps(h.id, agent, byHost.get(h.id)!);
          if (!stored) continue;
          report.hosts++;
          report.ports += stored.length;
          report.flagged += stored.reduce((n, s) => n + s.flagged, 0);
          report.throttled.push(...(await checkQuota(stored, 'tap', opts)));
        } catch (e) {
          log.error({ err: e, host: h.id }, 'traffic collection failed for a host');
          report.errors.push({ hostId: h.id, error: e instanceof Error ? e.message : String(e) });
        }
      }
      try {
        const stored = await collectSnmp();
        report.ports += stored.length;
        report.flagged += stored.reduce((n, s) => n + s.flagged, 0);
        report.throttled.push(...(await checkQuota(stored, 'snmp', opts)));
      } catch (e) {
        log.error({ err: e }, 'SNMP traffic collection failed');
        report.errors.push({ hostId: 'snmp', error: e instanceof Error ? e.message : String(e) });
      }
      return report;
    },

    /**
     * The tap's last counters when it is removed (`HostNetwork.removeVps` returns them): counted
     * like any reading, so the bytes since the last collection are not lost.
     */
    recordFinal,

    /** Removes a VPS's network from its host and counts the tap's last bytes (use this rather than removeVps). */
    async removeVpsNetwork(agent: HostAgent, vps: Pick<VpsRow, 'id' | 'net_slot'>): Promise<void> {
      if (vps.net_slot === null) return;
      const { last } = await agent.network.removeVps({
        vpsId: vps.id,
        slot: vps.net_slot,
        port: agent.network.portName(vps.id),
      });
      await recordFinal(vps.id, last);
    },

    /** Deadline handler: the cycle of a throttled VPS ended; lift (R3.13) and restore the rate. */
    async onCycleEnd(d: Deadline, c: { db: Db; now: Date }): Promise<void> {
      const lifted = await liftEndedThrottles(c.db, d.subject_id, c.now);
      // The host first: an unreachable host fails the deadline, which is retried (the lift with it).
      await applyThrottleOnHost(d.subject_id, c.db);
      if (lifted.length)
        await audit.record(
          SYSTEM_ACTOR,
          'vps.traffic_restored',
          { type: 'vps', id: d.subject_id },
          { measures: lifted },
        );
    },

    /** Both sides' view of the quota (R3.13, "quotas show their live balance"). */
    async usage(scope: Scope, vpsId: string, opts: CollectOptions = {}) {
      const vps = await getVps(db, scope, vpsId);
      const now = clock.now();
      const source: TrafficSource = (vps.host_id && (await hostTrafficSource(db, vps.host_id))) || 'tap';
      const termsVersion = await termsVersionOfVps(db, vps.id);
      const terms = opts.terms ?? termsOf({ terms_version: termsVersion ?? null });
      const cycle = cycleFor(vps.billing_anchor, now);
      const used = await cycleUsage(db, vps.id, source, cycle.start);
      const status = quotaStatus({
        anchor: vps.billing_anchor,
        now: now < vps.billing_anchor ? vps.billing_anchor : now,
        usedBytes: used.bytesOut,
        terms,
      });
      const live = await liveThrottle(db, vps.id);
      const last = await lastReadAt(db, vps.id, source);
      const end = new Date(Math.min(now.getTime(), cycle.end.getTime() - 1));
      return {
        vpsId: vps.id,
        source,
        cycleStart: cycle.start.toISOString(),
        cycleEnd: cycle.end.toISOString(),
        quotaBytes: status.quotaBytes.toString(),
        usedOutBytes: used.bytesOut.toString(),
        usedInBytes: used.bytesIn.toString(),
        remainingBytes: status.remainingBytes.toString(),
        forecastBytes: status.forecastBytes.toString(),
        forecastExceedsQuota: status.forecastExceedsQuota,
        throttled: Boolean(live),
        throttledUntil: live?.until ? live.until.toISOString() : null,
        bandwidthBitsPerSecond: live
          ? terms.bandwidthAfterQuotaBitsPerSecond
          : terms.guaranteedBandwidthBitsPerSecond,
        flaggedSamples: used.flagged,
        lastReadAt: last?.toISOString() ?? null,
        daily: await dailySeries(db, vps.id, source, cycle.start, end),
      };
    },

    /** Staff: samples not counted, for review. */
    flagged(filter: { vpsId?: string }, page: PageRequest) {
      return listFlagged(db, filter, page);
    },

    async setSnmpMapping(
      vpsId: string,
      p: {
        agentHost: string;
        agentPort?: number;
        community: string;
        ifIndex: number;
        vpsOutbound?: 'ifHCInOctets' | 'ifHCOutOctets';
      },
      actor: AuditActor,
    ) {
      await getVps(db, SYSTEM_SCOPE, vpsId);
      if (!/^[A-Za-z0-9.:-]{1,253}$/.test(p.agentHost))
        throw invalidData('validation.agentHost', 'Not a host name or address', { field: 'agentHost' });
      const row = {
        vps_id: vpsId,
        agent_host: p.agentHost,
        agent_port: p.agentPort ?? 161,
        community_enc: ctx.secrets.seal(p.community),
        if_index: p.ifIndex,
        vps_outbound: p.vpsOutbound ?? 'ifHCInOctets',
        created_at: clock.now(),
      };
      // A new port's history is not this VPS's: the next reading is a baseline.
      await inTransaction(db, (tx) => upsertSnmpMapping(tx, row));
      await audit.record(
        actor,
        'vps.snmp_mapping_set',
        { type: 'vps', id: vpsId },
        { agentHost: row.agent_host, agentPort: row.agent_port, ifIndex: row.if_index },
      );
      return {
        vpsId,
        agentHost: row.agent_host,
        agentPort: row.agent_port,
        ifIndex: row.if_index,
        vpsOutbound: row.vps_outbound,
      };
    },

    async deleteSnmpMapping(vpsId: string, actor: AuditActor): Promise<void> {
      if (!(await deleteSnmpMapping(db, vpsId)))
        throw notFound('snmp_mapping.not_found', 'This VPS has no SNMP mapping');
      await audit.record(actor, 'vps.snmp_mapping_delete', { type: 'vps', id: vpsId });
    },

    async listSnmpMappings() {
      return (await listSnmpMappings(db)).map((m) => ({
        vpsId: m.vps_id,
        agentHost: m.agent_host,
        agentPort: m.agent_port,
        ifIndex: m.if_index,
        vpsOutbound: m.vps_outbound,
      }));
    },

    /** Which source a host's quota reads (default tap). */
    async setHostSource(hostId: string, source: TrafficSource, actor: AuditActor): Promise<void> {
      if (source !== 'tap' && source !== 'snmp')
        throw invalidData('validation.source', 'tap or snmp', { field: 'source' });
      if (!(await setHostTrafficSource(db, hostId, source))) throw notFound('host.not_found', 'No such host');
      await audit.record(actor, 'host.traffic_source', { type: 'host', id: hostId }, { source });
    },
  };
}
export type TrafficService = ReturnType<typeof createTrafficService>;
