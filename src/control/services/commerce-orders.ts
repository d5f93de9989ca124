// Commerce, orders (R11.1, R11.2): a client orders a plan, for a fixed term or as a monthly
// subscription; the order and its invoice (number from the year's locked counter row) are one
// transaction. Staff validate a paid order; an unpaid one is cancelled and its invoice voided.
// Lock order: the header of services/commerce.ts.
import { conflict, notAllowed, notFound } from '../../domain/errors.ts';
import { invoiceYear, termText, transitionInvoice } from '../../domain/invoices.ts';
import { formatCents, totalsOf } from '../../domain/money.ts';
import {
  checkHostname,
  checkOrderTerm,
  checkUnixUsername,
  deriveUnixUsername,
  monthsBilled,
  orderLine,
  transitionOrder,
} from '../../domain/orders.ts';
import { CURRENT_TERMS } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import { hasActiveSuspension, isEmailUnverified } from '../repositories/clients.ts';
import type { ContractRow } from '../repositories/contracts.ts';
import { getDatacenter } from '../repositories/datacenters.ts';
import {
  insertInvoice,
  invoiceOfOrder,
  setInvoiceStatus,
  type InvoiceRow,
  type InvoiceWithLines,
} from '../repositories/invoices.ts';
import {
  getOrder,
  getOrderWithLinks,
  insertOrder,
  listOrdersWithLinks,
  updateOrder,
  type OrderRow,
} from '../repositories/orders.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import { getPlan, isSoldIn } from '../repositories/plans.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { findUserById, getAccount } from '../repositories/users.ts';
import type { CommerceKit, OrderInput } from './commerce-kit.ts';
import { validateInTx } from './commerce-validation.ts';
import type { AuditActor } from './context.ts';

/** Refuses orders from an account that may not order now (suspended: R6.1, R12.5; email unverified). */
async function checkAccountMayOrder(db: Db, accountId: string) {
  if (await hasActiveSuspension(db, accountId))
    throw conflict('account.suspended', 'This account is suspended: it cannot order');
  if (await isEmailUnverified(db, accountId))
    throw conflict(
      'account.email_unverified',
      'Confirm your email address (the link we sent) before ordering',
    );
}

