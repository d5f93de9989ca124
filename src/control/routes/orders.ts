// Orders (R11.1, R11.2): a client orders a plan (its invoice issued at once), reads and cancels
// its orders; staff read all and validate paid ones (the contract opens, provisioning starts).
// Client-reachable routes go through services that scope every query by account (another
// account's order is 404).
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import { contractOut, invoiceOut, orderOut } from '../services/commerce-views.ts';
import type { Services } from '../services/index.ts';
import {
  ContractSchema,
  InvoiceSchema,
  Kind,
  Nullable,
  OrderSchema,
  OrderState,
  whoOf,
} from './commerce-schemas.ts';
import { authErrors, IdParams, Page, PageQuery, Uuid } from './schemas.ts';

const OrderBody = Type.Object(
  {
    planId: Uuid,
    datacenterId: Uuid,
    kind: Kind,
    termMonths: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 36 }))),
    hostname: Type.String({ minLength: 1, maxLength: 63 }),
    username: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 32 }))),
    osTemplateId: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false },
);
const OrdersQuery = Type.Object(
  { state: Type.Optional(OrderState), accountId: Type.Optional(Uuid), ...PageQuery },
  { additionalProperties: false },
);

export function orderRoutes(app: App, s: Services): void {
  const c = s.commerce;

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
      const who = whoOf(req);
      return { items: page.items.map((l) => orderOut(l.order, who, l)), nextCursor: page.nextCursor };
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
    async (req) => {
      const l = await c.getOrder(principalOf(req).scope, req.params.id);
      return orderOut(l.order, whoOf(req), l);
    },
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
      return orderOut(r.order, whoOf(req), { invoice: r.invoice });
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
      const l = await c.getOrder(principalOf(req).scope, r.order.id);
      return { order: orderOut(l.order, whoOf(req), l), contract: contractOut(r.contract) };
    },
  );
}
