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
// Audit rows are appended after the commit (the audit chain takes its own transaction).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { openContract } from '../../domain/contracts.ts';
import {
  conflict,
  invalidData,
  isDomainError,
  notAllowed,
  notFound,
  type DomainError,
} from '../../domain/errors.ts';
import { invoiceYear, termText, transitionInvoice, type PaymentMethod } from '../../domain/invoices.ts';
import { checkCents, checkVatRate, formatCents, totalsOf } from '../../domain/money.ts';
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
import type { MailService } from './mail.ts';
import { hasActiveSuspension, isEmailUnverified } from '../repositories/clients.ts';
import {
  contractOfOrder,
  contractOfVps,
  getContract,
  insertContract,
  listContracts,
  type ContractRow,
} from '../repositories/contracts.ts';
import { getDatacenter } from '../repositories/datacenters.ts';
import {
  getInvoice,
  getInvoiceByNumber,
  getInvoiceWithLines,
  insertInvoice,
  invoiceOfOrder,
  listInvoices,
  setInvoiceStatus,
  type InvoiceRow,
  type InvoiceWithLines,
} from '../repositories/invoices.ts';
import { getOrder, insertOrder, listOrders, updateOrder, type OrderRow } from '../repositories/orders.ts';
import {
  claimWebhookEvent,
  getWebhookEvent,
  insertPayment,
  listPayments,
  setWebhookOutcome,
  type PaymentRow,
} from '../repositories/payments.ts';
import {
  getPlan,
  getPlanWithDatacenters,
  insertPlan,
  isSoldIn,
  listPlans,
  setPlanDatacenters,
  updatePlan,
} from '../repositories/plans.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { findUserById, getAccount } from '../repositories/users.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';
import type { InfraService } from './infra.ts';

export interface CommerceDeps {
  infra: InfraService;
  mail: MailService;
}

export interface PlanInput {
  code: string;
  name: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  monthlyPriceCents: number;
  vatRateBp: number;
  active?: boolean;
  datacenterIds: string[];
}

export interface OrderInput {
  planId: string;
  datacenterId: string;
  kind: 'fixed' | 'subscription';
  termMonths?: number | null;
  hostname: string;
  /** The client's account on the VPS (R3.4); default: derived from the orderer's email. */
  username?: string | null;
}

export interface PaymentInput {
  method: PaymentMethod;
  reference: string;
  amountCents: number;
  receivedAt?: Date;
}

