// The sliding windows of the anti-spam signals (R7.1), in memory: a few seconds behind the
// traffic, never stored (only an identification keeps its numbers). Per VPS: the samples of its
// port-25 SYN counter over the last minute, its distinct destinations of the last hour, and the
// analyzer's counts over the last 10 minutes. After a block is lifted the windows restart from
// that moment, so the traffic that caused it does not identify the VPS again (R7.4: only a new
// identification starts the next rung). Lost at a restart: the windows fill again within minutes.
import type { SmtpContentCounts, SmtpHostStats } from '../../agent/host-agent.ts';
import { HOUR, MINUTE } from '../../domain/clock.ts';
import type { SpamStats } from '../../domain/spam.ts';

interface VpsWindow {
  syn: { at: number; value: bigint }[];
  destinations: number;
  /** Destinations already in the set when the window restarted (subtracted for an hour). */
  baseline: { destinations: number; until: number } | null;
  restartAt: number | null;
  content: { at: number; c: SmtpContentCounts }[];
}

const emptyCounts = (): SmtpContentCounts => ({
  messages: 0,
  recipients: 0,
  spam: 0,
  scoreSum: 0,
  maxScore: 0,
  encryptedSessions: 0,
});

export function createSpamWindows() {
  const windows = new Map<string, VpsWindow>();
  const get = (id: string) => {
    let w = windows.get(id);
    if (!w) windows.set(id, (w = { syn: [], destinations: 0, baseline: null, restartAt: null, content: [] }));
    return w;
  };

  function stats(w: VpsWindow, now: number): SpamStats {
    const last = w.syn[w.syn.length - 1];
    // The newest sample at least a minute old is the base; else the oldest (a partial minute).
    let base = w.syn[0];
    for (const s of w.syn) if (s.at <= now - MINUTE) base = s;
    const conns = last && base ? Number(last.value - base.value) : 0;
    const dest =
      w.baseline && now < w.baseline.until
        ? Math.max(0, w.destinations - w.baseline.destinations)
        : w.destinations;
    const c = emptyCounts();
    for (const e of w.content) {
      c.messages += e.c.messages;
      c.recipients += e.c.recipients;
      c.spam += e.c.spam;
      c.scoreSum += e.c.scoreSum;
      c.maxScore = Math.max(c.maxScore, e.c.maxScore);
      c.encryptedSessions += e.c.encryptedSessions;
    }
    return {
      smtpConnectionsPerMinute: conns,
      smtpDestinationsPerHour: dest,
      messages10min: c.messages,
      recipients10min: c.recipients,
      spamMessages10min: c.spam,
      encryptedSessions10min: c.encryptedSessions,
      maxScore10min: Math.round(c.maxScore * 100) / 100,
      meanScore10min: c.messages ? Math.round((c.scoreSum / c.messages) * 100) / 100 : 0,
    };
  }

  return {
    /** Feeds one host's reading; returns each VPS's current statistics. */
    observe(reading: SmtpHostStats, at: Date): Map<string, SpamStats> {
      const now = at.getTime();
      const ids = new Set([...Object.keys(reading.flows), ...Object.keys(reading.content)]);
      const out = new Map<string, SpamStats>();
      for (const id of ids) {
        const w = get(id);
        const f = reading.flows[id];
        if (f) {
          const value = BigInt(f.syn);
          const prev = w.syn[w.syn.length - 1];
          if (prev && value < prev.value) w.syn = []; // counter recreated
          if (w.restartAt !== null) {
            // First reading after a restart: what the set already holds is the baseline.
            w.baseline = { destinations: f.destinations, until: w.restartAt + HOUR };
            w.syn = [];
            w.restartAt = null;
          }
          w.syn.push({ at: now, value });
          w.syn = w.syn.filter((s, i, all) => s.at > now - 2 * MINUTE || i === all.length - 1);
          w.destinations = f.destinations;
        }
        const c = reading.content[id];
        if (c) w.content.push({ at: now, c });
        w.content = w.content.filter((e) => e.at > now - 10 * MINUTE);
        out.set(id, stats(w, now));
      }
      return out;
    },
    /** The block of this VPS was lifted: its windows start again now. */
    restart(vpsId: string, at: Date): void {
      const w = get(vpsId);
      w.restartAt = at.getTime();
      w.content = [];
      w.syn = [];
    },
    forget(vpsId: string): void {
      windows.delete(vpsId);
    },
  };
}
export type SpamWindows = ReturnType<typeof createSpamWindows>;
