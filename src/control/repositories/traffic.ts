// Traffic storage (R3.13): the last counter reading per VPS and source, the bytes per billing
// cycle, daily buckets and flagged samples. `storeReadings` writes them all in the caller's
// transaction, so the new last reading and the bytes it adds commit together: a restart
// resumes from the stored reading and counts nothing twice, loses nothing.
import { sql } from 'kysely';
import { cycleAt, type BillingCycle } from '../../domain/quota.ts';
import {
  trafficDelta,
  type CounterReading,
  type DeltaOptions,
  type TrafficSample,
} from '../../domain/traffic.ts';
import type { Db } from '../db/database.ts';
import type { TrafficSource } from '../db/tables/traffic.ts';

export interface PortReading {
  vpsId: string;
  /** The VPS's billing anchor (cycles start there). */
  anchor: Date;
  /** Identity of the counter (tap ifindex, SNMP ifIndex:discontinuity): a change is a reset. */
  counterId: string;
  /** What the VPS sent (the port's receive side), and what it received. */
  outBytes: bigint;
  inBytes: bigint;
}

export interface StoredUsage {
  vpsId: string;
  cycle: BillingCycle;
  /** Totals of the cycle after this reading. */
  bytesOut: bigint;
  bytesIn: bigint;
  counted: { out: bigint; in: bigint };
  flagged: number;
}

