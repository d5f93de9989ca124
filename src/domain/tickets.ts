// Support tickets (R4.3, R3.10, R3.8's ticket side) as pure rules: the status machine, kinds,
// priorities and their response timers, the time-entry bounds and the included-time ledger.
// Services load and persist; everything decided about a ticket is decided here.
import { DAY, HOUR, MINUTE } from './clock.ts';
import { billingCycleAt } from './contracts.ts';
import { conflict, invalidData } from './errors.ts';

export const ticketKinds = ['admin_request', 'incident_report', 'billing', 'abuse'] as const;
export type TicketKind = (typeof ticketKinds)[number];

export const ticketPriorities = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketPriority = (typeof ticketPriorities)[number];

export const ticketStatuses = [
  'new',
  'open',
  'waiting_client',
  'waiting_provider',
  'resolved',
  'closed',
] as const;
export type TicketStatus = (typeof ticketStatuses)[number];

/** Who wrote a message or opened a ticket. */
export type TicketParty = 'client' | 'staff' | 'platform';

/**
 * Where a ticket came from: the client's panel, API or mail, staff for a client, or the
 * platform itself (supervision R3.8, host incidents R4.1, planned works R4.2).
 */
export const ticketSources = ['panel', 'api', 'email', 'staff', 'supervision', 'incident', 'works'] as const;
export type TicketSource = (typeof ticketSources)[number];

/** Staff may set these by hand; `new` is only where a ticket starts. */
const STAFF_MOVES: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  new: ['open', 'waiting_client', 'waiting_provider', 'resolved', 'closed'],
  open: ['waiting_client', 'waiting_provider', 'resolved', 'closed'],
  waiting_client: ['open', 'waiting_provider', 'resolved', 'closed'],
  waiting_provider: ['open', 'waiting_client', 'resolved', 'closed'],
  resolved: ['open', 'closed'],
  closed: [],
};

/** A staff member sets a status by hand. Closed is for good: a new ticket is opened instead. */
export function staffSetStatus(from: TicketStatus, to: TicketStatus): TicketStatus {
  if (from === to) return to;
  if (!STAFF_MOVES[from].includes(to))
    throw conflict('ticket.bad_transition', `A ticket cannot go from ${from} to ${to}`, { from, to });
  return to;
}

/**
 * The status after a message. A client's message on a ticket waiting for it, or resolved,
 * reopens it for the provider (R4.3: "reopen by reply"); a staff reply waits for the client
 * unless staff say otherwise; an internal note changes nothing. Closed tickets take no message.
 */
export function statusAfterMessage(
  from: TicketStatus,
  by: TicketParty,
  opts: { internal?: boolean; staffStatus?: TicketStatus } = {},
): TicketStatus {
  if (from === 'closed')
    throw conflict(
      'ticket.closed',
      'This ticket is closed for good: open a new ticket (you may quote this one’s number)',
    );
  if (opts.internal) return from;
  if (by === 'client') return from === 'new' ? 'new' : 'waiting_provider';
  if (by === 'platform') return from;
  const to = opts.staffStatus ?? 'waiting_client';
  return from === to ? to : staffSetStatus(from, to);
}

/** First-response and resolution targets by priority (the timers of the staff queue). */
export const RESPONSE_TARGETS: Readonly<
  Record<TicketPriority, { firstResponseMs: number; resolutionMs: number }>
> = {
  urgent: { firstResponseMs: 1 * HOUR, resolutionMs: 4 * HOUR },
  high: { firstResponseMs: 4 * HOUR, resolutionMs: 1 * DAY },
  normal: { firstResponseMs: 8 * HOUR, resolutionMs: 3 * DAY },
  low: { firstResponseMs: 1 * DAY, resolutionMs: 7 * DAY },
};

