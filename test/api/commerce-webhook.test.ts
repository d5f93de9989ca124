// The payment webhook: public, authenticated by an HMAC-SHA256 of the raw body with the shared
// secret (timing-safe), replay-protected by the event id; good, bad, missing signature, replay;
// the amount's currency is required and must be the invoice's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signWebhookBody } from '../../src/control/services/commerce.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeClient, testApp, type TestApp } from '../helpers/app.ts';

const SECRET = 'whsec-test-0123456789abcdef';
let t: TestApp;
let dc: { id: string };
let planId: string;
before(async () => {
  t = await testApp({ INFOGERE_PAYMENT_WEBHOOK_SECRET: SECRET });
  dc = await t.services.infra.createDatacenter(
    { code: 'PAR1', name: 'Paris 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  planId = (
    await t.services.commerce.createPlan(
      {
        code: 'S1',
        name: 'VPS S',
        vcpus: 1,
        memoryMiB: 1024,
        diskGiB: 20,
        monthlyPriceCents: 599,
        vatRateBp: 2000,
        datacenterIds: [dc.id],
      },
      SYSTEM_ACTOR,
    )
  ).id;
});
after(async () => t?.close());

async function newInvoice() {
  const c = await makeClient(t);
  const s = await login(t, c.email);
  const r = await t.app.inject({
    method: 'POST',
    url: '/v1/orders',
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
    payload: { planId, datacenterId: dc.id, kind: 'fixed', termMonths: 3, hostname: 'hook1' },
  });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { order: { id: string }; invoice: { id: string; number: string; totalCents: number } };
}

const send = (body: string, signature?: string) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/webhooks/payment',
    payload: body,
    headers: {
      'content-type': 'application/json',
      ...(signature !== undefined ? { 'x-infogere-signature': signature } : {}),
    },
  });

const event = (invoiceNumber: string, amountCents: number, eventId: string, currency = 'EUR') =>
  JSON.stringify({
    eventId,
    type: 'payment.succeeded',
    invoiceNumber,
    amountCents,
    currency,
    reference: `psp-${eventId}`,
  });

async function state(invoiceId: string, orderId: string) {
  const db = t.database.db;
  const inv = await db
    .selectFrom('invoices')
    .select('status')
    .where('id', '=', invoiceId)
    .executeTakeFirstOrThrow();
  const o = await db.selectFrom('orders').select('state').where('id', '=', orderId).executeTakeFirstOrThrow();
  const p = await db.selectFrom('payments').selectAll().where('invoice_id', '=', invoiceId).execute();
  return { invoice: inv.status, order: o.state, payments: p };
}

