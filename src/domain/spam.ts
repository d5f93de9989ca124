// Anti-spam on port 25 (R7.1–R7.6), pure: the signals the host measures, the provider's
// identification rules (data, with documented defaults), the escalation ladder and who may
// lift a block. Nothing here ever sees mail: the signals are numbers (R7.1, R7.6).
import { DAY, HOUR, MINUTE } from './clock.ts';
import { conflict, invalidData } from './errors.ts';
import type { Terms } from './terms.ts';

/**
 * What the host measures, passively (R7.1):
 * - `smtp_connections_per_minute`: new TCP connections to port 25 in the last minute (SYNs
 *   counted in the VPS's own nft chain);
 * - `smtp_destinations_per_hour`: distinct destination addresses on port 25 in the last hour
 *   (a timed nft set per VPS);
 * - `spam_messages_10min`: messages rspamd scored as spam in the last 10 minutes, from the
 *   mirrored copy of plaintext SMTP (never after STARTTLS);
 * - `spam_ratio_10min`: the share (0–1) of scored messages that were spam in the last 10
 *   minutes (a rule on it also needs `minMessages`).
 */
export const SPAM_SIGNALS = [
  'smtp_connections_per_minute',
  'smtp_destinations_per_hour',
  'spam_messages_10min',
  'spam_ratio_10min',
] as const;
export type SpamSignal = (typeof SPAM_SIGNALS)[number];

/** The window each signal is measured over. */
export const SIGNAL_WINDOW_MS: Readonly<Record<SpamSignal, number>> = Object.freeze({
  smtp_connections_per_minute: MINUTE,
  smtp_destinations_per_hour: HOUR,
  spam_messages_10min: 10 * MINUTE,
  spam_ratio_10min: 10 * MINUTE,
});

export interface SpamRule {
  readonly id: string;
  readonly signal: SpamSignal;
  /** Identified when the signal reaches this value (≥). */
  readonly threshold: number;
  /** For ratio rules: the least number of scored messages before the ratio counts. */
  readonly minMessages?: number;
  readonly reason: string;
}

/**
 * Default rules (R7.2), with why. A provider changes them in the console; each rule names its
 * signal, so a rule on an unknown signal is refused.
 */
export const DEFAULT_SPAM_RULES: readonly SpamRule[] = Object.freeze([
  {
    id: 'spam-scored',
    signal: 'spam_messages_10min',
    threshold: 10,
    reason:
      'Ten messages scored as spam by rspamd within 10 minutes: a compromised form or account sending a campaign; one or two can be a false positive.',
  },
  {
    id: 'spam-ratio',
    signal: 'spam_ratio_10min',
    threshold: 0.5,
    minMessages: 20,
    reason:
      'Half of at least 20 messages in 10 minutes scored as spam: a server that mostly sends spam, even at a low rate.',
  },
  {
    id: 'connection-burst',
    signal: 'smtp_connections_per_minute',
    threshold: 300,
    reason:
      'Over 300 new port-25 connections in a minute: far above any legitimate server sending directly to recipients; the mark of a spam bot, encrypted or not.',
  },
  {
    id: 'destination-burst',
    signal: 'smtp_destinations_per_hour',
    threshold: 500,
    reason:
      'Over 500 distinct mail servers in an hour: a legitimate server sends through a few relays or to its regular recipients; spam fans out (counted even after STARTTLS).',
  },
] satisfies SpamRule[]);

/** Refuses rules with an unknown signal, a bad threshold or duplicated ids: clear errors. */
export function validateSpamRules(rules: readonly SpamRule[]): void {
  const ids = new Set<string>();
  rules.forEach((r, i) => {
    const field = `rules[${i}]`;
    if (!(SPAM_SIGNALS as readonly string[]).includes(r.signal))
      throw invalidData(
        'spam.rule_signal',
        `Rule ${r.id || i}: unknown signal "${String(r.signal)}" (known: ${SPAM_SIGNALS.join(', ')})`,
        { field: `${field}.signal`, known: SPAM_SIGNALS },
      );
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(r.id))
      throw invalidData('spam.rule_id', `Rule ${i}: an id is 1–63 lower-case letters, digits or dashes`, {
        field: `${field}.id`,
      });
    if (ids.has(r.id))
      throw invalidData('spam.rule_id', `Rule id ${r.id} appears twice`, { field: `${field}.id` });
    ids.add(r.id);
    const max = r.signal === 'spam_ratio_10min' ? 1 : 1e9;
    if (!Number.isFinite(r.threshold) || r.threshold <= 0 || r.threshold > max)
      throw invalidData(
        'spam.rule_threshold',
        `Rule ${r.id}: the threshold must be above 0 and at most ${max}`,
        { field: `${field}.threshold` },
      );
    if (r.signal === 'spam_ratio_10min' && !(Number.isInteger(r.minMessages) && r.minMessages! >= 1))
      throw invalidData('spam.rule_min_messages', `Rule ${r.id}: a ratio rule needs minMessages ≥ 1`, {
        field: `${field}.minMessages`,
      });
    if (r.reason.trim().length < 3)
      throw invalidData('spam.rule_reason', `Rule ${r.id}: say why (shown to staff)`, {
        field: `${field}.reason`,
      });
  });
}

