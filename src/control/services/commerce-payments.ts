// Commerce, invoices and payments (R11.1, R11.2): one payment per invoice, of its total; paying
// an invoice pays its order (and validates it when validation is automatic) and calls the
// invoice-paid listeners (plan changes, renewals), all in the paying transaction. Staff record
// payments here; the webhook's are services/commerce-webhook.ts. Lock order: the header of
// services/commerce.ts.
import { conflict, invalidData } from '../../domain/errors.ts';
import { transitionInvoice } from '../../domain/invoices.ts';
import { checkCents, formatCents } from '../../domain/money.ts';
import { transitionOrder } from '../../domain/orders.ts';
import type { Db } from '../db/database.ts';
import type { ContractRow } from '../repositories/contracts.ts';
import {
  getInvoice,
  getInvoiceWithLines,
  listInvoices,
  setInvoiceStatus,
  type InvoiceRow,
} from '../repositories/invoices.ts';
import { getOrder, updateOrder, type OrderRow } from '../repositories/orders.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import { insertPayment, listPayments, type PaymentRow } from '../repositories/payments.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { uniqueViolation, type CommerceKit, type PaymentInput } from './commerce-kit.ts';
import { validateInTx } from './commerce-validation.ts';
import type { AuditActor } from './context.ts';
import { invoiceHtml } from './invoice-print.ts';

export interface Paid {
  payment: PaymentRow;
  invoice: InvoiceRow;
  order: OrderRow | null;
  contract: ContractRow | null;
}

/** Payment of an invoice, inside the caller's transaction: invoice paid, its order paid, maybe validated. */
export async function payInTx(
  kit: CommerceKit,
  tx: Db,
  invoice: InvoiceRow,
  p: PaymentInput & { source: 'staff' | 'webhook'; recordedBy: string; eventId: string | null },
): Promise<Paid> {
  transitionInvoice(invoice.status, 'paid');
  checkCents(p.amountCents);
  if (p.amountCents !== invoice.total_cents)
    throw invalidData(
      'payment.amount_mismatch',
      `The amount paid (${formatCents(p.amountCents, 'en')}) is not the invoice's total (${formatCents(invoice.total_cents, 'en')})`,
      { field: 'amountCents' },
    );
  const reference = p.reference.trim();
  if (!reference)
    throw invalidData('validation.reference', 'A payment needs a reference', { field: 'reference' });
  const at = kit.now();
  const payment = await insertPayment(tx, {
    invoice_id: invoice.id,
    account_id: invoice.account_id,
    method: p.method,
    reference,
    amount_cents: p.amountCents,
    received_at: p.receivedAt ?? at,
    recorded_at: at,
    recorded_by: p.recordedBy,
    source: p.source,
    event_id: p.eventId,
  }).catch((e: unknown) => {
    if (uniqueViolation(e, 'payments_invoice_id_key'))
      throw conflict('invoice.already_paid', 'This invoice is already paid');
    throw e;
  });
  const paid = await setInvoiceStatus(tx, invoice.id, { status: 'paid', paid_at: at });
  for (const listener of kit.invoicePaidListeners) await listener(tx, paid);
  let order: OrderRow | null = null;
  let contract: ContractRow | null = null;
  if (invoice.order_id) {
    const o = await getOrder(tx, SYSTEM_SCOPE, invoice.order_id, { forUpdate: true });
    transitionOrder(o.state, 'paid');
    order = await updateOrder(tx, o.id, { state: 'paid', state_changed_at: at, paid_at: at });
    if (kit.ctx.config.autoValidateOnPayment)
      ({ order, contract } = await validateInTx(kit, tx, order, 'automatic'));
  }
  return { payment, invoice: paid, order, contract };
}

export function createCommercePayments(kit: CommerceKit) {
  const { db, auditAfter } = kit;
  return {
    listInvoices: (
      scope: Scope,
      filter: { accountId?: string; status?: InvoiceRow['status'] },
      page: PageRequest,
    ) => listInvoices(db, scope, filter, page),
    getInvoice: (scope: Scope, id: string) => getInvoiceWithLines(db, scope, id),
    /** The printable HTML page of an invoice the scope may see (services/invoice-print.ts). */
    printInvoice: async (scope: Scope, id: string, lang: 'fr' | 'en') =>
      invoiceHtml(await getInvoiceWithLines(db, scope, id), lang),
    listPayments: (scope: Scope, filter: { accountId?: string; invoiceId?: string } = {}) =>
      listPayments(db, scope, filter),

    /** Staff record a payment of an invoice; the amount must be the invoice's total; a second payment is a conflict. */
    async recordPayment(invoiceId: string, p: PaymentInput, actor: AuditActor): Promise<Paid> {
      if (p.method === 'webhook')
        throw invalidData('validation.method', 'The webhook records its own payments', { field: 'method' });
      const r = await inTransaction(db, async (tx) => {
        const invoice = await getInvoice(tx, SYSTEM_SCOPE, invoiceId, { forUpdate: true });
        return payInTx(kit, tx, invoice, { ...p, source: 'staff', recordedBy: actor.label, eventId: null });
      });
      await auditAfter(
        actor,
        'payment.record',
        { type: 'invoice', id: invoiceId },
        {
          payment: r.payment.id,
          method: p.method,
          reference: r.payment.reference,
          amountCents: p.amountCents,
          validated: r.contract !== null,
        },
      );
      return r;
    },
  };
}