/** The header carrying the webhook's signature: `sha256=<hex of HMAC-SHA256(secret, raw body)>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-infogere-signature';

export function signWebhookBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Timing-safe check of a webhook signature; false for anything missing or malformed. */
export function verifyWebhookSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(m[1]!.toLowerCase(), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The webhook's body: one payment event. */
export interface WebhookEvent {
  eventId: string;
  type: 'payment.succeeded';
  invoiceNumber: string;
  amountCents: number;
  /** ISO 4217 code of the amount (case-insensitive); only the invoice's own currency is accepted. */
  currency: string;
  reference: string;
}

/** A three-letter ISO 4217 code, as the webhook accepts it (`EUR` or `eur`). */
export const CURRENCY_CODE = /^[A-Za-z]{3}$/;

const uniqueViolation = (e: unknown, constraint?: string): boolean => {
  const x = e as { code?: string; constraint?: string };
  return x.code === '23505' && (constraint === undefined || x.constraint === constraint);
};

export function createCommerceService(ctx: ServiceContext, audit: AuditService, deps: CommerceDeps) {
  const now = () => ctx.clock.now();
  /**
   * Called inside the paying transaction once an invoice is paid (e.g. plan changes: R3.12).
   * A listener's mail goes through the outbox in this transaction, last (the notice chain's lock).
   */
  const invoicePaidListeners: ((tx: Db, invoice: InvoiceRow) => Promise<void>)[] = [];
  /** Called inside the validating transaction once a contract is opened (its renewal deadlines: services/renewals.ts). */
  const contractOpenedListeners: ((tx: Db, contract: ContractRow) => Promise<void>)[] = [];

  function checkPlanInput(p: PlanInput) {
    const code = p.code.trim().toUpperCase();
    if (!/^[A-Z0-9-]{2,32}$/.test(code))
      throw invalidData('validation.code', 'A plan code is 2 to 32 letters, digits or dashes', {
        field: 'code',
      });
    if (!p.name.trim()) throw invalidData('validation.name', 'A plan needs a name', { field: 'name' });
    checkCents(p.monthlyPriceCents, 'monthlyPriceCents');
    checkVatRate(p.vatRateBp);
    return { code, name: p.name.trim() };
  }

  async function checkDatacenters(db: Db, ids: readonly string[]) {
    for (const id of ids) await getDatacenter(db, id);
  }

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

  /** Validation, inside the caller's transaction (the order row is locked by the caller). */
  async function validateInTx(
    tx: Db,
    order: OrderRow,
    by: string,
  ): Promise<{ order: OrderRow; contract: ContractRow }> {
    transitionOrder(order.state, 'validated');
    const at = now();
    // R11.1 / R11.2: the contract's dates, from the validation instant, under the terms in force.
    const times = openContract({
      kind: order.kind,
      termMonths: order.term_months,
      start: at,
      terms: CURRENT_TERMS,
    });
    // R2.3 starts here: the VPS is requested and its provisioning job queued in this transaction.
    const vps = await deps.infra.requestVps(tx, {
      accountId: order.account_id,
      datacenterId: order.datacenter_id,
      hostname: order.hostname,
      vcpus: order.vcpus,
      memoryMiB: order.memory_mib,
      diskGiB: order.disk_gib,
      billingAnchor: times.billingAnchor,
      clientUsername: order.client_username,
    });
    const contract = await insertContract(tx, {
      account_id: order.account_id,
      order_id: order.id,
      vps_id: vps.id,
      plan_id: order.plan_id,
      datacenter_id: order.datacenter_id,
      terms_version: CURRENT_TERMS.version,
      kind: times.kind,
      term_months: times.termMonths,
      started_at: times.startedAt,
      billing_anchor: times.billingAnchor,
      renewal_anchor: times.renewalAnchor,
      periods: times.periods,
      expires_at: times.expiresAt,
      renewal_stopped_at: null,
      monthly_price_cents: order.monthly_price_cents,
      vat_rate_bp: order.vat_rate_bp,
      state: 'active',
      state_changed_at: at,
      ended_at: null,
      created_at: at,
    });
    for (const listener of contractOpenedListeners) await listener(tx, contract);
    const updated = await updateOrder(tx, order.id, {
      state: 'validated',
      state_changed_at: at,
      validated_at: at,
      validated_by: by,
    });
    return { order: updated, contract };
  }

  /** Payment of an invoice, inside the caller's transaction: invoice paid, its order paid, maybe validated. */
  async function payInTx(
    tx: Db,
    invoice: InvoiceRow,
    p: PaymentInput & { source: 'staff' | 'webhook'; recordedBy: string; eventId: string | null },
  ): Promise<{
    payment: PaymentRow;
    invoice: InvoiceRow;
    order: OrderRow | null;
    contract: ContractRow | null;
  }> {
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
    const at = now();
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
    for (const listener of invoicePaidListeners) await listener(tx, paid);
    let order: OrderRow | null = null;
    let contract: ContractRow | null = null;
    if (invoice.order_id) {
      const o = await getOrder(tx, SYSTEM_SCOPE, invoice.order_id, { forUpdate: true });
      transitionOrder(o.state, 'paid');
      order = await updateOrder(tx, o.id, { state: 'paid', state_changed_at: at, paid_at: at });
      if (ctx.config.autoValidateOnPayment)
        ({ order, contract } = await validateInTx(tx, order, 'automatic'));
    }
    return { payment, invoice: paid, order, contract };
  }

  async function auditAfter(
    actor: AuditActor,
    action: string,
    target: { type: string; id: string },
    details: Record<string, unknown>,
  ) {
    try {
      await audit.record(actor, action, target, details);
    } catch (e) {
      // The fact is committed; a lost audit line is logged loudly rather than failing the request.
      ctx.log.error({ err: e, action, target }, 'audit append failed after commit');
    }
  }

  /** Throws unless the raw body carries a valid signature under the configured secret. */
  function checkWebhookSignature(rawBody: Buffer, signature: string | undefined): void {
    const secret = ctx.config.paymentWebhookSecret;
    if (!secret) throw notFound('webhook.disabled', 'The payment webhook is not configured');
    if (!verifyWebhookSignature(secret, rawBody, signature))
      throw notAllowed('webhook.bad_signature', 'Missing or wrong webhook signature');
  }

  return {
    onInvoicePaid: (listener: (tx: Db, invoice: InvoiceRow) => Promise<void>) => {
      invoicePaidListeners.push(listener);
    },
    onContractOpened: (listener: (tx: Db, contract: ContractRow) => Promise<void>) => {
      contractOpenedListeners.push(listener);
    },

    // ---- catalogue ----------------------------------------------------------------------

    /** What is sold, where, and under which terms (every logged-in user). */
    async catalogue() {
      return { termsVersion: CURRENT_TERMS.version, plans: await listPlans(ctx.db, { activeOnly: true }) };
    },
    listPlans: () => listPlans(ctx.db),
    getPlan: (id: string) => getPlanWithDatacenters(ctx.db, id),

    async createPlan(p: PlanInput, actor: AuditActor) {
      const { code, name } = checkPlanInput(p);
      const plan = await ctx.db.transaction().execute(async (tx) => {
        await checkDatacenters(tx, p.datacenterIds);
        const at = now();
        const plan = await insertPlan(tx, {
          code,
          name,
          vcpus: p.vcpus,
          memory_mib: p.memoryMiB,
          disk_gib: p.diskGiB,
          monthly_price_cents: p.monthlyPriceCents,
          vat_rate_bp: p.vatRateBp,
          active: p.active ?? true,
          created_at: at,
          updated_at: at,
        }).catch((e: unknown) => {
          if (uniqueViolation(e)) throw conflict('plan.code_taken', `A plan with code ${code} exists`);
          throw e;
        });
        await setPlanDatacenters(tx, plan.id, p.datacenterIds);
        return plan;
      });
      await auditAfter(
        actor,
        'plan.create',
        { type: 'plan', id: plan.id },
        { code, priceCents: p.monthlyPriceCents, datacenters: p.datacenterIds },
      );
      return getPlanWithDatacenters(ctx.db, plan.id);
    },

    /** A plan edit changes no order, invoice or contract: they keep the facts and price of their time. */
    async updatePlan(id: string, p: Partial<PlanInput>, actor: AuditActor) {
      await ctx.db.transaction().execute(async (tx) => {
        const cur = await getPlan(tx, id, { forUpdate: true });
        const merged: PlanInput = {
          code: p.code ?? cur.code,
          name: p.name ?? cur.name,
          vcpus: p.vcpus ?? cur.vcpus,
          memoryMiB: p.memoryMiB ?? cur.memory_mib,
          diskGiB: p.diskGiB ?? cur.disk_gib,
          monthlyPriceCents: p.monthlyPriceCents ?? cur.monthly_price_cents,
          vatRateBp: p.vatRateBp ?? cur.vat_rate_bp,
          active: p.active ?? cur.active,
          datacenterIds: p.datacenterIds ?? [],
        };
        const { code, name } = checkPlanInput(merged);
        await updatePlan(tx, id, {
          code,
          name,
          vcpus: merged.vcpus,
          memory_mib: merged.memoryMiB,
          disk_gib: merged.diskGiB,
          monthly_price_cents: merged.monthlyPriceCents,
          vat_rate_bp: merged.vatRateBp,
          active: merged.active ?? true,
          updated_at: now(),
        }).catch((e: unknown) => {
          if (uniqueViolation(e)) throw conflict('plan.code_taken', `A plan with code ${code} exists`);
          throw e;
        });
        if (p.datacenterIds) {
          await checkDatacenters(tx, p.datacenterIds);
          await setPlanDatacenters(tx, id, p.datacenterIds);
        }
      });
      await auditAfter(actor, 'plan.update', { type: 'plan', id }, { ...p });
      return getPlanWithDatacenters(ctx.db, id);
    },

    // ---- orders -------------------------------------------------------------------------

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
      const user = await findUserById(ctx.db, userId);
      if (!user) throw notFound('user.not_found', 'No such user');
      const username = p.username ? checkUnixUsername(p.username) : deriveUnixUsername(user.email);
      const result = await ctx.db.transaction().execute(async (tx) => {
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

    getOrder: (scope: Scope, id: string) => getOrder(ctx.db, scope, id),
    listOrders: (
      scope: Scope,
      filter: { accountId?: string; states?: OrderRow['state'][] },
      page: PageRequest,
    ) => listOrders(ctx.db, scope, filter, page),
    invoiceOfOrder: (scope: Scope, orderId: string) => invoiceOfOrder(ctx.db, scope, orderId),
    contractOfOrder: (scope: Scope, orderId: string) => contractOfOrder(ctx.db, scope, orderId),

    /** Staff validate a paid order: the contract opens and provisioning starts (same transaction). */
    async validateOrder(
      orderId: string,
      actor: AuditActor,
    ): Promise<{ order: OrderRow; contract: ContractRow }> {
      const r = await ctx.db.transaction().execute(async (tx) => {
        const order = await getOrder(tx, SYSTEM_SCOPE, orderId, { forUpdate: true });
        return validateInTx(tx, order, actor.label);
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
      const r = await ctx.db.transaction().execute(async (tx) => {
        const order = await getOrder(tx, scope, orderId, { forUpdate: true });
        transitionOrder(order.state, 'cancelled');
        const inv = await invoiceOfOrder(tx, SYSTEM_SCOPE, order.id, { forUpdate: true });
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

    // ---- invoices and payments ----------------------------------------------------------

    listInvoices: (
      scope: Scope,
      filter: { accountId?: string; status?: InvoiceRow['status'] },
      page: PageRequest,
    ) => listInvoices(ctx.db, scope, filter, page),
    getInvoice: (scope: Scope, id: string) => getInvoiceWithLines(ctx.db, scope, id),
    listPayments: (scope: Scope, filter: { accountId?: string; invoiceId?: string } = {}) =>
      listPayments(ctx.db, scope, filter),

    /** Staff record a payment of an invoice; the amount must be the invoice's total; a second payment is a conflict. */
    async recordPayment(invoiceId: string, p: PaymentInput, actor: AuditActor) {
      if (p.method === 'webhook')
        throw invalidData('validation.method', 'The webhook records its own payments', { field: 'method' });
      const r = await ctx.db.transaction().execute(async (tx) => {
        const invoice = await getInvoice(tx, SYSTEM_SCOPE, invoiceId, { forUpdate: true });
        return payInTx(tx, invoice, { ...p, source: 'staff', recordedBy: actor.label, eventId: null });
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

    /**
     * The payment provider's webhook: authenticated by an HMAC-SHA256 of the raw body with the
     * shared secret (timing-safe), applied once per event id (a replay changes nothing and gets
     * the first outcome back).
     */
    checkWebhookSignature,

    async paymentWebhook(
      rawBody: Buffer,
      signature: string | undefined,
    ): Promise<{ duplicate: boolean; outcome: string; invoiceNumber: string | null }> {
      checkWebhookSignature(rawBody, signature);
      let ev: WebhookEvent;
      try {
        ev = JSON.parse(rawBody.toString('utf8')) as WebhookEvent;
      } catch {
        throw invalidData('webhook.malformed', 'The body is not JSON');
      }
      if (
        typeof ev !== 'object' ||
        ev === null ||
        typeof ev.eventId !== 'string' ||
        !/^[A-Za-z0-9_.:-]{1,200}$/.test(ev.eventId) ||
        ev.type !== 'payment.succeeded' ||
        typeof ev.invoiceNumber !== 'string' ||
        typeof ev.amountCents !== 'number' ||
        typeof ev.currency !== 'string' ||
        !CURRENCY_CODE.test(ev.currency) ||
        typeof ev.reference !== 'string'
      )
        throw invalidData(
          'webhook.malformed',
          'Expected {eventId, type: "payment.succeeded", invoiceNumber, amountCents, currency (ISO 4217, e.g. EUR), reference}',
        );
      const bodySha256 = createHash('sha256').update(rawBody).digest('hex');
      const actor: AuditActor = { userId: null, label: 'webhook', ip: null };
      try {
        const r = await ctx.db.transaction().execute(async (tx) => {
          if (!(await claimWebhookEvent(tx, { eventId: ev.eventId, at: now(), bodySha256 }))) return null;
          const invoice = await getInvoiceByNumber(tx, SYSTEM_SCOPE, ev.invoiceNumber, { forUpdate: true });
          // The amount is in the event's currency: only the invoice's is accepted (no conversion),
          // else 5000 of anything would pay a 50.00 € invoice.
          if (ev.currency.toUpperCase() !== invoice.currency.toUpperCase())
            throw invalidData(
              'payment.currency_mismatch',
              `The payment is in ${ev.currency.toUpperCase()}; invoice ${invoice.number} is in ${invoice.currency}: only its currency is accepted`,
              { field: 'currency' },
            );
          const paid = await payInTx(tx, invoice, {
            method: 'webhook',
            reference: ev.reference,
            amountCents: ev.amountCents,
            source: 'webhook',
            recordedBy: 'webhook',
            eventId: ev.eventId,
          });
          await setWebhookOutcome(tx, ev.eventId, 'paid', {
            invoice: invoice.number,
            payment: paid.payment.id,
          });
          return paid;
        });
        if (!r) {
          const seen = await getWebhookEvent(ctx.db, ev.eventId);
          return { duplicate: true, outcome: seen?.outcome ?? 'received', invoiceNumber: ev.invoiceNumber };
        }
        await auditAfter(
          actor,
          'payment.webhook',
          { type: 'invoice', id: r.invoice.id },
          {
            event: ev.eventId,
            payment: r.payment.id,
            amountCents: ev.amountCents,
            validated: r.contract !== null,
          },
        );
        return { duplicate: false, outcome: 'paid', invoiceNumber: r.invoice.number };
      } catch (e) {
        if (!isDomainError(e)) throw e;
        // Another payment of the same contract held a row (invoice.busy): nothing was written and
        // the event id stays free, so the provider's retry is applied.
        if (e.code === 'invoice.busy') throw e;
        // Refused (unknown invoice, already paid, wrong amount or currency…): remembered under its
        // event id, so a replay gets the same answer without being applied.
        const err = e as DomainError;
        const fresh = await claimWebhookEvent(ctx.db, { eventId: ev.eventId, at: now(), bodySha256 });
        if (fresh)
          await setWebhookOutcome(ctx.db, ev.eventId, `refused:${err.code}`, {
            invoice: ev.invoiceNumber,
            message: err.message,
          });
        await auditAfter(
          actor,
          'payment.webhook_refused',
          { type: 'webhook_event', id: ev.eventId },
          { code: err.code, invoice: ev.invoiceNumber },
        );
        throw e;
      }
    },

    // ---- contracts ----------------------------------------------------------------------

    listContracts: (scope: Scope, filter: { accountId?: string; states?: ContractRow['state'][] } = {}) =>
      listContracts(ctx.db, scope, filter),
    getContract: (scope: Scope, id: string) => getContract(ctx.db, scope, id),
    /** The contract that delivers a VPS (one per VPS): how other modules go from a VPS to its contract. */
    contractOfVps: (scope: Scope, vpsId: string) => contractOfVps(ctx.db, scope, vpsId),
  };
}
export type CommerceService = ReturnType<typeof createCommerceService>;
