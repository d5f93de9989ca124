// Traffic counting and the outbound quota (R3.13), control-plane side.
//
// collect(): for every host with live VPSs, the ports' counters are read in one call to its
//   agent and stored in ONE transaction per host (repositories/traffic.ts: last reading, cycle
//   totals, daily buckets, flagged samples commit together), under a per-host advisory lock
//   taken before the read, so two collectors never count the same bytes. The SNMP source
//   (switch ports, mapping per VPS) is stored separately under source 'snmp'.
// Quota: after each collection, the VPSs whose host counts with this source are checked with
//   `quotaStatus` against their contract's terms. Above the quota: a `throttle` measure until
//   the cycle's end (one per VPS and cycle: unique index), a deadline at the cycle's end, the
//   client's email, all in one transaction; then the host's class goes to 1 Mbit/s. The
//   deadline lifts it at the new cycle (and restores the rate), surviving restarts.
// The quota's numbers come from the terms of the VPS's contract (CURRENT_TERMS when it has
//   none). `opts.terms` replaces them for one call: tests use a small quota this way, so the
//   product has no test-only setting.
import { sql } from 'kysely';
import { tapName } from '../../agent/net/names.ts';
import { readSnmpPorts, snmpOutboundReading, type SnmpPortMapping } from '../../agent/net/snmp.ts';
import type { HostAgent, PortCounters } from '../../agent/host-agent.ts';
import { invalidData, notFound } from '../../domain/errors.ts';
import { quotaStatus, type QuotaStatus, type QuotaTerms } from '../../domain/quota.ts';
import { CURRENT_TERMS, termsFor } from '../../domain/terms.ts';
import type { DeltaOptions } from '../../domain/traffic.ts';
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
import { getVps, type VpsRow } from '../repositories/vps.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import { policyFor } from './net-policy.ts';

/** Deadline kind: the billing cycle of a throttled VPS ends (R3.13). */
export const TRAFFIC_CYCLE_END = 'traffic.cycle_end';
export const THROTTLE_REASON =
  'R3.13: outbound traffic above the quota of the billing cycle; limited until the cycle ends';

/** VPS states whose port exists on a host (counted, reconciled). */
export const NETWORKED_STATES = [
  'provisioning',
  'defined',
  'starting',
  'running',
  'stopping',
  'stopped',
  'paused',
  'failed',
  'destroying',
] as const;

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

interface LiveVps {
  id: string;
  account_id: string;
  host_id: string;
  billing_anchor: Date;
  terms_version: string | null;
  traffic_source: TrafficSource;
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

  async function liveVpss(filter: { hostId?: string; ids?: string[] } = {}): Promise<LiveVps[]> {
    let q = db
      .selectFrom('vps as v')
      .innerJoin('hosts as h', 'h.id', 'v.host_id')
      .leftJoin('contracts as c', 'c.vps_id', 'v.id')
      .select([
        'v.id',
        'v.account_id',
        'v.host_id',
        'v.billing_anchor',
        'c.terms_version',
        'h.traffic_source',
      ])
      .where('v.state', 'in', NETWORKED_STATES)
      .where('v.net_slot', 'is not', null);
    if (filter.hostId) q = q.where('v.host_id', '=', filter.hostId);
    if (filter.ids)
      q = q.where('v.id', 'in', filter.ids.length ? filter.ids : ['00000000-0000-0000-0000-000000000000']);
    return (await q.execute()) as LiveVps[];
  }

