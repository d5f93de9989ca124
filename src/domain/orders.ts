// Orders: the state machine and the rules of an order's input (R11.1, R11.2).
//
//   awaiting_payment ──pay──> paid ──validate──> validated   (validation opens the contract)
//          │
//          └──cancel──> cancelled   (its invoice is voided: the number stays used, never reused)
//
// Every change goes through `transitionOrder`, which refuses illegal moves with a conflict.
// Validating an unpaid order is refused (`order.unpaid`); with automatic validation on payment,
// the payment itself moves the order through paid to validated.
import { conflict, invalidData } from './errors.ts';
import { checkTermMonths, type ContractKind } from './contracts.ts';
import { times, type Cents } from './money.ts';
import type { Terms } from './terms.ts';

export const orderStates = ['awaiting_payment', 'paid', 'validated', 'cancelled'] as const;
export type OrderState = (typeof orderStates)[number];

const legal: Record<OrderState, readonly OrderState[]> = {
  awaiting_payment: ['paid', 'cancelled'],
  paid: ['validated'],
  validated: [],
  cancelled: [],
};

export function isOrderState(s: string): s is OrderState {
  return (orderStates as readonly string[]).includes(s);
}

export function canTransitionOrder(from: OrderState, to: OrderState): boolean {
  return legal[from].includes(to);
}

/** The one way an order changes state; illegal moves are conflicts with a precise code. */
export function transitionOrder(from: OrderState, to: OrderState): OrderState {
  if (canTransitionOrder(from, to)) return to;
  if (to === 'validated' && from === 'awaiting_payment')
    throw conflict('order.unpaid', 'This order is not paid: it cannot be validated yet', { from, to });
  if (to === 'paid' && from !== 'awaiting_payment')
    throw conflict(
      from === 'cancelled' ? 'order.cancelled' : 'order.already_paid',
      `This order is ${from}: it cannot be paid`,
      { from, to },
    );
  if (to === 'cancelled' && from !== 'awaiting_payment')
    throw conflict('order.not_cancellable', `Only an unpaid order can be cancelled; this one is ${from}`, {
      from,
      to,
    });
  throw conflict('order.illegal_transition', `An order cannot go from ${from} to ${to}`, { from, to });
}

/**
 * Which actions the panel offers for an order in this state, to whom (docs/security.md, Roles):
 * recording a payment and cancelling (voiding the invoice) are money, an admin's; validating a
 * paid order is support's too.
 */
export function orderActions(
  s: OrderState,
  who: 'client' | 'support' | 'admin',
): ('pay' | 'validate' | 'cancel')[] {
  if (s === 'awaiting_payment')
    return who === 'admin' ? ['pay', 'cancel'] : who === 'client' ? ['cancel'] : [];
  if (s === 'paid') return who === 'client' ? [] : ['validate'];
  return [];
}

// ---- input ------------------------------------------------------------------------------

/** The same rule as the VPS record's (infra): lowercase letters, digits, dashes; starts with a letter. */
export function checkHostname(h: string): string {
  const v = h.trim().toLowerCase();
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(v) || v.endsWith('-'))
    throw invalidData(
      'validation.hostname',
      'A hostname is 1 to 63 lowercase letters, digits and dashes, starting with a letter',
      { field: 'hostname' },
    );
  return v;
}

/** System accounts of the guest image and Debian: the client's account may not be one (R3.4: never root). */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  'root',
  'daemon',
  'bin',
  'sys',
  'sync',
  'games',
  'man',
  'lp',
  'mail',
  'news',
  'uucp',
  'proxy',
  'www-data',
  'backup',
  'list',
  'irc',
  'gnats',
  'nobody',
  'nogroup',
  '_apt',
  'sshd',
  'messagebus',
  'dropbear',
  'admin',
  'administrator',
  'operator',
  'sudo',
  'wheel',
  'adm',
  'staff',
  'systemd-network',
  'systemd-resolve',
  'systemd-timesync',
  'polkitd',
  'qemu',
  'infogere',
]);

const UNIX_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** R3.4: the client's own account on its VPS: a valid Unix user name, never root or a system account. */
export function checkUnixUsername(u: string, field = 'username'): string {
  const v = u.trim();
  if (!UNIX_NAME.test(v))
    throw invalidData(
      `validation.${field}`,
      'A user name is 1 to 32 lowercase letters, digits, _ or -, starting with a letter or _',
      { field },
    );
  if (RESERVED_USERNAMES.has(v) || v.startsWith('systemd-'))
    throw invalidData(`validation.${field}`, `"${v}" is a system account's name (never root: R3.4)`, {
      field,
    });
  return v;
}

/** A user name derived from an email's local part ("Jean.Dupont+vps@x" → "jeandupont"); "client" as a last resort. */
export function deriveUnixUsername(email: string): string {
  const local = (email.split('@')[0] ?? '').split('+')[0] ?? '';
  let v = local
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z_]+/, '')
    .slice(0, 32);
  if (!v || RESERVED_USERNAMES.has(v) || v.startsWith('systemd-')) v = 'client';
  return v;
}

/** What a client orders: a fixed term of N months (R11.1) or a monthly subscription (R11.2). */
export type OrderTerm = { kind: 'fixed'; months: number } | { kind: 'subscription' };

export function checkOrderTerm(kind: ContractKind, termMonths: number | null | undefined): OrderTerm {
  if (kind === 'fixed') return { kind, months: checkTermMonths(termMonths ?? NaN) };
  if (termMonths !== null && termMonths !== undefined)
    throw invalidData('validation.termMonths', 'A subscription has no term: it renews every month (R11.2)', {
      field: 'termMonths',
    });
  return { kind: 'subscription' };
}

/** Months the first invoice covers: the whole term (R11.1), or the first period of a subscription (R11.2). */
export function monthsBilled(term: OrderTerm, terms: Pick<Terms, 'subscriptionPeriodMonths'>): number {
  return term.kind === 'fixed' ? term.months : terms.subscriptionPeriodMonths;
}

export interface PlanFacts {
  code: string;
  name: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  monthlyPriceCents: Cents;
}

export interface InvoiceLineDraft {
  description: string;
  quantity: number;
  unitCents: Cents;
  totalCents: Cents;
}

/** The first invoice's line: the plan × the months billed. */
export function orderLine(plan: PlanFacts, months: number, hostname: string): InvoiceLineDraft {
  return {
    description: `${plan.name} [${plan.code}] ${plan.vcpus} vCPU, ${plan.memoryMiB} MiB RAM, ${plan.diskGiB} GiB: ${hostname}`,
    quantity: months,
    unitCents: plan.monthlyPriceCents,
    totalCents: times(plan.monthlyPriceCents, months),
  };
}
