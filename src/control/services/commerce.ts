// Commerce: the catalogue, orders, invoices (gap-free numbering), payments (staff or a signed
// webhook), validation, and the contract it opens (R11.1, R11.2; R2.3 through the
// VPS it provisions). Every write is one transaction: an error leaves nothing half-made.
//
//   placeOrder      order + its invoice (number taken from the year's locked counter row)
//   recordPayment   payment + invoice paid + order paid [+ validation when automatic]
//   paymentWebhook  the same, from a signed webhook event, once per event id
//   validateOrder   order validated + contract opened + VPS requested (provisioning job queued)
//   cancelOrder     order cancelled + its invoice voided (the number stays used)
//
// Locks: invoice → order, everywhere. Paying holds the invoice, then (its listeners: plan
// changes, renewals) their rows and the contract, then the order. Cancelling holds the invoice,
// then the order. Validating holds the order only: no cycle, so no deadlock.
//
// Audit rows are appended after the commit (the audit chain takes its own transaction).
//
// The service is one object over its parts: commerce-kit.ts (dependencies, inputs, listeners,
// the audit after commit), commerce-catalogue.ts (plans), commerce-orders.ts (place, validate,
// cancel, reads), commerce-validation.ts (the contract opened, the VPS requested),
// commerce-payments.ts (invoices, payments, the paying transaction) and commerce-webhook.ts
// (the provider's signed events).
import type { Db } from '../db/database.ts';
import { contractOfVps, getContract, listContracts, type ContractRow } from '../repositories/contracts.ts';
import type { InvoiceRow } from '../repositories/invoices.ts';
import type { Scope } from '../repositories/scope.ts';
import type { AuditService } from './audit.ts';
import { createCommerceCatalogue } from './commerce-catalogue.ts';
import { createCommerceKit, type CommerceDeps } from './commerce-kit.ts';
import { createCommerceOrders } from './commerce-orders.ts';
import { createCommercePayments } from './commerce-payments.ts';
import { createCommerceWebhook } from './commerce-webhook.ts';
import type { ServiceContext } from './context.ts';

export type { CommerceDeps, OrderInput, PaymentInput, PlanInput } from './commerce-kit.ts';
export {
  CURRENCY_CODE,
  signWebhookBody,
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookEvent,
} from './commerce-webhook.ts';

export function createCommerceService(ctx: ServiceContext, audit: AuditService, deps: CommerceDeps) {
  const kit = createCommerceKit(ctx, audit, deps);
  return {
    onInvoicePaid: (listener: (tx: Db, invoice: InvoiceRow) => Promise<void>) => {
      kit.invoicePaidListeners.push(listener);
    },
    onContractOpened: (listener: (tx: Db, contract: ContractRow) => Promise<void>) => {
      kit.contractOpenedListeners.push(listener);
    },
    ...createCommerceCatalogue(kit),
    ...createCommerceOrders(kit),
    ...createCommercePayments(kit),
    ...createCommerceWebhook(kit),

    // ---- contracts ----------------------------------------------------------------------
    listContracts: (scope: Scope, filter: { accountId?: string; states?: ContractRow['state'][] } = {}) =>
      listContracts(ctx.db, scope, filter),
    getContract: (scope: Scope, id: string) => getContract(ctx.db, scope, id),
    /** The contract that delivers a VPS (one per VPS): how other modules go from a VPS to its contract. */
    contractOfVps: (scope: Scope, vpsId: string) => contractOfVps(ctx.db, scope, vpsId),
  };
}
export type CommerceService = ReturnType<typeof createCommerceService>;