/** The numbers a VPS's signals are read from (R7.1: numbers only). */
export interface SpamStats {
  smtpConnectionsPerMinute: number;
  smtpDestinationsPerHour: number;
  /** Last 10 minutes, from the mirror. */
  messages10min: number;
  recipients10min: number;
  spamMessages10min: number;
  /** Sessions after STARTTLS (not scored) in the last 10 minutes. */
  encryptedSessions10min: number;
  /** Highest and mean rspamd score over the last 10 minutes (0 when no message). */
  maxScore10min: number;
  meanScore10min: number;
}

export function signalValue(s: SpamStats, signal: SpamSignal): number {
  switch (signal) {
    case 'smtp_connections_per_minute':
      return s.smtpConnectionsPerMinute;
    case 'smtp_destinations_per_hour':
      return s.smtpDestinationsPerHour;
    case 'spam_messages_10min':
      return s.spamMessages10min;
    case 'spam_ratio_10min':
      return s.messages10min === 0 ? 0 : s.spamMessages10min / s.messages10min;
  }
}

/** The first rule the stats cross (R7.2), with the observed value; null when none. */
export function crossedRule(
  rules: readonly SpamRule[],
  s: SpamStats,
): { rule: SpamRule; observed: number } | null {
  for (const rule of rules) {
    if (rule.signal === 'spam_ratio_10min' && s.messages10min < (rule.minMessages ?? 1)) continue;
    const observed = signalValue(s, rule.signal);
    if (observed >= rule.threshold) return { rule, observed };
  }
  return null;
}

/**
 * R7.4: the n-th block (1-based) within the window lasts ladder[n-1]; past the ladder each
 * new block doubles the last one, so every new identification blocks longer.
 */
export function blockDurationMs(terms: Terms, rung: number): number {
  const ladder = terms.smtpBlockLadderMs;
  if (!Number.isInteger(rung) || rung < 1) throw new Error(`rung must be ≥ 1, got ${rung}`);
  if (rung <= ladder.length) return ladder[rung - 1]!;
  return ladder[ladder.length - 1]! * 2 ** (rung - ladder.length);
}

/** The first moment a block counted in the rolling window starts (R7.4: 12 months). */
export function ladderWindowStart(terms: Terms, now: Date): Date {
  const d = new Date(now.getTime());
  d.setUTCMonth(d.getUTCMonth() - terms.smtpBlockLadderWindowMonths);
  return d;
}

/** R7.5: from this rung on, an unblock request goes to staff, who may refuse it. */
export const staffDecides = (terms: Terms, rung: number): boolean =>
  rung >= terms.smtpUnblockRefusableFromBlock;

export type SpamBlockState = 'in_force' | 'unblock_requested' | 'lifted' | 'refused';

/**
 * R7.3, R7.5: what a client's unblock request does: refused before the minimum duration (the
 * error says how long is left), on a block no longer in force, or twice; from the refusable
 * rung it waits for staff.
 */
export function unblockOutcome(
  terms: Terms,
  b: { state: SpamBlockState; rung: number; minUntil: Date },
  now: Date,
): 'lift' | 'to_staff' {
  if (b.state === 'unblock_requested')
    throw conflict('spam.unblock_pending', 'An unblock request for this block is already waiting for staff');
  if (b.state === 'lifted') throw conflict('spam.not_blocked', 'This block was already lifted');
  if (b.state === 'refused')
    throw conflict(
      'spam.unblock_refused',
      'The provider refused to lift this block (R7.5); contact support through a ticket',
    );
  const left = b.minUntil.getTime() - now.getTime();
  if (left > 0)
    throw conflict(
      'spam.too_early',
      `Port 25 stays blocked for at least ${formatDuration(left)} more (until ${b.minUntil.toISOString()})`,
      { minUntil: b.minUntil.toISOString(), secondsLeft: Math.ceil(left / 1000) },
    );
  return staffDecides(terms, b.rung) ? 'to_staff' : 'lift';
}

/** "1 h 5 min", "3 d 2 h", "40 s": for error messages. */
export function formatDuration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  if (ms < HOUR) return `${Math.ceil(ms / MINUTE)} min`;
  if (ms < DAY) {
    const h = Math.floor(ms / HOUR);
    const m = Math.ceil((ms - h * HOUR) / MINUTE);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(ms / DAY);
  const h = Math.ceil((ms - d * DAY) / HOUR);
  return h ? `${d} d ${h} h` : `${d} d`;
}
