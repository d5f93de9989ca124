// Catalogue, orders, invoices, payments, contracts (R11.1, R11.2), and the payment
// webhook. Client-reachable routes go through services that scope every query by account
// (another account's order, invoice or contract is 404).
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { nextRenewalAt } from '../../domain/contracts.ts';
import { termText } from '../../domain/invoices.ts';
import { formatCents, formatRate } from '../../domain/money.ts';
import { orderActions } from '../../domain/orders.ts';
import { escapeHtml } from '../mail/render.ts';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import { contractTimesOf, type ContractRow } from '../repositories/contracts.ts';
import type { InvoiceRow, InvoiceWithLines } from '../repositories/invoices.ts';
import type { OrderRow } from '../repositories/orders.ts';
import type { PlanWithDatacenters } from '../repositories/plans.ts';
import { WEBHOOK_SIGNATURE_HEADER } from '../services/commerce.ts';
import { PROVIDER } from '../services/client-views.ts';
import type { Services } from '../services/index.ts';
import { authErrors, ErrorSchema, IdParams, Page, PageQuery, Uuid } from './schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Kind = Type.Union([Type.Literal('fixed'), Type.Literal('subscription')]);
const OrderState = Type.Union([
  Type.Literal('awaiting_payment'),
  Type.Literal('paid'),
  Type.Literal('validated'),
  Type.Literal('cancelled'),
]);
const InvoiceStatus = Type.Union([Type.Literal('issued'), Type.Literal('paid'), Type.Literal('void')]);
const ContractState = Type.Union([
  Type.Literal('active'),
  Type.Literal('suspended'),
  Type.Literal('ended'),
  Type.Literal('terminated'),
]);
const StaffMethod = Type.Union([
  Type.Literal('transfer'),
  Type.Literal('card'),
  Type.Literal('direct_debit'),
  Type.Literal('check'),
  Type.Literal('cash'),
]);
const Method = Type.Union([StaffMethod, Type.Literal('webhook')]);

const DatacenterRef = Type.Object({
  id: Type.String(),
  code: Type.String(),
  name: Type.String(),
  city: Type.String(),
  country: Type.String(),
});
const PlanSchema = Type.Object(
  {
    id: Type.String(),
    code: Type.String(),
    name: Type.String(),
    vcpus: Type.Integer(),
    memoryMiB: Type.Integer(),
    diskGiB: Type.Integer(),
    monthlyPriceCents: Type.Integer({ description: 'Excluding tax, in cents' }),
    vatRateBp: Type.Integer({ description: 'VAT rate in basis points (2000 = 20 %)' }),
    monthlyPriceWithVatCents: Type.Integer(),
    active: Type.Boolean(),
    datacenters: Type.Array(DatacenterRef),
  },
  { $id: 'Plan' },
);
const CatalogueSchema = Type.Object(
  { termsVersion: Type.String(), plans: Type.Array(PlanSchema) },
  { $id: 'Catalogue' },
);