describe('payment webhook', () => {
  it('a good signature records the payment once (source webhook, event id kept)', async () => {
    const { order, invoice } = await newInvoice();
    const body = event(invoice.number, invoice.totalCents, 'evt_good_1');
    const r = await send(body, signWebhookBody(SECRET, body));
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { duplicate: false, outcome: 'paid', invoiceNumber: invoice.number });
    const st = await state(invoice.id, order.id);
    assert.equal(st.invoice, 'paid');
    assert.equal(st.order, 'paid');
    assert.equal(st.payments.length, 1);
    assert.deepEqual(
      [
        st.payments[0]!.source,
        st.payments[0]!.method,
        st.payments[0]!.event_id,
        st.payments[0]!.amount_cents,
      ],
      ['webhook', 'webhook', 'evt_good_1', invoice.totalCents],
    );
  });

  it('a replay of the same event changes nothing and answers duplicate', async () => {
    const { order, invoice } = await newInvoice();
    const body = event(invoice.number, invoice.totalCents, 'evt_replay_1');
    const sig = signWebhookBody(SECRET, body);
    assert.equal((await send(body, sig)).statusCode, 200);
    const again = await Promise.all([send(body, sig), send(body, sig)]);
    for (const r of again) {
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), { duplicate: true, outcome: 'paid', invoiceNumber: invoice.number });
    }
    assert.equal((await state(invoice.id, order.id)).payments.length, 1);
  });

  it('a bad, missing or malformed signature is 403 and changes nothing; so is a body altered after signing', async () => {
    const { order, invoice } = await newInvoice();
    const body = event(invoice.number, invoice.totalCents, 'evt_bad_1');
    const cases: (string | undefined)[] = [
      undefined,
      '',
      'sha256=',
      'sha256=zz',
      signWebhookBody('another-secret', body),
      signWebhookBody(SECRET, body).replace(/^sha256=./, 'sha256=0'),
      signWebhookBody(SECRET, body).slice(7), // no scheme
    ];
    for (const sig of cases) {
      const r = await send(body, sig);
      assert.equal(r.statusCode, 403, String(sig));
      assert.equal(r.json().code, 'webhook.bad_signature');
    }
    const altered = body
      .replace(`"amountCents":${invoice.totalCents}`, `"amountCents":${invoice.totalCents + 0}`)
      .replace('psp-', 'psq-');
    assert.equal((await send(altered, signWebhookBody(SECRET, body))).statusCode, 403);
    const st = await state(invoice.id, order.id);
    assert.deepEqual([st.invoice, st.order, st.payments.length], ['issued', 'awaiting_payment', 0]);
    // The event id was not burnt by the refused calls: the genuine event still goes through.
    assert.equal((await send(body, signWebhookBody(SECRET, body))).json().outcome, 'paid');
  });

  it('a signed event refused by the rules (wrong amount, unknown invoice, already paid) is a clear error, remembered under its id', async () => {
    const { order, invoice } = await newInvoice();
    const wrong = event(invoice.number, invoice.totalCents + 1, 'evt_wrong_amount');
    const r1 = await send(wrong, signWebhookBody(SECRET, wrong));
    assert.equal(r1.statusCode, 400);
    assert.equal(r1.json().code, 'payment.amount_mismatch');
    const replay = await send(wrong, signWebhookBody(SECRET, wrong));
    assert.deepEqual(replay.json(), {
      duplicate: true,
      outcome: 'refused:payment.amount_mismatch',
      invoiceNumber: invoice.number,
    });
    const unknown = event('2026-999999', 100, 'evt_unknown');
    const r2 = await send(unknown, signWebhookBody(SECRET, unknown));
    assert.equal(r2.statusCode, 404);
    assert.equal(r2.json().code, 'invoice.not_found');
    const ok = event(invoice.number, invoice.totalCents, 'evt_ok_then_twice');
    assert.equal((await send(ok, signWebhookBody(SECRET, ok))).statusCode, 200);
    const twice = event(invoice.number, invoice.totalCents, 'evt_second_payment');
    const r3 = await send(twice, signWebhookBody(SECRET, twice));
    assert.equal(r3.statusCode, 409);
    assert.equal(r3.json().code, 'invoice.already_paid');
    assert.equal((await state(invoice.id, order.id)).payments.length, 1);
  });

  it('a payment in another currency is refused (400 payment.currency_mismatch) and nothing is paid; in the invoice’s currency it is accepted', async () => {
    const { order, invoice } = await newInvoice();
    for (const [currency, id] of [
      ['USD', 'evt_usd'],
      ['GBP', 'evt_gbp'],
    ] as const) {
      const body = event(invoice.number, invoice.totalCents, id, currency);
      const r = await send(body, signWebhookBody(SECRET, body));
      assert.equal(r.statusCode, 400, r.body);
      assert.equal(r.json().code, 'payment.currency_mismatch');
      assert.equal(r.json().field, 'currency');
      assert.match(r.json().message, new RegExp(`${currency}.*${invoice.number}.*EUR`));
    }
    const st = await state(invoice.id, order.id);
    assert.deepEqual([st.invoice, st.order, st.payments.length], ['issued', 'awaiting_payment', 0]);
    // Without a currency the event is malformed: 400, nothing paid either.
    const bare = JSON.stringify({
      eventId: 'evt_no_currency',
      type: 'payment.succeeded',
      invoiceNumber: invoice.number,
      amountCents: invoice.totalCents,
      reference: 'psp-x',
    });
    const r0 = await send(bare, signWebhookBody(SECRET, bare));
    assert.equal(r0.statusCode, 400);
    assert.equal(r0.json().code, 'validation.currency');
    assert.equal((await state(invoice.id, order.id)).payments.length, 0);
    // The invoice's currency (in any case) is accepted.
    const ok = event(invoice.number, invoice.totalCents, 'evt_eur', 'eur');
    const r = await send(ok, signWebhookBody(SECRET, ok));
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().outcome, 'paid');
    assert.equal((await state(invoice.id, order.id)).payments.length, 1);
  });

  it('a signed body that is not an event is 400', async () => {
    for (const body of ['not json', '{"eventId":"e1"}', '[]']) {
      const r = await send(body, signWebhookBody(SECRET, body));
      assert.equal(r.statusCode, 400, body);
    }
  });

  it('without a configured secret the webhook refuses every call', async () => {
    const t2 = await testApp();
    try {
      const body = event('2026-000001', 100, 'evt_x');
      const r = await t2.app.inject({
        method: 'POST',
        url: '/v1/webhooks/payment',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-infogere-signature': signWebhookBody(SECRET, body),
        },
      });
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().code, 'webhook.disabled');
    } finally {
      await t2.close();
    }
  });
});