  /** Reads and stores one host's tap counters; returns the stored totals (null: another collector holds the host). */
  async function collectHostTaps(
    hostId: string,
    agent: HostAgent,
    vpss: LiveVps[],
  ): Promise<StoredUsage[] | null> {
    const ports = new Map(vpss.map((v) => [tapName(v.id), v]));
    return db.transaction().execute(async (tx) => {
      const lock = await sql<{
        ok: boolean;
      }>`SELECT pg_try_advisory_xact_lock(hashtext(${`traffic:tap:${hostId}`})) AS ok`.execute(tx);
      if (!lock.rows[0]?.ok) return null;
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

  async function snmpMappings(ids?: string[]): Promise<(SnmpPortMapping & { anchor: Date })[]> {
    let q = db
      .selectFrom('snmp_port_mappings as m')
      .innerJoin('vps as v', 'v.id', 'm.vps_id')
      .select([
        'm.vps_id',
        'm.agent_host',
        'm.agent_port',
        'm.community_enc',
        'm.if_index',
        'm.vps_outbound',
        'v.billing_anchor',
      ])
      .where('v.state', 'in', NETWORKED_STATES);
    if (ids) q = q.where('m.vps_id', 'in', ids.length ? ids : ['00000000-0000-0000-0000-000000000000']);
    return (await q.execute()).map((m) => ({
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
    return db.transaction().execute(async (tx) => {
      const lock = await sql<{
        ok: boolean;
      }>`SELECT pg_try_advisory_xact_lock(hashtext('traffic:snmp')) AS ok`.execute(tx);
      if (!lock.rows[0]?.ok) return [];
      const byTarget = new Map<string, typeof mappings>();
      for (const m of mappings) {
        const k = `${m.target.host}:${m.target.port ?? 161}:${m.target.community}`;
        byTarget.set(k, [...(byTarget.get(k) ?? []), m]);
      }
      const readings: PortReading[] = [];
      const now = clock.now();
      for (const ms of byTarget.values()) {
        try {
          const counters = await readSnmpPorts(
            ms[0]!.target,
            ms.map((m) => m.ifIndex),
          );
          for (const m of ms) {
            const c = counters.get(m.ifIndex);
            if (!c) continue;
            const out = snmpOutboundReading(m, c, now);
            readings.push({
              vpsId: m.vpsId,
              anchor: m.anchor,
              counterId: out.epoch,
              outBytes: out.bytes,
              inBytes: out.bytes === c.inOctets ? c.outOctets : c.inOctets,
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
    const host = await dbOrTx
      .selectFrom('hosts')
      .select(['id', 'agent'])
      .where('id', '=', vps.host_id)
      .executeTakeFirstOrThrow();
    const agent = await ctx.agents.forHost(host);
    await agent.network.setThrottle(await policyFor(dbOrTx, vps, tapName(vps.id)));
  }

  /** R3.13: throttles a VPS above its quota, once per cycle (measure, deadline, email in one transaction), then applies it. */
  async function throttle(v: LiveVps, status: QuotaStatus): Promise<boolean> {
    const now = clock.now();
    const measureId = await db.transaction().execute(async (tx) => {
      await tx.selectFrom('vps').select('id').where('id', '=', v.id).forUpdate().execute();
      const m = await tx
        .insertInto('vps_net_measures')
        .values({
          vps_id: v.id,
          kind: 'throttle',
          reason: THROTTLE_REASON,
          created_by: 'system',
          created_at: now,
          until: status.cycle.end,
        })
        .onConflict((oc) => oc.columns(['vps_id', 'until']).where('kind', '=', 'throttle').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!m) return null;
      await scheduleDeadline(
        tx,
        {
          kind: TRAFFIC_CYCLE_END,
          subjectType: 'vps',
          subjectId: v.id,
          dueAt: status.cycle.end,
          payload: { measureId: m.id },
        },
        now,
      );
      const vps = await tx
        .selectFrom('vps')
        .select(['hostname', 'ipv4'])
        .where('id', '=', v.id)
        .executeTakeFirstOrThrow();
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
      return m.id;
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
    const done = new Set(
      (
        await db
          .selectFrom('vps_net_measures')
          .select(['vps_id', 'until'])
          .where('kind', '=', 'throttle')
          .where(
            'vps_id',
            'in',
            over.map((o) => o.v.id),
          )
          .execute()
      ).map((m) => `${m.vps_id}|${m.until?.getTime()}`),
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
    const v = await db
      .selectFrom('vps')
      .select(['id', 'billing_anchor', 'host_id'])
      .where('id', '=', vpsId)
      .executeTakeFirstOrThrow();
    await db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`traffic:tap:${v.host_id ?? ''}`}))`.execute(tx);
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
      const hosts = byHost.size
        ? await db
            .selectFrom('hosts')
            .select(['id', 'agent'])
            .where('id', 'in', [...byHost.keys()])
            .execute()
        : [];
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
        port: tapName(vps.id),
      });
      await recordFinal(vps.id, last);
    },

    /** Deadline handler: the cycle of a throttled VPS ended; lift (R3.13) and restore the rate. */
    async onCycleEnd(d: Deadline, c: { db: Db; now: Date }): Promise<void> {
      const lifted = await c.db
        .updateTable('vps_net_measures')
        .set({ lifted_at: c.now, lifted_by: 'system' })
        .where('vps_id', '=', d.subject_id)
        .where('kind', '=', 'throttle')
        .where('lifted_at', 'is', null)
        .where('until', '<=', c.now)
        .returning('id')
        .execute();
      // The host first: an unreachable host fails the deadline, which is retried (the lift with it).
      await applyThrottleOnHost(d.subject_id, c.db);
      if (lifted.length)
        await audit.record(
          SYSTEM_ACTOR,
          'vps.traffic_restored',
          { type: 'vps', id: d.subject_id },
          { measures: lifted.map((l) => l.id) },
        );
    },

    /** Both sides' view of the quota (R3.13, "quotas show their live balance"). */
    async usage(scope: Scope, vpsId: string, opts: CollectOptions = {}) {
      const vps = await getVps(db, scope, vpsId);
      const now = clock.now();
      const host = vps.host_id
        ? await db
            .selectFrom('hosts')
            .select('traffic_source')
            .where('id', '=', vps.host_id)
            .executeTakeFirst()
        : undefined;
      const source: TrafficSource = host?.traffic_source ?? 'tap';
      const contract = await db
        .selectFrom('contracts')
        .select('terms_version')
        .where('vps_id', '=', vps.id)
        .executeTakeFirst();
      const terms = opts.terms ?? termsOf({ terms_version: contract?.terms_version ?? null });
      const cycle = cycleFor(vps.billing_anchor, now);
      const used = await cycleUsage(db, vps.id, source, cycle.start);
      const status = quotaStatus({
        anchor: vps.billing_anchor,
        now: now < vps.billing_anchor ? vps.billing_anchor : now,
        usedBytes: used.bytesOut,
        terms,
      });
      const live = await db
        .selectFrom('vps_net_measures')
        .select(['id', 'until'])
        .where('vps_id', '=', vps.id)
        .where('kind', '=', 'throttle')
        .where('lifted_at', 'is', null)
        .executeTakeFirst();
      const last = await db
        .selectFrom('traffic_counters')
        .select('read_at')
        .where('vps_id', '=', vps.id)
        .where('source', '=', source)
        .executeTakeFirst();
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
        lastReadAt: last?.read_at.toISOString() ?? null,
        daily: await dailySeries(db, vps.id, source, cycle.start, end),
      };
    },

    /** Staff: samples not counted, for review. */
    flagged(filter: { vpsId?: string; limit?: number } = {}) {
      let q = db
        .selectFrom('traffic_flagged')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(filter.limit ?? 200);
      if (filter.vpsId) q = q.where('vps_id', '=', filter.vpsId);
      return q.execute();
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
      await db
        .insertInto('snmp_port_mappings')
        .values(row)
        .onConflict((oc) =>
          oc.column('vps_id').doUpdateSet({
            agent_host: row.agent_host,
            agent_port: row.agent_port,
            community_enc: row.community_enc,
            if_index: row.if_index,
            vps_outbound: row.vps_outbound,
          }),
        )
        .execute();
      // A new port's history is not this VPS's: the next reading is a baseline.
      await db
        .deleteFrom('traffic_counters')
        .where('vps_id', '=', vpsId)
        .where('source', '=', 'snmp')
        .execute();
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
      const r = await db.deleteFrom('snmp_port_mappings').where('vps_id', '=', vpsId).executeTakeFirst();
      if (!Number(r.numDeletedRows)) throw notFound('snmp_mapping.not_found', 'This VPS has no SNMP mapping');
      await audit.record(actor, 'vps.snmp_mapping_delete', { type: 'vps', id: vpsId });
    },

    async listSnmpMappings() {
      return (await db.selectFrom('snmp_port_mappings').selectAll().orderBy('created_at').execute()).map(
        (m) => ({
          vpsId: m.vps_id,
          agentHost: m.agent_host,
          agentPort: m.agent_port,
          ifIndex: m.if_index,
          vpsOutbound: m.vps_outbound,
        }),
      );
    },

    /** Which source a host's quota reads (default tap). */
    async setHostSource(hostId: string, source: TrafficSource, actor: AuditActor): Promise<void> {
      if (source !== 'tap' && source !== 'snmp')
        throw invalidData('validation.source', 'tap or snmp', { field: 'source' });
      const r = await db
        .updateTable('hosts')
        .set({ traffic_source: source })
        .where('id', '=', hostId)
        .executeTakeFirst();
      if (!Number(r.numUpdatedRows)) throw notFound('host.not_found', 'No such host');
      await audit.record(actor, 'host.traffic_source', { type: 'host', id: hostId }, { source });
    },
  };
}
export type TrafficService = ReturnType<typeof createTrafficService>;