/** The billing cycle containing `now`; bytes read before the anchor belong to the first cycle. */
export function cycleFor(anchor: Date, now: Date): BillingCycle {
  return cycleAt(anchor, now.getTime() < anchor.getTime() ? anchor : now);
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Computes the deltas of `readings` (taken at `now`) against the stored last readings and
 * stores everything. Must run in a transaction; callers serialise collections of one source
 * and host (an advisory lock) and read the counters after taking it, so readings arrive in
 * time order.
 */
export async function storeReadings(
  tx: Db,
  source: TrafficSource,
  now: Date,
  readings: readonly PortReading[],
  opts: DeltaOptions,
): Promise<StoredUsage[]> {
  if (!tx.isTransaction) throw new Error('storeReadings runs inside a transaction');
  if (readings.length === 0) return [];
  const ids = readings.map((r) => r.vpsId);
  const prevRows = await tx
    .selectFrom('traffic_counters')
    .selectAll()
    .where('source', '=', source)
    .where('vps_id', 'in', ids)
    .forUpdate()
    .execute();
  const prev = new Map(prevRows.map((p) => [p.vps_id, p]));
  const at = now.getTime();
  const day = utcDay(now);
  const counters: {
    vps_id: string;
    source: string;
    counter_id: string;
    rx_bytes: string;
    tx_bytes: string;
    read_at: Date;
  }[] = [];
  const usage: {
    vps_id: string;
    source: string;
    cycle_start: Date;
    bytes_out: string;
    bytes_in: string;
    flagged: number;
    updated_at: Date;
  }[] = [];
  const daily: { vps_id: string; source: string; day: string; bytes_out: string; bytes_in: string }[] = [];
  const flagged: {
    vps_id: string;
    source: string;
    direction: 'out' | 'in';
    sample_kind: string;
    flag: string;
    from_at: Date | null;
    to_at: Date;
    raw_delta: string;
    counter_id: string;
  }[] = [];
  const results = new Map<
    string,
    { cycle: BillingCycle; counted: { out: bigint; in: bigint }; flagged: number }
  >();
  for (const r of readings) {
    const p = prev.get(r.vpsId);
    const last = (bytes: string): CounterReading | null =>
      p ? { at: p.read_at.getTime(), epoch: p.counter_id, bytes: BigInt(bytes) } : null;
    const out = trafficDelta(last(p?.rx_bytes ?? '0'), { at, epoch: r.counterId, bytes: r.outBytes }, opts);
    const inn = trafficDelta(last(p?.tx_bytes ?? '0'), { at, epoch: r.counterId, bytes: r.inBytes }, opts);
    counters.push({
      vps_id: r.vpsId,
      source,
      counter_id: r.counterId,
      rx_bytes: r.outBytes.toString(),
      tx_bytes: r.inBytes.toString(),
      read_at: now,
    });
    const cycle = cycleFor(r.anchor, now);
    let nFlagged = 0;
    for (const [direction, s] of [
      ['out', out],
      ['in', inn],
    ] as const) {
      if (!s.flag) continue;
      nFlagged++;
      flagged.push(flagRow(r, source, direction, s));
    }
    results.set(r.vpsId, { cycle, counted: { out: out.counted, in: inn.counted }, flagged: nFlagged });
    if (out.counted > 0n || inn.counted > 0n || nFlagged > 0) {
      usage.push({
        vps_id: r.vpsId,
        source,
        cycle_start: cycle.start,
        bytes_out: out.counted.toString(),
        bytes_in: inn.counted.toString(),
        flagged: nFlagged,
        updated_at: now,
      });
    }
    if (out.counted > 0n || inn.counted > 0n)
      daily.push({
        vps_id: r.vpsId,
        source,
        day,
        bytes_out: out.counted.toString(),
        bytes_in: inn.counted.toString(),
      });
  }

  await tx
    .insertInto('traffic_counters')
    .values(counters)
    .onConflict((oc) =>
      oc.columns(['vps_id', 'source']).doUpdateSet({
        counter_id: sql`excluded.counter_id`,
        rx_bytes: sql`excluded.rx_bytes`,
        tx_bytes: sql`excluded.tx_bytes`,
        read_at: sql`excluded.read_at`,
      }),
    )
    .execute();
  if (usage.length) {
    await tx
      .insertInto('traffic_usage')
      .values(usage)
      .onConflict((oc) =>
        oc.columns(['vps_id', 'source', 'cycle_start']).doUpdateSet({
          bytes_out: sql`traffic_usage.bytes_out + excluded.bytes_out`,
          bytes_in: sql`traffic_usage.bytes_in + excluded.bytes_in`,
          flagged: sql`traffic_usage.flagged + excluded.flagged`,
          updated_at: sql`excluded.updated_at`,
        }),
      )
      .execute();
  }
  if (daily.length) {
    await tx
      .insertInto('traffic_daily')
      .values(daily)
      .onConflict((oc) =>
        oc.columns(['vps_id', 'source', 'day']).doUpdateSet({
          bytes_out: sql`traffic_daily.bytes_out + excluded.bytes_out`,
          bytes_in: sql`traffic_daily.bytes_in + excluded.bytes_in`,
        }),
      )
      .execute();
  }
  if (flagged.length) await tx.insertInto('traffic_flagged').values(flagged).execute();

  // The cycles' totals after this reading (for the quota), in one query.
  const totals = await tx
    .selectFrom('traffic_usage')
    .select(['vps_id', 'cycle_start', 'bytes_out', 'bytes_in'])
    .where('source', '=', source)
    .where(
      sql<boolean>`(vps_id, cycle_start) IN (SELECT * FROM unnest(${ids}::uuid[], ${readings.map((r) => results.get(r.vpsId)!.cycle.start.toISOString())}::timestamptz[]))`,
    )
    .execute();
  const total = new Map(totals.map((t) => [t.vps_id, t]));
  return readings.map((r) => {
    const x = results.get(r.vpsId)!;
    const t = total.get(r.vpsId);
    return {
      vpsId: r.vpsId,
      cycle: x.cycle,
      bytesOut: BigInt(t?.bytes_out ?? '0'),
      bytesIn: BigInt(t?.bytes_in ?? '0'),
      counted: x.counted,
      flagged: x.flagged,
    };
  });
}

function flagRow(r: PortReading, source: string, direction: 'out' | 'in', s: TrafficSample) {
  return {
    vps_id: r.vpsId,
    source,
    direction,
    sample_kind: s.kind,
    flag: s.flag!,
    from_at: s.from === null ? null : new Date(s.from),
    to_at: new Date(s.to),
    raw_delta: s.rawDelta.toString(),
    counter_id: r.counterId,
  };
}

export async function cycleUsage(db: Db, vpsId: string, source: TrafficSource, cycleStart: Date) {
  const r = await db
    .selectFrom('traffic_usage')
    .select(['bytes_out', 'bytes_in', 'flagged', 'updated_at'])
    .where('vps_id', '=', vpsId)
    .where('source', '=', source)
    .where('cycle_start', '=', cycleStart)
    .executeTakeFirst();
  return {
    bytesOut: BigInt(r?.bytes_out ?? '0'),
    bytesIn: BigInt(r?.bytes_in ?? '0'),
    flagged: r?.flagged ?? 0,
    updatedAt: r?.updated_at ?? null,
  };
}

/** Daily buckets of [from, to) (UTC days), zero-filled. */
export async function dailySeries(db: Db, vpsId: string, source: TrafficSource, from: Date, to: Date) {
  const rows = await db
    .selectFrom('traffic_daily')
    .select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'bytes_out', 'bytes_in'])
    .where('vps_id', '=', vpsId)
    .where('source', '=', source)
    .where('day', '>=', utcDay(from))
    .where('day', '<=', utcDay(to))
    .orderBy('day')
    .execute();
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const out: { day: string; bytesOut: string; bytesIn: string }[] = [];
  for (
    let d = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
    d <= to.getTime();
    d += 86_400_000
  ) {
    const k = utcDay(new Date(d));
    const r = byDay.get(k);
    out.push({ day: k, bytesOut: r?.bytes_out ?? '0', bytesIn: r?.bytes_in ?? '0' });
  }
  return out;
}
