// Backup rules as pure functions (R3.6, R3.7): retention, the daily slot of a VPS, the
// restore allowance per calendar month in Europe/Paris.

/** R3.6: snapshots are kept 15 days sliding. */
export const RETENTION_DAYS = 15;
/** R3.7: a client may ask for 2 restores per calendar month (Europe/Paris); staff's are not counted. */
export const CLIENT_RESTORES_PER_MONTH = 2;
/** Backups running at once on one host (its disks and CPU); a target has its own limit. */
export const HOST_BACKUP_CONCURRENCY = 2;
/** A failed backup is tried again after this long; after MAX_DAILY_FAILURES in 24 h staff are alerted. */
export const RETRY_AFTER_MS = 60 * 60_000;
export const MAX_DAILY_FAILURES = 3;

const DAY_MS = 86_400_000;

/** Backups started before this instant are past the retention (forgotten and pruned). */
export const retentionCutoff = (now: Date): Date => new Date(now.getTime() - RETENTION_DAYS * DAY_MS);

/**
 * The VPS's slot in the day (ms after 00:00 UTC), from its id: the backups of a host spread
 * over 24 h instead of all starting at midnight (scale.md).
 */
export function dailySlotMs(vpsId: string): number {
  let h = 2166136261;
  for (let i = 0; i < vpsId.length; i++) {
    h ^= vpsId.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h % DAY_MS;
}

/**
 * R3.6: is a backup due? Never done: at once. Else once the last success is 24 h old and the
 * VPS's slot of today has come (or 48 h have gone by: catching up). A failure is retried after
 * RETRY_AFTER_MS, at most MAX_DAILY_FAILURES times in 24 h.
 */
export function backupDue(p: {
  vpsId: string;
  now: Date;
  lastSuccessAt: Date | null;
  lastTryAt: Date | null;
  failuresLastDay: number;
}): boolean {
  const now = p.now.getTime();
  if (p.failuresLastDay >= MAX_DAILY_FAILURES) return false;
  if (p.lastTryAt && p.failuresLastDay > 0 && now - p.lastTryAt.getTime() < RETRY_AFTER_MS) return false;
  if (!p.lastSuccessAt) return true;
  const since = now - p.lastSuccessAt.getTime();
  if (since < DAY_MS) return false;
  if (since >= 2 * DAY_MS) return true;
  return now % DAY_MS >= dailySlotMs(p.vpsId);
}

const parisParts = (d: Date) => {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Paris',
    year: 'numeric',
    month: '2-digit',
  }).formatToParts(d);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { year: get('year'), month: get('month') };
};

/** R3.7: the calendar month (Europe/Paris) a request falls in, `YYYY-MM`. */
export function parisMonth(d: Date): string {
  const { year, month } = parisParts(d);
  return `${year}-${String(month).padStart(2, '0')}`;
}

/** R3.7: the first day of the next Paris month (`YYYY-MM-01`): when a refused request becomes possible. */
export function nextParisMonthStart(d: Date): string {
  const { year, month } = parisParts(d);
  const y = month === 12 ? year + 1 : year;
  const m = month === 12 ? 1 : month + 1;
  return `${y}-${String(m).padStart(2, '0')}-01`;
}
