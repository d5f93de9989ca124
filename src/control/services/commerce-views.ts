// Commerce, what clients and staff read (R11.1, R11.2): plans, orders with their invoice and
// contract, invoices with the term in words, payments, contracts with their next renewal. The
// API's shapes (the schemas are routes/commerce-schemas.ts). Part of services/commerce.ts.
import { nextRenewalAt } from '../../domain/contracts.ts';
import { termText } from '../../domain/invoices.ts';
import { orderActions } from '../../domain/orders.ts';
import { contractTimesOf, type ContractRow } from '../repositories/contracts.ts';
import type { InvoiceRow, InvoiceWithLines } from '../repositories/invoices.ts';
import type { OrderRow } from '../repositories/orders.ts';
import type { listPayments } from '../repositories/payments.ts';
import type { PlanWithDatacenters } from '../repositories/plans.ts';

export type Who = 'client' | 'support' | 'admin';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function planOut(p: PlanWithDatacenters) {
  return {
    id: p.id,
    code: p.code,
    name: p.name,
    vcpus: p.vcpus,
    memoryMiB: p.memory_mib,
    diskGiB: p.disk_gib,
    monthlyPriceCents: p.monthly_price_cents,
    vatRateBp: p.vat_rate_bp,
    monthlyPriceWithVatCents:
      p.monthly_price_cents + Math.floor((p.monthly_price_cents * p.vat_rate_bp + 5000) / 10000),
    active: p.active,
    datacenters: p.datacenters.map((d) => ({
      id: d.id,
      code: d.code,
      name: d.name,
      city: d.city,
      country: d.country,
    })),
  };
}

/** What an order links to: its invoice, and once validated its contract (and VPS). */
export interface OrderLinks {
  invoice?: Pick<InvoiceRow, 'id' | 'number' | 'total_cents'> | null;
  contract?: Pick<ContractRow, 'id' | 'vps_id'> | null;
}

export function orderOut(o: OrderRow, who: Who, extra: OrderLinks = {}) {
  return {
    id: o.id,
    accountId: o.account_id,
    planId: o.plan_id,
    planCode: o.plan_code,
    planName: o.plan_name,
    datacenterId: o.datacenter_id,
    kind: o.kind,
    termMonths: o.term_months,
    hostname: o.hostname,
    username: o.client_username,
    vcpus: o.vcpus,
    memoryMiB: o.memory_mib,
    diskGiB: o.disk_gib,
    monthlyPriceCents: o.monthly_price_cents,
    vatRateBp: o.vat_rate_bp,
    state: o.state,
    actions: orderActions(o.state, who),
    createdAt: o.created_at.toISOString(),
    paidAt: iso(o.paid_at),
    validatedAt: iso(o.validated_at),
    cancelledAt: iso(o.cancelled_at),
    cancelReason: o.cancel_reason,
    invoiceId: extra.invoice?.id ?? null,
    invoiceNumber: extra.invoice?.number ?? null,
    invoiceTotalCents: extra.invoice?.total_cents ?? null,
    contractId: extra.contract?.id ?? null,
    vpsId: extra.contract?.vps_id ?? null,
  };
}

export function invoiceOut(i: InvoiceRow | InvoiceWithLines) {
  return {
    id: i.id,
    number: i.number,
    accountId: i.account_id,
    orderId: i.order_id,
    contractId: i.contract_id,
    customerName: i.customer_name,
    issuedAt: i.issued_at.toISOString(),
    currency: i.currency,
    termKind: i.term_kind,
    termMonths: i.term_months,
    termText: {
      fr: termText(i.term_kind, i.term_months, 'fr'),
      en: termText(i.term_kind, i.term_months, 'en'),
    },
    periodStart: iso(i.period_start),
    periodEnd: iso(i.period_end),
    netCents: i.net_cents,
    vatRateBp: i.vat_rate_bp,
    vatCents: i.vat_cents,
    totalCents: i.total_cents,
    status: i.status,
    paidAt: iso(i.paid_at),
    voidedAt: iso(i.voided_at),
    voidReason: i.void_reason,
    ...('lines' in i
      ? {
          lines: i.lines.map((l) => ({
            position: l.position,
            description: l.description,
            quantity: l.quantity,
            unitCents: l.unit_cents,
            totalCents: l.total_cents,
          })),
        }
      : {}),
  };
}

export function contractOut(c: ContractRow) {
  return {
    id: c.id,
    accountId: c.account_id,
    orderId: c.order_id,
    vpsId: c.vps_id,
    planId: c.plan_id,
    datacenterId: c.datacenter_id,
    termsVersion: c.terms_version,
    kind: c.kind,
    termMonths: c.term_months,
    startedAt: c.started_at.toISOString(),
    billingAnchor: c.billing_anchor.toISOString(),
    expiresAt: c.expires_at.toISOString(),
    nextRenewalAt: iso(nextRenewalAt(contractTimesOf(c))),
    renewalStoppedAt: iso(c.renewal_stopped_at),
    monthlyPriceCents: c.monthly_price_cents,
    vatRateBp: c.vat_rate_bp,
    state: c.state,
  };
}

export type PaymentListRow = Awaited<ReturnType<typeof listPayments>>[number];
export function paymentOut(p: PaymentListRow) {
  return {
    id: p.id,
    invoiceId: p.invoice_id,
    invoiceNumber: p.invoice_number,
    accountId: p.account_id,
    method: p.method,
    reference: p.reference,
    amountCents: p.amount_cents,
    receivedAt: p.received_at.toISOString(),
    recordedAt: p.recorded_at.toISOString(),
    recordedBy: p.recorded_by,
    source: p.source,
  };
}
