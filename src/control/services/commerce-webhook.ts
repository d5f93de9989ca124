// Commerce, the payment provider's webhook (R11.1, R11.2): authenticated by an HMAC-SHA256 of
// the raw body with the shared secret (timing-safe), applied once per event id (a replay
// changes nothing and gets the first outcome back), in the invoice's currency only
// (docs/payments.md). The payment itself is services/commerce-payments.ts's payInTx.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { invalidData, isDomainError, notAllowed, notFound, type DomainError } from '../../domain/errors.ts';
import { getInvoiceByNumber } from '../repositories/invoices.ts';
import { claimWebhookEvent, getWebhookEvent, setWebhookOutcome } from '../repositories/payments.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { inTransaction } from '../repositories/transactions.ts';
import type { CommerceKit } from './commerce-kit.ts';
import { payInTx } from './commerce-payments.ts';
import type { AuditActor } from './context.ts';

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

function parseEvent(rawBody: Buffer): WebhookEvent {
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
  return ev;
}

export function createCommerceWebhook(kit: CommerceKit) {
  const { ctx, db, now, auditAfter } = kit;

  /** Throws unless the raw body carries a valid signature under the configured secret. */
  function checkWebhookSignature(rawBody: Buffer, signature: string | undefined): void {
    const secret = ctx.config.paymentWebhookSecret;
    if (!secret) throw notFound('webhook.disabled', 'The payment webhook is not configured');
    if (!verifyWebhookSignature(secret, rawBody, signature))
      throw notAllowed('webhook.bad_signature', 'Missing or wrong webhook signature');
  }

  return {
    checkWebhookSignature,

    async paymentWebhook(
      rawBody: Buffer,
      signature: string | undefined,
    ): Promise<{ duplicate: boolean; outcome: string; invoiceNumber: string | null }> {
      checkWebhookSignature(rawBody, signature);
      const ev = parseEvent(rawBody);
      const bodySha256 = createHash('sha256').update(rawBody).digest('hex');
      const actor: AuditActor = { userId: null, label: 'webhook', ip: null };
      try {
        const r = await inTransaction(db, async (tx) => {
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
          const paid = await payInTx(kit, tx, invoice, {
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
          const seen = await getWebhookEvent(db, ev.eventId);
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
        const fresh = await claimWebhookEvent(db, { eventId: ev.eventId, at: now(), bodySha256 });
        if (fresh)
          await setWebhookOutcome(db, ev.eventId, `refused:${err.code}`, {
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
  };
}