/** When the first staff answer and the resolution are due for a ticket opened at `at`. */
export function responseDeadlines(
  priority: TicketPriority,
  at: Date,
): { firstResponseDue: Date; resolutionDue: Date } {
  const t = RESPONSE_TARGETS[priority];
  return {
    firstResponseDue: new Date(at.getTime() + t.firstResponseMs),
    resolutionDue: new Date(at.getTime() + t.resolutionMs),
  };
}

/** The default priority of a kind: an incident report (R4.3) is high, the rest normal. */
export const defaultPriority = (kind: TicketKind): TicketPriority =>
  kind === 'incident_report' ? 'high' : 'normal';

/**
 * Auto-close (setting: days without answer): a ticket waiting for the client or resolved, whose
 * last change is older than `days`, is closed.
 */
export function isStale(status: TicketStatus, lastActivity: Date, now: Date, days: number): boolean {
  return (
    (status === 'waiting_client' || status === 'resolved') &&
    now.getTime() - lastActivity.getTime() >= days * DAY
  );
}

// ---- the R3.10 ledger -------------------------------------------------------------------

/** One time entry: a whole number of minutes, more than 0, at most 8 h (R3.10). */
export const MAX_ENTRY_MINUTES = 480;

export function checkMinutes(minutes: unknown, field = 'minutes'): number {
  if (typeof minutes !== 'number' || !Number.isInteger(minutes))
    throw invalidData(`validation.${field}`, 'Minutes are a whole number (1-minute grain)', { field });
  if (minutes <= 0) throw invalidData(`validation.${field}`, 'Minutes spent must be more than 0', { field });
  if (minutes > MAX_ENTRY_MINUTES)
    throw invalidData(
      `validation.${field}`,
      `At most ${MAX_ENTRY_MINUTES} minutes (8 h) for one entry: split longer work`,
      { field },
    );
  return minutes;
}

/**
 * R3.10: minutes are recorded on every staff reply or action on an admin request; they are
 * optional elsewhere. Only admin requests not caused by the provider consume the included
 * time: incident reports (R4.3) and provider-caused tickets never do.
 */
export const minutesRequired = (kind: TicketKind): boolean => kind === 'admin_request';
export const consumesIncludedTime = (kind: TicketKind, providerCaused: boolean): boolean =>
  kind === 'admin_request' && !providerCaused;

/** The billing month of a contract (its billing anchor, R3.10 "per billing month") holding `at`. */
export function supportMonth(billingAnchor: Date, at: Date): { start: Date; end: Date } {
  const c = billingCycleAt(billingAnchor, at);
  return { start: c.start, end: c.end };
}

export interface SupportBalance {
  includedMinutes: number;
  usedMinutes: number;
  leftMinutes: number;
  /** Start of the billing month, and when the balance is full again. */
  monthStart: Date;
  resetsAt: Date;
}

export function supportBalance(
  includedMs: number,
  usedMinutes: number,
  month: { start: Date; end: Date },
): SupportBalance {
  const included = Math.floor(includedMs / MINUTE);
  return {
    includedMinutes: included,
    usedMinutes,
    leftMinutes: Math.max(0, included - usedMinutes),
    monthStart: month.start,
    resetsAt: month.end,
  };
}

/**
 * How `minutes` of new work split: what the included time still covers, what an accepted quote
 * covers, and what neither does (then the work needs a quote the client accepts first).
 */
export function splitMinutes(
  minutes: number,
  leftIncluded: number,
  leftQuoted: number,
): { included: number; quoted: number; uncovered: number } {
  const included = Math.min(minutes, Math.max(0, leftIncluded));
  const quoted = Math.min(minutes - included, Math.max(0, leftQuoted));
  return { included, quoted, uncovered: minutes - included - quoted };
}

/** An entry may be edited by its author on the (UTC) day it was recorded. */
export function editableBy(entry: { authorId: string; createdAt: Date }, userId: string, now: Date): boolean {
  return (
    entry.authorId === userId && entry.createdAt.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)
  );
}

/** A quote's price: whole minutes at an hourly rate, rounded to the cent. */
export function quoteCents(minutes: number, hourlyRateCents: number): number {
  return Math.round((minutes * hourlyRateCents) / 60);
}

