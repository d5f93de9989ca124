// The ladder of sanctions (R3.14, R5.1, R6.4, R6.5, R12.3, R12.5, R12.6): which rung a breach
// calls for, from its kind, its severity and the client's recent history. Pure.
//
// Rungs, least to most severe: warning, restriction (ports or protocols blocked), limitation
// (bandwidth cap), suspension (VM paused, network cut), isolation (cut off until reinstall,
// R6.4: security only), termination (R12.3).
//
// The rule (documented in docs/contract.md, R12.5):
// - each kind and severity has a base rung (BASE below);
// - recurrence: each earlier case of the same kind within the window (12 months) moves one
//   rung up the kind's path (non-security kinds skip isolation: it is the security rung);
//   termination is only ever suggested for a serious or critical case;
// - R5.1 "after repeated or serious cases the provider may refuse to restore": from the third
//   serious-or-critical case within the window (this one included), restoring may be refused.
// Staff may choose another rung with a reason; the suggestion is recorded next to it.

export const RUNGS = [
  'warning',
  'restriction',
  'limitation',
  'suspension',
  'isolation',
  'termination',
] as const;
export type Rung = (typeof RUNGS)[number];

export const BREACH_KINDS = [
  'spam',
  'intrusion',
  'spoofing',
  'proxy',
  'card_sharing',
  'p2p_irc',
  'compromised',
  'security_hole',
  'unpaid',
  'authority_order',
  'other',
] as const;
export type BreachKind = (typeof BREACH_KINDS)[number];

export const SEVERITIES = ['minor', 'serious', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rungs an authority may order (R12.6). */
export const AUTHORITY_RUNGS = ['restriction', 'limitation', 'suspension'] as const;
export type AuthorityRung = (typeof AUTHORITY_RUNGS)[number];

/** Recurrence window (R12.5): cases older than this do not count. */
export const RECURRENCE_WINDOW_MONTHS = 12;
/** R5.1: from this many serious-or-critical cases in the window (this one included), restoring may be refused. */
export const REFUSE_RESTORE_FROM_SERIOUS_CASES = 3;

export const rungIndex = (r: Rung): number => RUNGS.indexOf(r);
export const isMoreSevere = (a: Rung, b: Rung): boolean => rungIndex(a) > rungIndex(b);

const SECURITY_KINDS: readonly BreachKind[] = ['compromised', 'security_hole'];
export const isSecurityKind = (k: BreachKind): boolean => SECURITY_KINDS.includes(k);

const BASE: Record<BreachKind, Record<Severity, Rung>> = {
  spam: { minor: 'restriction', serious: 'restriction', critical: 'suspension' },
  intrusion: { minor: 'restriction', serious: 'suspension', critical: 'suspension' },
  spoofing: { minor: 'restriction', serious: 'suspension', critical: 'suspension' },
  proxy: { minor: 'warning', serious: 'restriction', critical: 'suspension' },
  card_sharing: { minor: 'restriction', serious: 'suspension', critical: 'termination' },
  p2p_irc: { minor: 'warning', serious: 'limitation', critical: 'restriction' },
  compromised: { minor: 'isolation', serious: 'isolation', critical: 'isolation' },
  security_hole: { minor: 'warning', serious: 'isolation', critical: 'isolation' },
  // R6.5: unpaid licences allow suspension without notice.
  unpaid: { minor: 'suspension', serious: 'suspension', critical: 'suspension' },
  // R12.6: the authority's order decides; this is only the default when none is given.
  authority_order: { minor: 'restriction', serious: 'suspension', critical: 'suspension' },
  other: { minor: 'warning', serious: 'restriction', critical: 'suspension' },
};

/** An earlier case of the client (sanctions applied, lifted or not). */
export interface PastCase {
  kind: BreachKind;
  severity: Severity;
  at: Date;
}

export interface LadderInput {
  kind: BreachKind;
  severity: Severity;
  now: Date;
  history: readonly PastCase[];
}

export interface LadderDecision {
  rung: Rung;
  baseRung: Rung;
  /** Earlier cases of the same kind within the window. */
  recurrences: number;
  /** Serious-or-critical cases within the window, this one included. */
  seriousCases: number;
  /** R5.1: staff may refuse to restore the service (the lift needs an admin's override). */
  restoreMayBeRefused: boolean;
  /** The defaults of a restriction for this kind (spam: outbound SMTP), when it has any. */
  restriction: {
    protocol: 'tcp' | 'udp' | 'icmp' | 'all';
    port?: number;
    direction: 'in' | 'out' | 'both';
  } | null;
  /** R6.4: the client must reinstall before the service comes back. */
  reinstallNeeded: boolean;
}

/** Start of the recurrence window ending at `now` (UTC months, clamped at month ends). */
export function windowStart(now: Date, months = RECURRENCE_WINDOW_MONTHS): Date {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth() - months;
  const target = new Date(Date.UTC(y, m, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      target.getUTCFullYear(),
      target.getUTCMonth(),
      Math.min(now.getUTCDate(), lastDay),
      now.getUTCHours(),
      now.getUTCMinutes(),
      now.getUTCSeconds(),
      now.getUTCMilliseconds(),
    ),
  );
}

function pathOf(kind: BreachKind): readonly Rung[] {
  return isSecurityKind(kind) ? RUNGS : RUNGS.filter((r) => r !== 'isolation');
}

/** The rung a breach calls for (R12.5), and whether restoring may be refused (R5.1). */
export function suggestSanction(input: LadderInput): LadderDecision {
  const from = windowStart(input.now);
  const recent = input.history.filter(
    (c) => c.at.getTime() > from.getTime() && c.at.getTime() <= input.now.getTime(),
  );
  const recurrences = recent.filter((c) => c.kind === input.kind).length;
  const seriousCases =
    recent.filter((c) => c.severity !== 'minor').length + (input.severity !== 'minor' ? 1 : 0);
  const baseRung = BASE[input.kind][input.severity];
  const path = pathOf(input.kind);
  let at = path.indexOf(baseRung);
  if (at < 0) at = path.indexOf('suspension');
  let rung = path[Math.min(at + recurrences, path.length - 1)]!;
  // Termination is never suggested for a minor case: it stops one rung below.
  if (rung === 'termination' && input.severity === 'minor' && baseRung !== 'termination')
    rung = path[path.length - 2]!;
  return {
    rung,
    baseRung,
    recurrences,
    seriousCases,
    restoreMayBeRefused: seriousCases >= REFUSE_RESTORE_FROM_SERIOUS_CASES,
    restriction: input.kind === 'spam' ? { protocol: 'tcp', port: 25, direction: 'out' } : null,
    reinstallNeeded: rung === 'isolation',
  };
}

/** R12.6: the breach an authority's order is recorded as. */
export function authorityCase(): { kind: BreachKind; severity: Severity } {
  return { kind: 'authority_order', severity: 'serious' };
}
