// Commerce's schemas (R11.1, R11.2), shared by its routes files: routes/catalogue.ts,
// routes/orders.ts, routes/invoices.ts, routes/contracts.ts (the shapes are made by
// services/commerce-views.ts).
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { principalOf } from '../http/access.ts';
import type { Who } from '../services/commerce-views.ts';

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) =>
  Type.Union([t, Type.Null()]);
export const Kind = Type.Union([Type.Literal('fixed'), Type.Literal('subscription')]);
export const OrderState = Type.Union([
  Type.Literal('awaiting_payment'),
  Type.Literal('paid'),
  Type.Literal('validated'),
  Type.Literal('cancelled'),
]);
export const InvoiceStatus = Type.Union([Type.Literal('issued'), Type.Literal('paid'), Type.Literal('void')]);
const ContractState = Type.Union([
  Type.Literal('active'),
  Type.Literal('suspended'),
  Type.Literal('ended'),
  Type.Literal('terminated'),
]);
export const StaffMethod = Type.Union([
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
export const PlanSchema = Type.Object(
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
export const CatalogueSchema = Type.Object(
  { termsVersion: Type.String(), plans: Type.Array(PlanSchema) },
  { $id: 'Catalogue' },
);

export const OrderSchema = Type.Object(
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
export const InvoiceSchema = Type.Object(
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
export const PaymentSchema = Type.Object(
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
export const ContractSchema = Type.Object(
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

/** Who is asking, for the actions an order offers. */
export const whoOf = (req: FastifyRequest): Who => {
  const scope = principalOf(req).scope;
  return scope.kind === 'client' ? 'client' : scope.role;
};

export type OrderOut = Static<typeof OrderSchema>;