/** "12 min used, 8 left this month, resets on 14 Dec" (FR/EN) — what both sides read. */
export function balanceSentence(b: SupportBalance, language: 'fr' | 'en'): string {
  const day = b.resetsAt.getUTCDate();
  const month = b.resetsAt.getUTCMonth();
  const fr = [
    'janv.',
    'févr.',
    'mars',
    'avr.',
    'mai',
    'juin',
    'juil.',
    'août',
    'sept.',
    'oct.',
    'nov.',
    'déc.',
  ];
  const en = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return language === 'fr'
    ? `${b.usedMinutes} min utilisées, ${b.leftMinutes} restantes ce mois-ci, remise à zéro le ${day} ${fr[month]}`
    : `${b.usedMinutes} min used, ${b.leftMinutes} left this month, resets on ${day} ${en[month]}`;
}

// ---- the signed reply address (mail in) ---------------------------------------------------

/** The local part of a ticket's reply address: `support+<ticket id hex><mac>`; the MAC is computed by the caller. */
export const replyTokenOf = (ticketId: string, macHex: string): string =>
  `${ticketId.replaceAll('-', '').toLowerCase()}${macHex.slice(0, 24).toLowerCase()}`;

/** The ticket id and MAC a token holds (shape only: the caller checks the MAC). */
export function parseReplyToken(token: string): { ticketId: string; mac: string } | null {
  const t = token.toLowerCase();
  if (!/^[0-9a-f]{56}$/.test(t)) return null;
  const h = t.slice(0, 32);
  return {
    ticketId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
    mac: t.slice(32),
  };
}

// ---- mail in (R4.3) -----------------------------------------------------------------------

/**
 * A mail we must not answer nor store: an auto-reply or a loop (RFC 3834 `Auto-Submitted` other
 * than "no", `Precedence: bulk|junk|list|auto_reply`, Microsoft's `X-Auto-Response-Suppress`
 * with `X-Autoreply`/`X-Autorespond`, a mailing list, an empty envelope sender — a bounce).
 */
export function isAutomatic(h: {
  autoSubmitted?: string | undefined;
  precedence?: string | undefined;
  autoReply?: boolean | undefined;
  listId?: string | undefined;
  envelopeFrom?: string | null | undefined;
}): boolean {
  const auto = (h.autoSubmitted ?? '').trim().toLowerCase();
  if (auto && auto !== 'no') return true;
  if (/^(bulk|junk|list|auto_reply)$/i.test((h.precedence ?? '').trim())) return true;
  if (h.autoReply) return true;
  if (h.listId) return true;
  return h.envelopeFrom === '' || h.envelopeFrom === null;
}

const QUOTE_HEADERS = [
  /^On .{1,200} wrote:\s*$/i,
  /^Le .{1,200} a écrit\s*:\s*$/i,
  /^-{2,}\s*Original Message\s*-{2,}\s*$/i,
  /^-{2,}\s*Message d'origine\s*-{2,}\s*$/i,
  /^_{10,}\s*$/,
  /^From:\s.*[@<].*$/i,
  /^De\s?:\s.*[@<].*$/i,
];

/**
 * The new part of a reply: everything before the quoted history ("On … wrote:", "Le … a
 * écrit :", an "Original Message" separator, a forwarded header block) and the signature
 * ("-- "); lines starting with ">" dropped. Trimmed.
 */
export function stripQuoted(text: string): string {
  const out: string[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '-- ' || line === '--') break;
    // "On Mon, 1 Dec 2026 at 10:00, X <x@y>" and "wrote:" are often split over two lines.
    const joined = i + 1 < lines.length ? `${line} ${lines[i + 1]!.trim()}` : line;
    if (QUOTE_HEADERS.some((re) => re.test(line.trim()) || re.test(joined.trim()))) break;
    if (/^\s*>/.test(line)) continue;
    out.push(line);
  }
  return out.join('\n').trim();
}