export function createCommerceOrders(kit: CommerceKit) {
  const { ctx, deps, db, now, auditAfter } = kit;
  return {
    /**
     * A client orders a plan in a datacenter, for a fixed term (R11.1) or as a monthly
     * subscription (R11.2); the order and its invoice are created together.
     */
    async placeOrder(
      scope: Scope,
      userId: string,
      p: OrderInput,
      actor: AuditActor,
    ): Promise<{ order: OrderRow; invoice: InvoiceWithLines }> {
      if (scope.kind !== 'client')
        throw notAllowed('order.clients_only', 'Orders are placed by client accounts');
      const accountId = scope.accountId;
      const term = checkOrderTerm(p.kind, p.termMonths);
      const hostname = checkHostname(p.hostname);
      const user = await findUserById(db, userId);
      if (!user) throw notFound('user.not_found', 'No such user');
      const username = p.username ? checkUnixUsername(p.username) : deriveUnixUsername(user.email);
      const result = await inTransaction(db, async (tx) => {
        await checkAccountMayOrder(tx, accountId);
        const plan = await getPlan(tx, p.planId);
        if (!plan.active) throw conflict('plan.inactive', 'This plan is no longer sold');
        await getDatacenter(tx, p.datacenterId);
        if (!(await isSoldIn(tx, plan.id, p.datacenterId)))
          throw conflict(
            'order.plan_not_sold_in_datacenter',
            `The plan ${plan.code} is not sold in this datacenter`,
            { field: 'datacenterId' },
          );
        const template = p.osTemplateId
          ? await deps.osTemplates.checkAllowed(tx, plan.id, p.osTemplateId)
          : null;
        const account = await getAccount(tx, scope, accountId);
        const at = now();
        const order = await insertOrder(tx, {
          account_id: accountId,
          user_id: userId,
          plan_id: plan.id,
          datacenter_id: p.datacenterId,
          kind: term.kind,
          term_months: term.kind === 'fixed' ? term.months : null,
          hostname,
          client_username: username,
          os_template_id: template?.id ?? null,
          os_image: template?.image ?? null,
          plan_code: plan.code,
          plan_name: plan.name,
          vcpus: plan.vcpus,
          memory_mib: plan.memory_mib,
          disk_gib: plan.disk_gib,
          monthly_price_cents: plan.monthly_price_cents,
          vat_rate_bp: plan.vat_rate_bp,
          state: 'awaiting_payment',
          state_changed_at: at,
          created_at: at,
        });
        const line = orderLine(
          {
            code: plan.code,
            name: plan.name,
            vcpus: plan.vcpus,
            memoryMiB: plan.memory_mib,
            diskGiB: plan.disk_gib,
            monthlyPriceCents: plan.monthly_price_cents,
          },
          monthsBilled(term, CURRENT_TERMS),
          hostname,
        );
        const totals = totalsOf([line.totalCents], plan.vat_rate_bp);
        const invoice = await insertInvoice(
          tx,
          {
            account_id: accountId,
            order_id: order.id,
            contract_id: null,
            customer_name: account.name,
            issued_at: at,
            currency: 'EUR',
            term_kind: term.kind,
            term_months: term.kind === 'fixed' ? term.months : null,
            period_start: null,
            period_end: null,
            net_cents: totals.netCents,
            vat_rate_bp: totals.vatRateBp,
            vat_cents: totals.vatCents,
            total_cents: totals.totalCents,
            status: 'issued',
            paid_at: null,
            voided_at: null,
            void_reason: null,
          },
          [
            {
              description: line.description,
              quantity: line.quantity,
              unit_cents: line.unitCents,
              total_cents: line.totalCents,
            },
          ],
          invoiceYear(at),
        );
        // The client is told: the invoice, with its term (R11.1) or subscription (R11.2).
        await deps.mail.send(tx, {
          to: user.email,
          template: 'invoice.issued',
          language: user.language,
          vars: {
            name: user.name,
            number: invoice.number,
            total: formatCents(invoice.total_cents, user.language),
            term: termText(invoice.term_kind, invoice.term_months, user.language),
            hostname,
            plan: plan.name,
            invoiceUrl: `${ctx.config.publicUrl}/client/invoices/${invoice.id}`,
          },
          accountId,
          reason: 'R11.1/R11.2 invoice issued for an order',
        });
        return { order, invoice };
      });
      await auditAfter(
        actor,
        'order.place',
        { type: 'order', id: result.order.id },
        {
          invoice: result.invoice.number,
          plan: result.order.plan_code,
          kind: result.order.kind,
          termMonths: result.order.term_months,
          totalCents: result.invoice.total_cents,
        },
      );
      return result;
    },

    /** An order with its invoice and contract (one query). */
    getOrder: (scope: Scope, id: string) => getOrderWithLinks(db, scope, id),
    /** A page of orders, each with its invoice and contract (one query a page). */
    listOrders: (
      scope: Scope,
      filter: { accountId?: string; states?: OrderRow['state'][] },
      page: PageRequest,
    ) => listOrdersWithLinks(db, scope, filter, page),

    /** Staff validate a paid order: the contract opens and provisioning starts (same transaction). */
    async validateOrder(
      orderId: string,
      actor: AuditActor,
    ): Promise<{ order: OrderRow; contract: ContractRow }> {
      const r = await inTransaction(db, async (tx) => {
        const order = await getOrder(tx, SYSTEM_SCOPE, orderId, { forUpdate: true });
        return validateInTx(kit, tx, order, actor.label);
      });
      await auditAfter(
        actor,
        'order.validate',
        { type: 'order', id: orderId },
        { contract: r.contract.id, vps: r.contract.vps_id },
      );
      return r;
    },

    /** An unpaid order is cancelled (by its client or staff); its invoice is voided, never deleted. */
    async cancelOrder(
      scope: Scope,
      orderId: string,
      reason: string | null,
      actor: AuditActor,
    ): Promise<{ order: OrderRow; invoice: InvoiceRow }> {
      const r = await inTransaction(db, async (tx) => {
        // Invoice, then order, as paying takes them (services/commerce.ts, Locks): the other
        // order would let a payment and a cancellation of one order deadlock. The first read
        // only checks the caller may see the order; the states are checked once both are held.
        await getOrder(tx, scope, orderId);
        const inv = await invoiceOfOrder(tx, SYSTEM_SCOPE, orderId, { forUpdate: true });
        const order = await getOrder(tx, scope, orderId, { forUpdate: true });
        transitionOrder(order.state, 'cancelled');
        transitionInvoice(inv.status, 'void');
        const at = now();
        const why = reason?.trim() || 'order cancelled';
        const invoice = await setInvoiceStatus(tx, inv.id, {
          status: 'void',
          voided_at: at,
          void_reason: why,
        });
        const updated = await updateOrder(tx, order.id, {
          state: 'cancelled',
          state_changed_at: at,
          cancelled_at: at,
          cancelled_by: actor.label,
          cancel_reason: why,
        });
        return { order: updated, invoice };
      });
      await auditAfter(
        actor,
        'order.cancel',
        { type: 'order', id: orderId },
        { invoice: r.invoice.number, reason: r.order.cancel_reason },
      );
      return r;
    },
  };
}
