// The log store (R6.2): the client of a VPS enables it (off by default), gets the line for its
// syslog configuration, sees its volume per day and downloads any range of days (streamed).
// The receiver (`syslog-receiver.ts`) hands each VPS's lines here in batches: one zstd frame
// appended to the day's segment (storage/log-segments.ts), the counters in one transaction,
// the quota checked (80 %: warned once, audited; 100 %: new lines dropped and counted). A day
// over is sealed: its file's sha256 chained to the VPS's previous segment. A segment is kept 12
// months after its day ends and deleted whole the day after (the retention purge).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { invalidData } from '../../domain/errors.ts';
import { addMonthsUtc } from '../../domain/retention.ts';
import { nextDay, segmentChainInput, utcDay } from '../../domain/syslog.ts';
import {
  addToSegment,
  enabledSenders,
  getLogStore,
  lastChainHash,
  markSegmentDeleted,
  sealedSegments,
  sealSegment,
  segmentsEndedBy,
  segmentsOf,
  setLogStore,
  setQuotaFlags,
  unsealedBefore,
  type Sender,
} from '../repositories/log-store.ts';
import { GENESIS_HASH } from '../repositories/audit.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { getVps } from '../repositories/vps.ts';
import { createSegmentStore } from '../storage/log-segments.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type AuditActor, type Scope, type ServiceContext } from './context.ts';

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const MIB = 1024 * 1024;

/**
 * The newest day whose segment is due for deletion at `now`: day D ends at D+1 00:00 and is kept
 * 12 months from then, so it goes once D+1 + 12 months has come (the daily purge: the day after).
 */
export function lastDueDay(now: Date): string {
  const cutoff = utcDay(addMonthsUtc(now, -12));
  return utcDay(new Date(Date.parse(`${cutoff}T00:00:00Z`) - 86_400_000));
}

export interface ChainProblem {
  vpsId: string;
  day: string;
  reason: string;
}

