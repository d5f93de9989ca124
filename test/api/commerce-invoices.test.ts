// Invoice numbering is sequential and gap-free under concurrent issue, with some issuing
// transactions rolled back on purpose: committed numbers are exactly 1..N of the year.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb } from '../../src/control/db/database.ts';
import { insertInvoice } from '../../src/control/repositories/invoices.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeClient, testApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let dc: { id: string };
let planId: string;
before(async () => {
  t = await testApp();
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
  // A failure injected after the number is taken and the invoice row written: an invoice line
  // for a hostname starting with "fail" aborts the whole issuing transaction.
  await sql`
    CREATE FUNCTION test_fail_line() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.description LIKE '%: fail%' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
    CREATE TRIGGER test_fail_line BEFORE INSERT ON invoice_lines FOR EACH ROW EXECUTE FUNCTION test_fail_line();
  `.execute(t.database.db);
});
after(async () => t?.close());

async function committedSeqs(year: number): Promise<number[]> {
  const rows = await t.database.db
    .selectFrom('invoices')
    .select('seq')
    .where('year', '=', year)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.seq);
}

describe('gap-free invoice numbering', () => {
  it('20 orders in parallel, 7 rolled back after taking a number: committed numbers are 1..13, consecutive', async () => {
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const hosts = Array.from({ length: 20 }, (_, i) => (i % 3 === 1 ? `fail${i}` : `ok${i}`));
    const results = await Promise.all(
      hosts.map((hostname) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/orders',
          headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
          payload: { planId, datacenterId: dc.id, kind: 'subscription', hostname },
        }),
      ),
    );
    const ok = results.filter((r) => r.statusCode === 201);
    const failed = results.filter((r) => r.statusCode === 500);
    assert.equal(failed.length, 7);
    assert.equal(ok.length, 13);
    const year = t.clock.now().getUTCFullYear();
    assert.deepEqual(
      await committedSeqs(year),
      Array.from({ length: 13 }, (_, i) => i + 1),
    );
    const numbers = ok.map((r) => r.json().invoice.number as string).sort();
    assert.deepEqual(
      numbers,
      Array.from({ length: 13 }, (_, i) => `${year}-${String(i + 1).padStart(6, '0')}`),
    );
    // Nothing half-made: no order without its invoice.
    const orders = await t.database.db
      .selectFrom('orders')
      .select('hostname')
      .where('account_id', '=', c.account.id)
      .execute();
    assert.equal(orders.length, 13);
    assert.ok(orders.every((o) => o.hostname.startsWith('ok')));
  });

  it('truly concurrent transactions (one connection each) queue on the counter row; rollbacks leave no gap', async () => {
    const { db } = createDb(t.database.url, { max: 25 });
    try {
      const acc = (await makeClient(t)).account;
      const year = 2031; // a series of its own
      const issue = (i: number) =>
        db.transaction().execute(async (tx) => {
          const inv = await insertInvoice(
            tx,
            {
              account_id: acc.id,
              order_id: null,
              contract_id: null,
              customer_name: acc.name,
              issued_at: new Date(`${year}-06-01T00:00:00Z`),
              currency: 'EUR',
              term_kind: 'subscription',
              term_months: null,
              period_start: null,
              period_end: null,
              net_cents: 100,
              vat_rate_bp: 2000,
              vat_cents: 20,
              total_cents: 120,
              status: 'issued',
              paid_at: null,
              voided_at: null,
              void_reason: null,
            },
            [{ description: `line ${i}`, quantity: 1, unit_cents: 100, total_cents: 100 }],
            year,
          );
          // Hold the lock a little while others wait, then roll back every fourth one.
          await sql`SELECT count(*) FROM invoices`.execute(tx);
          if (i % 4 === 0) throw new Error(`rollback ${i}`);
          return inv.seq;
        });
      const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => issue(i)));
      const committed = settled.filter((r) => r.status === 'fulfilled').length;
      assert.equal(committed, 15);
      assert.deepEqual(
        await committedSeqs(year),
        Array.from({ length: 15 }, (_, i) => i + 1),
      );
      const counter = await t.database.db
        .selectFrom('invoice_counters')
        .select('last_seq')
        .where('year', '=', year)
        .executeTakeFirstOrThrow();
      assert.equal(counter.last_seq, 15);
    } finally {
      await db.destroy();
    }
  });

  it('a new year starts a new series at 1', async () => {
    t.clock.set('2027-01-01T00:00:05Z');
    const c = await makeClient(t);
    const s = await login(t, c.email);
    const r = await t.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
      payload: { planId, datacenterId: dc.id, kind: 'fixed', termMonths: 1, hostname: 'newyear' },
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().invoice.number, '2027-000001');
  });
});
