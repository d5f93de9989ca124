// Invoices and payments (R11.1, R11.2): clients read their invoices (the term on each, a
// printable page) and payments; admins record a payment (the paying transaction may validate
// the order). Client-reachable routes go through services that scope every query by account
// (another account's invoice is 404). The provider's webhook: routes/payment-webhook.ts.
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import { PROVIDER } from '../services/client-views.ts';
import { contractOut, invoiceOut, orderOut, paymentOut } from '../services/commerce-views.ts';
import type { Services } from '../services/index.ts';
import {
  ContractSchema,
  InvoiceSchema,
  InvoiceStatus,
  Nullable,
  OrderSchema,
  PaymentSchema,
  StaffMethod,
  whoOf,
} from './commerce-schemas.ts';
import { authErrors, IdParams, Page, PageQuery, Uuid } from './schemas.ts';

const PaymentBody = Type.Object(
  {
    method: StaffMethod,
    reference: Type.String({ minLength: 1, maxLength: 200 }),
    amountCents: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
    receivedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
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

export function invoiceRoutes(app: App, s: Services): void {
  const c = s.commerce;
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
      const html = await c.printInvoice(p.scope, req.params.id, req.query.lang ?? p.user.language);
      return reply.type('text/html; charset=utf-8').send(html);
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
        order: r.order ? orderOut(r.order, whoOf(req), { invoice: r.invoice, contract: r.contract }) : null,
        contract: r.contract ? contractOut(r.contract) : null,
      });
    },
  );
}