export function createLogStoreService(ctx: ServiceContext, audit: AuditService) {
  const files = createSegmentStore(ctx.config.dataDir);
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((l) => l());
  const quotaBytes = () => ctx.config.logStoreQuotaMib * MIB;

  function syslogTarget() {
    const host = ctx.config.syslogPublicHost ?? ctx.config.syslogHost;
    const port = ctx.config.syslogTlsPort;
    return {
      host,
      port,
      // rsyslog (Debian image): TLS with octet-counted frames, RFC 5425.
      line:
        port > 0
          ? `*.* @@(o)${host}:${port};RSYSLOG_SyslogProtocol23Format  # with $DefaultNetstreamDriver gtls`
          : null,
    };
  }

  /** Day range checks: well-formed, from ≤ to, not older than what the store keeps, not in the future. */
  function checkRange(from: string, to: string) {
    if (!DAY_RE.test(from) || Number.isNaN(Date.parse(from)))
      throw invalidData('validation.from', 'from must be a day, YYYY-MM-DD', { field: 'from' });
    if (!DAY_RE.test(to) || Number.isNaN(Date.parse(to)))
      throw invalidData('validation.to', 'to must be a day, YYYY-MM-DD', { field: 'to' });
    if (from > to) throw invalidData('validation.to', 'to must not be before from', { field: 'to' });
    const today = utcDay(ctx.clock.now());
    const oldest = nextDay(lastDueDay(ctx.clock.now()));
    if (from < oldest || to > today)
      throw invalidData(
        'log_store.range',
        `The store keeps the days from ${oldest} to ${today} (12 months): ask within them`,
        { field: 'from', oldest, today },
      );
  }

  return {
    onChange(fn: () => void) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },

    senders(): Promise<Sender[]> {
      return enabledSenders(ctx.db);
    },

    async status(scope: Scope, vpsId: string) {
      await getVps(ctx.db, scope, vpsId); // another account's VPS: 404
      const s = await getLogStore(ctx.db, vpsId);
      const days = await segmentsOf(ctx.db, scope, vpsId);
      return {
        enabled: s?.enabled ?? false,
        syslog: syslogTarget(),
        quotaBytes: Number(s?.quota_bytes ?? quotaBytes()),
        usedBytes: Number(s?.used_bytes ?? 0),
        warned: Boolean(s?.warned_at),
        full: Boolean(s?.full_at),
        days: days.map((d) => ({
          day: d.day,
          lines: Number(d.lines),
          rawBytes: Number(d.raw_bytes),
          storedBytes: Number(d.stored_bytes),
          dropped: Number(d.dropped),
          sealed: d.sealed_at !== null,
        })),
      };
    },

    async setEnabled(scope: Scope, vpsId: string, enabled: boolean, actor: AuditActor) {
      const vps = await getVps(ctx.db, scope, vpsId);
      await setLogStore(ctx.db, {
        vpsId,
        accountId: vps.account_id,
        enabled,
        at: ctx.clock.now(),
        quotaBytes: quotaBytes(),
      });
      await audit.record(actor, enabled ? 'log_store.enable' : 'log_store.disable', {
        type: 'vps',
        id: vpsId,
      });
      changed();
    },

    /**
     * A batch of one VPS's lines (each ending in "\n"). Returns false when the store is full
     * (the lines are dropped and counted).
     */
    async ingest(s: Sender, data: Uint8Array, lines: number): Promise<boolean> {
      const now = ctx.clock.now();
      const day = utcDay(now);
      if (s.full) {
        await inTransaction(ctx.db, (tx) =>
          addToSegment(tx, {
            vpsId: s.vpsId,
            accountId: s.accountId,
            day,
            lines: 0,
            raw: 0,
            stored: 0,
            dropped: lines,
          }),
        );
        return false;
      }
      const stored = await files.append(s.vpsId, day, data);
      const after = await inTransaction(ctx.db, (tx) =>
        addToSegment(tx, {
          vpsId: s.vpsId,
          accountId: s.accountId,
          day,
          lines,
          raw: data.length,
          stored,
          dropped: 0,
        }),
      );
      if (after) {
        const used = Number(after.used_bytes);
        const quota = Number(after.quota_bytes);
        if (used >= quota && !after.full_at) {
          await setQuotaFlags(ctx.db, s.vpsId, { full_at: now });
          await audit.record(SYSTEM_ACTOR, 'log_store.full', { type: 'vps', id: s.vpsId }, { used, quota });
          s.full = true;
          changed();
        } else if (used >= quota * 0.8 && !after.warned_at) {
          await setQuotaFlags(ctx.db, s.vpsId, { warned_at: now });
          await audit.record(SYSTEM_ACTOR, 'log_store.warned', { type: 'vps', id: s.vpsId }, { used, quota });
        }
      }
      return true;
    },

    /** Streams the lines of days [from, to] as they were received, day after day. */
    async download(scope: Scope, vpsId: string, from: string, to: string): Promise<Readable> {
      checkRange(from, to);
      await getVps(ctx.db, scope, vpsId);
      const days = await segmentsOf(ctx.db, scope, vpsId, from, to);
      async function* lines() {
        for (const d of days) {
          if (Number(d.stored_bytes) === 0) continue;
          for await (const chunk of files.readLines(vpsId, d.day)) yield chunk as Buffer;
        }
      }
      return Readable.from(lines(), { objectMode: false });
    },

    /** Seals every segment of a day before today: its file's sha256, chained to the previous. */
    async sealDue(now: Date = ctx.clock.now()): Promise<number> {
      const rows = await unsealedBefore(ctx.db, utcDay(now));
      for (const r of rows) {
        const sha = (await files.sha256(r.vps_id, r.day)) ?? createHash('sha256').digest('hex');
        const prev = (await lastChainHash(ctx.db, r.vps_id)) ?? GENESIS_HASH;
        const chain = createHash('sha256')
          .update(segmentChainInput(prev, r.vps_id, r.day, sha))
          .digest('hex');
        await sealSegment(ctx.db, r.id, { sha256: sha, prev, chain, at: now });
      }
      return rows.length;
    },

    /** Deletes whole segments whose 12 months are over (the day after); rows keep their hashes. */
    async purgeDue(now: Date = ctx.clock.now()): Promise<Record<string, number>> {
      const sealed = await this.sealDue(now);
      const due = await segmentsEndedBy(ctx.db, lastDueDay(now));
      for (const d of due) {
        await files.remove(d.vps_id, d.day);
        await inTransaction(ctx.db, (tx) => markSegmentDeleted(tx, d.id, d.vps_id, d.stored_bytes, now));
      }
      return { sealed, segments: due.length };
    },

    /** Walks every VPS's chain: a changed file, a changed or missing row, a broken link is named. */
    async verify(): Promise<{ ok: boolean; checked: number; problems: ChainProblem[] }> {
      const prevOf = new Map<string, string>();
      const problems: ChainProblem[] = [];
      let checked = 0;
      let after = '0';
      for (;;) {
        const page = await sealedSegments(ctx.db, after);
        if (!page.length) break;
        for (const r of page) {
          after = r.id;
          checked++;
          const expectPrev = prevOf.get(r.vps_id);
          if (expectPrev !== undefined && r.prev_hash !== expectPrev)
            problems.push({ vpsId: r.vps_id, day: r.day, reason: 'link to the previous segment broken' });
          const chain = createHash('sha256')
            .update(segmentChainInput(r.prev_hash ?? '', r.vps_id, r.day, r.sha256 ?? ''))
            .digest('hex');
          if (chain !== r.chain_hash)
            problems.push({
              vpsId: r.vps_id,
              day: r.day,
              reason: 'segment row does not match its chain hash',
            });
          if (!r.deleted_at && Number(r.stored_bytes) > 0) {
            const sha = await files.sha256(r.vps_id, r.day);
            if (sha === null) problems.push({ vpsId: r.vps_id, day: r.day, reason: 'segment file missing' });
            else if (sha !== r.sha256)
              problems.push({ vpsId: r.vps_id, day: r.day, reason: 'segment file changed (sha256 differs)' });
          }
          prevOf.set(r.vps_id, r.chain_hash ?? '');
        }
      }
      return { ok: problems.length === 0, checked, problems };
    },

    /** Each VPS's newest chain hash (what the anchors publish). */
    async heads(): Promise<Record<string, { day: string; chainHash: string }>> {
      const out: Record<string, { day: string; chainHash: string }> = {};
      let after = '0';
      for (;;) {
        const page = await sealedSegments(ctx.db, after);
        if (!page.length) break;
        for (const r of page) {
          after = r.id;
          const cur = out[r.vps_id];
          if (!cur || r.day > cur.day) out[r.vps_id] = { day: r.day, chainHash: r.chain_hash ?? '' };
        }
      }
      return out;
    },

    files,
  };
}
export type LogStoreService = ReturnType<typeof createLogStoreService>;