const OrderSchema = Type.Object(
  {
    id: Type.String(),
    accountId: Type.String(),
    planId: Type.String(),
    planCode: Type.String(),
    planName: Type.String(),
    datacenterId: Type.String(),
    kind: Kind,
    termMonths: Nullable(Type.Integer()),
    hostname: Type.String(),
    username: Type.String(),
    vcpus: Type.Integer(),
    memoryMiB: Type.Integer(),
    diskGiB: Type.Integer(),
    monthlyPriceCents: Type.Integer(),
    vatRateBp: Type.Integer(),
    state: OrderState,
    actions: Type.Array(Type.String()),
    createdAt: Type.String(),
    paidAt: Nullable(Type.String()),
    validatedAt: Nullable(Type.String()),
    cancelledAt: Nullable(Type.String()),
    cancelReason: Nullable(Type.String()),
    invoiceId: Nullable(Type.String()),
    invoiceNumber: Nullable(Type.String()),
    invoiceTotalCents: Nullable(Type.Integer()),
    contractId: Nullable(Type.String()),
    vpsId: Nullable(Type.String()),
  },
  { $id: 'Order' },
);
const InvoiceLine = Type.Object({
  position: Type.Integer(),
  description: Type.String(),
  quantity: Type.Integer(),
  unitCents: Type.Integer(),
  totalCents: Type.Integer(),
});
const InvoiceSchema = Type.Object(
  {
    id: Type.String(),
    number: Type.String(),
    accountId: Type.String(),
    orderId: Nullable(Type.String()),
    contractId: Nullable(Type.String()),
    customerName: Type.String(),
    issuedAt: Type.String(),
    currency: Type.String(),
    termKind: Kind,
    termMonths: Nullable(Type.Integer()),
    /** R11.1 / R11.2, in words. */
    termText: Type.Object({ fr: Type.String(), en: Type.String() }),
    periodStart: Nullable(Type.String()),
    periodEnd: Nullable(Type.String()),
    netCents: Type.Integer(),
    vatRateBp: Type.Integer(),
    vatCents: Type.Integer(),
    totalCents: Type.Integer(),
    status: InvoiceStatus,
    paidAt: Nullable(Type.String()),
    voidedAt: Nullable(Type.String()),
    voidReason: Nullable(Type.String()),
    lines: Type.Optional(Type.Array(InvoiceLine)),
  },
  { $id: 'Invoice' },
);
const PaymentSchema = Type.Object(
  {
    id: Type.String(),
    invoiceId: Type.String(),
    invoiceNumber: Type.String(),
    accountId: Type.String(),
    method: Method,
    reference: Type.String(),
    amountCents: Type.Integer(),
    receivedAt: Type.String(),
    recordedAt: Type.String(),
    recordedBy: Type.String(),
    source: Type.Union([Type.Literal('staff'), Type.Literal('webhook')]),
  },
  { $id: 'Payment' },
);
const ContractSchema = Type.Object(
  {
    id: Type.String(),
    accountId: Type.String(),
    orderId: Type.String(),
    vpsId: Type.String(),
    planId: Type.String(),
    datacenterId: Type.String(),
    termsVersion: Type.String(),
    kind: Kind,
    termMonths: Nullable(Type.Integer()),
    startedAt: Type.String(),
    billingAnchor: Type.String(),
    expiresAt: Type.String({ description: 'End of the term (fixed) or of the paid month (subscription)' }),
    nextRenewalAt: Nullable(Type.String()),
    renewalStoppedAt: Nullable(Type.String()),
    monthlyPriceCents: Type.Integer(),
    vatRateBp: Type.Integer(),
    state: ContractState,
  },
  { $id: 'Contract' },
);

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function planOut(p: PlanWithDatacenters) {
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

function orderOut(
  o: OrderRow,
  who: 'client' | 'support' | 'admin',
  extra: { invoice?: InvoiceRow | null; contract?: ContractRow | null } = {},
) {
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

function invoiceOut(i: InvoiceRow | InvoiceWithLines) {
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

function contractOut(c: ContractRow) {
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

type PaymentListRow = Awaited<ReturnType<Services['commerce']['listPayments']>>[number];
function paymentOut(p: PaymentListRow) {
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

/** A printable invoice (R11.1: the term is on it), in the caller's language. */
export function invoiceHtml(i: InvoiceWithLines, lang: 'fr' | 'en'): string {
  const e = escapeHtml;
  const L =
    lang === 'fr'
      ? {
          title: 'Facture',
          issued: 'Émise le',
          customer: 'Client',
          desc: 'Désignation',
          qty: 'Qté (mois)',
          unit: 'Prix unitaire HT',
          total: 'Total HT',
          net: 'Total HT',
          vat: 'TVA',
          gross: 'Total TTC',
          term: 'Durée',
          status: { issued: 'À payer', paid: 'Payée', void: 'Annulée' },
          print: 'Imprimer',
        }
      : {
          title: 'Invoice',
          issued: 'Issued on',
          customer: 'Customer',
          desc: 'Description',
          qty: 'Qty (months)',
          unit: 'Unit price excl. VAT',
          total: 'Total excl. VAT',
          net: 'Total excl. VAT',
          vat: 'VAT',
          gross: 'Total incl. VAT',
          term: 'Term',
          status: { issued: 'Due', paid: 'Paid', void: 'Void' },
          print: 'Print',
        };
  const date = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeZone: 'Europe/Paris',
  }).format(i.issued_at);
  const rows = i.lines
    .map(
      (l) =>
        `<tr><td>${e(l.description)}</td><td class="n">${l.quantity}</td><td class="n">${e(formatCents(l.unit_cents, lang))}</td><td class="n">${e(formatCents(l.total_cents, lang))}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${L.title} ${e(i.number)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;color:#111}table{width:100%;border-collapse:collapse}td,th{padding:.4rem;border-bottom:1px solid #ccc;text-align:left}.n{text-align:right}.void{color:#b00;font-weight:bold}@media print{button{display:none}}</style>
</head><body>
<h1>${L.title} ${e(i.number)}</h1>
<p>${L.issued} ${e(date)} · <span class="${i.status === 'void' ? 'void' : ''}">${L.status[i.status]}</span></p>
<p>${L.customer} : ${e(i.customer_name)}</p>
<p><strong>${L.term} : ${e(termText(i.term_kind, i.term_months, lang))}</strong></p>
<table><thead><tr><th>${L.desc}</th><th class="n">${L.qty}</th><th class="n">${L.unit}</th><th class="n">${L.total}</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<table>
<tr><td>${L.net}</td><td class="n">${e(formatCents(i.net_cents, lang))}</td></tr>
<tr><td>${L.vat} ${e(formatRate(i.vat_rate_bp, lang))}</td><td class="n">${e(formatCents(i.vat_cents, lang))}</td></tr>
<tr><td><strong>${L.gross}</strong></td><td class="n"><strong>${e(formatCents(i.total_cents, lang))}</strong></td></tr>
</table>
<p><button onclick="window.print()">${L.print}</button></p>
</body></html>
`;
}

const PlanBody = Type.Object(
  {
    code: Type.String({ minLength: 2, maxLength: 32 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    vcpus: Type.Integer({ minimum: 1, maximum: 256 }),
    memoryMiB: Type.Integer({ minimum: 128, maximum: 4_194_304 }),
    diskGiB: Type.Integer({ minimum: 1, maximum: 65_536 }),
    monthlyPriceCents: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
    vatRateBp: Type.Integer({ minimum: 0, maximum: 10_000 }),
    active: Type.Optional(Type.Boolean()),
    datacenterIds: Type.Array(Uuid, { maxItems: 100 }),
  },
  { additionalProperties: false },
);
const PlanPatch = Type.Partial(PlanBody, { additionalProperties: false });
const OrderBody = Type.Object(
  {
    planId: Uuid,
    datacenterId: Uuid,
    kind: Kind,
    termMonths: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 36 }))),
    hostname: Type.String({ minLength: 1, maxLength: 63 }),
    username: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 32 }))),
  },
  { additionalProperties: false },
);
const PaymentBody = Type.Object(
  {
    method: StaffMethod,
    reference: Type.String({ minLength: 1, maxLength: 200 }),
    amountCents: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
    receivedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
const OrdersQuery = Type.Object(
  { state: Type.Optional(OrderState), accountId: Type.Optional(Uuid), ...PageQuery },
  { additionalProperties: false },
);
const InvoicesQuery = Type.Object(
  { status: Type.Optional(InvoiceStatus), accountId: Type.Optional(Uuid), ...PageQuery },
  { additionalProperties: false },
);
const AccountQuery = Type.Object({ accountId: Type.Optional(Uuid) }, { additionalProperties: false });
const LangQuery = Type.Object(
  { lang: Type.Optional(Type.Union([Type.Literal('fr'), Type.Literal('en')])) },
  { additionalProperties: false },
);

const who = (req: FastifyRequest): 'client' | 'support' | 'admin' => {
  const scope = principalOf(req).scope;
  return scope.kind === 'client' ? 'client' : scope.role;
};

/** The raw bytes of the webhook's body, kept by its content-type parser for the signature. */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

export function commerceRoutes(app: App, s: Services): void {
  const c = s.commerce;

  async function orderWithLinks(req: FastifyRequest, o: OrderRow) {
    const scope = principalOf(req).scope;
    const [invoice, contract] = await Promise.all([
      c.invoiceOfOrder(scope, o.id).catch(() => null),
      c.contractOfOrder(scope, o.id),
    ]);
    return orderOut(o, who(req), { invoice, contract: contract ?? null });
  }

  // ---- catalogue --------------------------------------------------------------------------
  app.get(
    '/v1/catalogue',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'Plans on sale, where each is sold, and the terms version in force',
        response: { 200: CatalogueSchema, ...authErrors },
      },
    },
    async () => {
      const cat = await c.catalogue();
      return { termsVersion: cat.termsVersion, plans: cat.plans.map(planOut) };
    },
  );
  app.get(
    '/v1/admin/plans',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'Every plan, on sale or not',
        response: { 200: Type.Array(PlanSchema), ...authErrors },
      },
    },
    async () => (await c.listPlans()).map(planOut),
  );
  app.post(
    '/v1/admin/plans',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Create a plan',
        body: PlanBody,
        response: { 201: PlanSchema, ...authErrors },
      },
    },
    async (req, reply) => reply.status(201).send(planOut(await c.createPlan(req.body, auditActorOf(req)))),
  );
  app.patch(
    '/v1/admin/plans/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Change a plan (orders and contracts keep their own copy)',
        params: IdParams,
        body: PlanPatch,
        response: { 200: PlanSchema, ...authErrors },
      },
    },
    async (req) => planOut(await c.updatePlan(req.params.id, req.body, auditActorOf(req))),
  );

  // ---- orders -----------------------------------------------------------------------------
  app.post(
    '/v1/orders',
    {
      config: { access: 'client' },
      schema: {
        tags: ['commerce'],
        summary:
          'Order a plan in a datacenter: a fixed term of N months (R11.1) or a monthly subscription (R11.2); the invoice is issued at once',
        body: OrderBody,
        response: { 201: Type.Object({ order: OrderSchema, invoice: InvoiceSchema }), ...authErrors },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const r = await c.placeOrder(p.scope, p.user.id, req.body, auditActorOf(req));
      return reply
        .status(201)
        .send({ order: orderOut(r.order, 'client', { invoice: r.invoice }), invoice: invoiceOut(r.invoice) });
    },
  );
  app.get(
    '/v1/orders',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'Orders, newest first, a page at a time (clients: their own; staff: all, filtered)',
        querystring: OrdersQuery,
        response: { 200: Page(OrderSchema), ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      const { limit, cursor } = req.query;
      const page = await c.listOrders(
        scope,
        { accountId: req.query.accountId, states: req.query.state ? [req.query.state] : undefined },
        { limit, cursor },
      );
      return {
        items: await Promise.all(page.items.map((o) => orderWithLinks(req, o))),
        nextCursor: page.nextCursor,
      };
    },
  );
  app.get(
    '/v1/orders/:id',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'An order',
        params: IdParams,
        response: { 200: OrderSchema, ...authErrors },
      },
    },
    async (req) => orderWithLinks(req, await c.getOrder(principalOf(req).scope, req.params.id)),
  );
  app.post(
    '/v1/orders/:id/cancel',
    {
      config: { access: 'client_or_admin' },
      schema: {
        tags: ['commerce'],
        summary: 'Cancel an unpaid order; its invoice is voided (the number stays used)',
        params: IdParams,
        body: Type.Object(
          { reason: Type.Optional(Type.String({ maxLength: 500 })) },
          { additionalProperties: false },
        ),
        response: { 200: OrderSchema, ...authErrors },
      },
    },
    async (req) => {
      const r = await c.cancelOrder(
        principalOf(req).scope,
        req.params.id,
        req.body.reason ?? null,
        auditActorOf(req),
      );
      return orderOut(r.order, who(req), { invoice: r.invoice });
    },
  );
  app.post(
    '/v1/admin/orders/:id/validate',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'Validate a paid order: opens the contract and starts provisioning',
        params: IdParams,
        response: { 200: Type.Object({ order: OrderSchema, contract: ContractSchema }), ...authErrors },
      },
    },
    async (req) => {
      const r = await c.validateOrder(req.params.id, auditActorOf(req));
      return { order: await orderWithLinks(req, r.order), contract: contractOut(r.contract) };
    },
  );

  // ---- invoices and payments --------------------------------------------------------------
  app.get(
    '/v1/invoices',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'Invoices by number, newest first, a page at a time (clients: their own)',
        querystring: InvoicesQuery,
        response: { 200: Page(InvoiceSchema), ...authErrors },
      },
    },
    async (req) => {
      const { limit, cursor, ...filter } = req.query;
      const page = await c.listInvoices(principalOf(req).scope, filter, { limit, cursor });
      return { items: page.items.map(invoiceOut), nextCursor: page.nextCursor };
    },
  );
  app.get(
    '/v1/invoices/:id',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'An invoice with its lines',
        params: IdParams,
        response: { 200: InvoiceSchema, ...authErrors },
      },
    },
    async (req) => invoiceOut(await c.getInvoice(principalOf(req).scope, req.params.id)),
  );
  app.get(
    '/v1/invoices/:id/print',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'A printable HTML invoice',
        params: IdParams,
        querystring: LangQuery,
        response: {
          200: { description: 'HTML page', content: { 'text/html': { schema: Type.String() } } },
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const inv = await c.getInvoice(p.scope, req.params.id);
      return reply.type('text/html; charset=utf-8').send(invoiceHtml(inv, req.query.lang ?? p.user.language));
    },
  );
  app.get(
    '/v1/payments',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'Payments (clients: of their invoices)',
        querystring: AccountQuery,
        response: { 200: Type.Array(PaymentSchema), ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      // A client reads "provider" for who recorded its payment, never a staff member's email.
      return (await c.listPayments(scope, req.query)).map((p) =>
        scope.kind === 'client' ? { ...paymentOut(p), recordedBy: PROVIDER } : paymentOut(p),
      );
    },
  );
  app.post(
    '/v1/admin/invoices/:id/payments',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Record the payment of an invoice (the amount must be its total; once only)',
        params: IdParams,
        body: PaymentBody,
        response: {
          201: Type.Object({
            invoice: InvoiceSchema,
            order: Nullable(OrderSchema),
            contract: Nullable(ContractSchema),
          }),
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const r = await c.recordPayment(
        req.params.id,
        {
          method: b.method,
          reference: b.reference,
          amountCents: b.amountCents,
          receivedAt: b.receivedAt ? new Date(b.receivedAt) : undefined,
        },
        auditActorOf(req),
      );
      return reply.status(201).send({
        invoice: invoiceOut(r.invoice),
        order: r.order ? orderOut(r.order, who(req), { invoice: r.invoice, contract: r.contract }) : null,
        contract: r.contract ? contractOut(r.contract) : null,
      });
    },
  );

  // ---- contracts --------------------------------------------------------------------------
  app.get(
    '/v1/contracts',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'Contracts (clients: their own)',
        querystring: AccountQuery,
        response: { 200: Type.Array(ContractSchema), ...authErrors },
      },
    },
    async (req) => (await c.listContracts(principalOf(req).scope, req.query)).map(contractOut),
  );
  app.get(
    '/v1/contracts/:id',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'A contract',
        params: IdParams,
        response: { 200: ContractSchema, ...authErrors },
      },
    },
    async (req) => contractOut(await c.getContract(principalOf(req).scope, req.params.id)),
  );
  app.get(
    '/v1/vps/:id/contract',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'The contract a VPS is delivered under',
        params: IdParams,
        response: { 200: ContractSchema, ...authErrors },
      },
    },
    async (req) => contractOut(await c.contractOfVps(principalOf(req).scope, req.params.id)),
  );

  // ---- payment webhook (public, authenticated by its signature) ---------------------------
  void app.register(async (sub) => {
    // The signature covers the exact bytes received: keep them, then parse.
    sub.removeContentTypeParser('application/json');
    sub.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
      rawBodies.set(req, body as Buffer);
      try {
        done(null, JSON.parse((body as Buffer).toString('utf8')) as unknown);
      } catch {
        const err = new Error('The body is not JSON') as Error & { statusCode: number; code: string };
        err.statusCode = 400;
        err.code = 'FST_ERR_CTP_INVALID_JSON_BODY';
        done(err, undefined);
      }
    });
    sub.post(
      '/v1/webhooks/payment',
      {
        config: { access: 'public' },
        schema: {
          tags: ['webhooks'],
          summary: `A payment provider's event; header ${WEBHOOK_SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>`,
          description:
            `Records the payment of one invoice, once per eventId (a replay answers duplicate with the first outcome). ` +
            `The header ${WEBHOOK_SIGNATURE_HEADER} must carry sha256=<hex HMAC-SHA256 of the raw body with the shared secret> (else 403, nothing recorded). ` +
            'amountCents is in the smallest unit of currency, a required ISO 4217 code (EUR, case-insensitive): ' +
            "only the invoice's own currency is accepted, with no conversion; another currency is refused " +
            '(400 payment.currency_mismatch: no payment recorded, the invoice stays unpaid; the refusal is remembered under the eventId). ' +
            "The amount must be the invoice's total (400 payment.amount_mismatch); an invoice already paid or void is 409. " +
            '409 invoice.busy: another payment of the same contract was being recorded, nothing was recorded and the eventId is not used: send the event again.',
          security: [],
          body: Type.Object(
            {
              eventId: Type.String({ minLength: 1, maxLength: 200 }),
              type: Type.Literal('payment.succeeded'),
              invoiceNumber: Type.String({ minLength: 1, maxLength: 32 }),
              amountCents: Type.Integer({ minimum: 1 }),
              currency: Type.String({
                pattern: '^[A-Za-z]{3}$',
                description: "ISO 4217 code of the amount; must be the invoice's currency (EUR)",
              }),
              reference: Type.String({ minLength: 1, maxLength: 200 }),
            },
            { additionalProperties: true },
          ),
          response: {
            200: Type.Object({
              duplicate: Type.Boolean(),
              outcome: Type.String(),
              invoiceNumber: Nullable(Type.String()),
            }),
            400: ErrorSchema,
            403: ErrorSchema,
            404: ErrorSchema,
            409: ErrorSchema,
          },
        },
        // The signature is checked before the body's schema: an unsigned call learns nothing.
        preValidation: async (req) => {
          s.commerce.checkWebhookSignature(rawBodies.get(req) ?? Buffer.alloc(0), headerOf(req));
        },
      },
      async (req) => s.commerce.paymentWebhook(rawBodies.get(req) ?? Buffer.alloc(0), headerOf(req)),
    );
  });
}

function headerOf(req: FastifyRequest): string | undefined {
  const h = req.headers[WEBHOOK_SIGNATURE_HEADER];
  return Array.isArray(h) ? h[0] : h;
}

export type OrderOut = Static<typeof OrderSchema>;
