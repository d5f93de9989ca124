// Renewal invoices (R11.2): the next month's invoice of a renewing subscription, numbered in the
// issuing transaction, at the contract's price, and its mail; re-issued at a new price when a
// plan change paid changed it (R3.12 with R11.2). Part of services/renewals.ts.
import { isRunning, renew } from '../../domain/contracts.ts';
import { invoiceYear } from '../../domain/invoices.ts';
import { formatCents, totalsOf } from '../../domain/money.ts';
import { orderLine } from '../../domain/orders.ts';
import { graceEndsAt, type RenewalSettings } from '../../domain/renewals.ts';
import { termsFor } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import type { Language } from '../db/schema.ts';
import { mailDate } from '../mail/format.ts';
import { recipientOf, type Recipient } from '../mail/recipients.ts';
import { contractTimesOf, type ContractRow } from '../repositories/contracts.ts';
import { insertInvoice, setInvoiceStatus } from '../repositories/invoices.ts';
import { orderedBy } from '../repositories/orders.ts';
import { getPlan } from '../repositories/plans.ts';
import { insertRenewalInvoice, paidPlanChangeOf, type RenewalInvoice } from '../repositories/renewals.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { getAccount } from '../repositories/users.ts';
import { getVps } from '../repositories/vps.ts';
import type { ServiceContext } from './context.ts';
import type { MailService } from './mail.ts';

/** Why an invoice is issued again: told to the client in its language; `reason` for the void and the notice. */
export type ReissueWhy = Record<Language, string> & { reason: string };

/** Voids a renewal invoice still unpaid (its number stays used); a paid one is left alone. */
export async function voidRenewal(tx: Db, inv: RenewalInvoice, now: Date, why: string): Promise<void> {
  if (inv.status === 'issued')
    await setInvoiceStatus(tx, inv.id, { status: 'void', voided_at: now, void_reason: why });
}

/** The client told about a contract: the user who ordered it, else the account's contact. */
export async function recipientOfContract(tx: Db, c: ContractRow): Promise<Recipient> {
  return recipientOf(tx, c.account_id, { userId: await orderedBy(tx, c.order_id) });
}

/** What the contract delivers, as the mails and the invoice line say it. */
export async function factsOf(tx: Db, c: ContractRow) {
  const { hostname, vcpus, memory_mib, disk_gib } = await getVps(tx, SYSTEM_SCOPE, c.vps_id);
  const row = { hostname, vcpus, memory_mib, disk_gib };
  // A plan change paid and not applied yet: the contract already bills its plan (R3.12).
  const pending = await paidPlanChangeOf(tx, c.id);
  const vps = pending
    ? { ...row, vcpus: pending.to_vcpus, memory_mib: pending.to_memory_mib, disk_gib: pending.to_disk_gib }
    : row;
  const { code, name } = await getPlan(tx, c.plan_id);
  return { vps, plan: { code, name } };
}

