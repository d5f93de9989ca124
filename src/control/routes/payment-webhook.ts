// The payment provider's webhook (R11.1, R11.2; docs/payments.md): public, authenticated by
// the signature of its raw body (services/commerce-webhook.ts), applied once per event id.
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { App } from '../http/types.ts';
import { WEBHOOK_SIGNATURE_HEADER } from '../services/commerce.ts';
import type { Services } from '../services/index.ts';
import { Nullable } from './commerce-schemas.ts';
import { ErrorSchema } from './schemas.ts';

/** The raw bytes of the webhook's body, kept by its content-type parser for the signature. */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

export function paymentWebhookRoutes(app: App, s: Services): void {
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
