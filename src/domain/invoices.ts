// Invoices: numbering, statuses, and what an invoice says about the term (R11.1, R11.2).
//
// Numbers are sequential and gap-free per calendar year (UTC): YYYY-NNNNNN. The next number
// comes from a counter row locked in the issuing transaction (repositories/invoices.ts), never
// from a database sequence, which leaves gaps when a transaction rolls back. A number, once
// committed, is never reused or deleted: cancelling an unpaid order voids its invoice.
import { conflict } from './errors.ts';
import type { ContractKind } from './contracts.ts';

export const invoiceStatuses = ['issued', 'paid', 'void'] as const;
export type InvoiceStatus = (typeof invoiceStatuses)[number];

const legal: Record<InvoiceStatus, readonly InvoiceStatus[]> = {
  issued: ['paid', 'void'],
  paid: [],
  void: [],
};

export function transitionInvoice(from: InvoiceStatus, to: InvoiceStatus): InvoiceStatus {
  if (legal[from].includes(to)) return to;
  if (to === 'paid' && from === 'paid')
    throw conflict('invoice.already_paid', 'This invoice is already paid');
  if (to === 'paid' && from === 'void')
    throw conflict('invoice.void', 'This invoice is void: it cannot be paid');
  if (to === 'void' && from === 'paid') throw conflict('invoice.paid', 'A paid invoice cannot be voided');
  throw conflict('invoice.illegal_transition', `An invoice cannot go from ${from} to ${to}`, { from, to });
}

export const INVOICE_NUMBER = /^(\d{4})-(\d{6,})$/;

export function formatInvoiceNumber(year: number, seq: number): string {
  if (!Number.isSafeInteger(year) || year < 1000 || year > 9999)
    throw new RangeError(`bad invoice year ${year}`);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`bad invoice sequence ${seq}`);
  return `${year}-${String(seq).padStart(6, '0')}`;
}

export function parseInvoiceNumber(n: string): { year: number; seq: number } | null {
  const m = INVOICE_NUMBER.exec(n);
  return m ? { year: Number(m[1]), seq: Number(m[2]) } : null;
}

/** The numbering series an invoice issued at `at` belongs to: its UTC year. */
export const invoiceYear = (at: Date): number => at.getUTCFullYear();

/**
 * What the invoice says about the service's duration: the term ordered (R11.1: "shown on the
 * invoice") or the subscription (R11.2).
 */
export function termText(kind: ContractKind, termMonths: number | null, lang: 'fr' | 'en'): string {
  if (kind === 'fixed') {
    const n = termMonths ?? 0;
    return lang === 'fr' ? `Durée ferme : ${n} mois` : `Fixed term: ${n} month${n === 1 ? '' : 's'}`;
  }
  return lang === 'fr'
    ? 'Abonnement, renouvelé chaque mois par tacite reconduction'
    : 'Subscription, renewed monthly (tacit renewal)';
}

/** Payment methods staff record (the webhook records `webhook`). */
export const paymentMethods = ['transfer', 'card', 'direct_debit', 'check', 'cash', 'webhook'] as const;
export type PaymentMethod = (typeof paymentMethods)[number];