export function createRenewalInvoicing(ctx: ServiceContext, settings: RenewalSettings, mail: MailService) {
  const url = (p: string) => new URL(p, ctx.config.publicUrl).toString();
  const contractUrl = (c: ContractRow) => url(`/client/contracts/${c.id}`);

  /**
   * R11.2: the next month's invoice, at the contract's price, numbered in this transaction, and
   * its mail. `replaces`: an unpaid renewal invoice voided for this one (same period, R3.12).
   */
  async function issueRenewalInvoice(
    tx: Db,
    c: ContractRow,
    now: Date,
    replaces?: { invoice: RenewalInvoice; why: ReissueWhy },
  ): Promise<RenewalInvoice> {
    const terms = termsFor(c.terms_version);
    // A replacement bills the replaced invoice's period (one renewal period, as every renewal).
    const period = replaces
      ? { start: replaces.invoice.renewal_period_start, end: replaces.invoice.renewal_period_end }
      : { start: c.expires_at, end: renew(contractTimesOf(c), terms).expiresAt };
    const { vps, plan } = await factsOf(tx, c);
    const months = terms.subscriptionPeriodMonths;
    const line = orderLine(
      {
        code: plan.code,
        name: plan.name,
        vcpus: vps.vcpus,
        memoryMiB: vps.memory_mib,
        diskGiB: vps.disk_gib,
        monthlyPriceCents: c.monthly_price_cents,
      },
      months,
      vps.hostname,
    );
    const totals = totalsOf([line.totalCents], c.vat_rate_bp);
    const account = await getAccount(tx, SYSTEM_SCOPE, c.account_id);
    const invoice = await insertInvoice(
      tx,
      {
        account_id: c.account_id,
        order_id: null,
        contract_id: c.id,
        customer_name: account.name,
        issued_at: now,
        currency: 'EUR',
        term_kind: 'subscription',
        term_months: null,
        period_start: period.start,
        period_end: period.end,
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
      invoiceYear(now),
    );
    await insertRenewalInvoice(tx, {
      invoiceId: invoice.id,
      contractId: c.id,
      periodStart: period.start,
      periodEnd: period.end,
    });
    const issued = { ...invoice, renewal_period_start: period.start, renewal_period_end: period.end };
    if (replaces) {
      // The voided invoice names its successor; the client is told which one to pay.
      await voidRenewal(
        tx,
        replaces.invoice,
        now,
        `${replaces.why.reason}: re-issued as invoice ${invoice.number}`,
      );
      const to = await recipientOfContract(tx, c);
      await mail.send(tx, {
        to: to.to,
        template: 'invoice.reissued',
        language: to.language,
        vars: {
          name: to.name,
          hostname: vps.hostname,
          plan: plan.name,
          oldNumber: replaces.invoice.number,
          number: invoice.number,
          total: formatCents(invoice.total_cents, to.language),
          periodStart: mailDate(period.start, to.language),
          periodEnd: mailDate(period.end, to.language),
          why: replaces.why[to.language],
          invoiceUrl: url(`/client/invoices/${invoice.id}`),
        },
        accountId: c.account_id,
        reason: `${replaces.why.reason}: renewal invoice ${replaces.invoice.number} voided, re-issued as ${invoice.number}`,
      });
      return issued;
    }
    const to = await recipientOfContract(tx, c);
    await mail.send(tx, {
      to: to.to,
      template: 'contract.renewal_invoice',
      language: to.language,
      vars: {
        name: to.name,
        hostname: vps.hostname,
        plan: plan.name,
        number: invoice.number,
        total: formatCents(invoice.total_cents, to.language),
        periodStart: mailDate(period.start, to.language),
        periodEnd: mailDate(period.end, to.language),
        payBy: mailDate(c.expires_at, to.language),
        graceEnd: mailDate(graceEndsAt(c.expires_at, settings.renewalGraceDays), to.language),
        invoiceUrl: url(`/client/invoices/${invoice.id}`),
        contractUrl: contractUrl(c),
      },
      accountId: c.account_id,
      reason: `R11.2 subscription renewal invoice for ${period.start.toISOString()} – ${period.end.toISOString()}`,
    });
    return issued;
  }

  /**
   * R3.12 with R11.2: the contract's price changed (a plan change paid); each unpaid renewal
   * invoice at another price is voided (its number stays used) and issued again, for the same
   * period, at the contract's price. `unpaid` are the caller's rows, locked before the contract
   * (lockUnpaidRenewals: invoice → contract order); mails last. Returns the new invoices.
   */
  async function reissueUnpaid(
    tx: Db,
    c: ContractRow,
    unpaid: readonly RenewalInvoice[],
    now: Date,
    why: ReissueWhy,
  ): Promise<RenewalInvoice[]> {
    const out: RenewalInvoice[] = [];
    if (!isRunning(c.state)) return out;
    const months = termsFor(c.terms_version).subscriptionPeriodMonths;
    const due = totalsOf([c.monthly_price_cents * months], c.vat_rate_bp);
    for (const inv of unpaid) {
      if (inv.status !== 'issued') continue;
      if (inv.net_cents === due.netCents && inv.vat_rate_bp === due.vatRateBp) continue;
      out.push(await issueRenewalInvoice(tx, c, now, { invoice: inv, why }));
    }
    return out;
  }

  return { url, contractUrl, issueRenewalInvoice, reissueUnpaid };
}

export type RenewalInvoicing = ReturnType<typeof createRenewalInvoicing>;
