// /v1/orders reads each order's links with the page (R11.1, R11.2): one query a page instead of
// two more per order, and the same content as before — every order with its invoice, a
// validated one with its contract and VPS, an order without an invoice with none — the same
// in the list, in one order's read and in staff's list of the account.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KyselyPlugin } from 'kysely';
import { listOrdersWithLinks } from '../../src/control/repositories/orders.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let admin: Session;
let dcId: string;
let planId: string;
let planTotal: number;
const { get, post } = requests(() => t);

before(async () => {
  t = await testApp();
  const a = await makeStaff(t, 'admin');
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const dc = await t.services.infra.createDatacenter(
    { code: 'LNK1', name: 'Links 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  dcId = dc.id;
  const r = await post('/v1/admin/plans', admin, {
    code: 'L1',
    name: 'VPS L',
    vcpus: 1,
    memoryMiB: 1024,
    diskGiB: 20,
    monthlyPriceCents: 500,
    vatRateBp: 2000,
    datacenterIds: [dcId],
  });
  assert.equal(r.statusCode, 201, r.body);
  planId = r.json().id;
  planTotal = 600; // one month, 5.00 € + 20 % VAT
});
after(async () => t?.close());

async function client() {
  const c = await makeClient(t);
  return { ...c, s: await login(t, c.email) };
}

async function order(s: Session, hostname: string): Promise<{ id: string; invoiceId: string }> {
  t.clock.advance(1000); // each order at its own instant: the list's order is then known
  const r = await post('/v1/orders', s, { planId, datacenterId: dcId, kind: 'subscription', hostname });
  assert.equal(r.statusCode, 201, r.body);
  return { id: r.json().order.id, invoiceId: r.json().invoice.id };
}

interface Links {
  invoiceId: string | null;
  invoiceNumber: string | null;
  invoiceTotalCents: number | null;
  contractId: string | null;
  vpsId: string | null;
}

/** An order's links read on their own, straight from its invoice and contract rows. */
async function linksOf(orderId: string): Promise<Links> {
  const db = t.database.db;
  const inv = await db.selectFrom('invoices').selectAll().where('order_id', '=', orderId).executeTakeFirst();
  const k = await db.selectFrom('contracts').selectAll().where('order_id', '=', orderId).executeTakeFirst();
  return {
    invoiceId: inv?.id ?? null,
    invoiceNumber: inv?.number ?? null,
    invoiceTotalCents: inv?.total_cents ?? null,
    contractId: k?.id ?? null,
    vpsId: k?.vps_id ?? null,
  };
}

const linksIn = (o: Links): Links => ({
  invoiceId: o.invoiceId,
  invoiceNumber: o.invoiceNumber,
  invoiceTotalCents: o.invoiceTotalCents,
  contractId: o.contractId,
  vpsId: o.vpsId,
});

/** Every item of a list, walking its pages of `limit`. */
async function allPages(url: string, s: Session, limit: number) {
  const items: (Links & { id: string; actions: string[] })[] = [];
  let cursor: string | null = null;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const r = await get(`${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, s);
    assert.equal(r.statusCode, 200, r.body);
    items.push(...r.json().items);
    cursor = r.json().nextCursor;
  } while (cursor);
  return items;
}

describe('/v1/orders: each order with its links, read with the page (R11.1, R11.2)', () => {
  it('a page holds what each order’s own rows say: its invoice, its contract and VPS once validated, nothing when it has none', async () => {
    const a = await client();
    const awaiting = await order(a.s, 'await1');
    const validated = await order(a.s, 'valid1');
    const cancelled = await order(a.s, 'cancel1');
    assert.equal(
      (
        await post(`/v1/admin/invoices/${validated.invoiceId}/payments`, admin, {
          method: 'transfer',
          reference: 'VIR-LINKS',
          amountCents: planTotal,
        })
      ).statusCode,
      201,
    );
    assert.equal((await post(`/v1/admin/orders/${validated.id}/validate`, admin)).statusCode, 200);
    assert.equal(
      (await post(`/v1/orders/${cancelled.id}/cancel`, a.s, { reason: 'changed my mind' })).statusCode,
      200,
    );
    // An order row with no invoice (none is made so through the API): its links are null, not an error.
    const row = await t.database.db
      .selectFrom('orders')
      .selectAll()
      .where('id', '=', awaiting.id)
      .executeTakeFirstOrThrow();
    const { id: _id, ...rest } = row;
    const bare = await t.database.db
      .insertInto('orders')
      .values({ ...rest, hostname: 'bare1', created_at: t.clock.advance(1000) })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Another account's order is in no page of this client.
    const b = await client();
    const other = await order(b.s, 'other1');

    const ids = [awaiting.id, validated.id, cancelled.id, bare.id];
    const expected = new Map<string, Links>();
    for (const id of ids) expected.set(id, await linksOf(id));
    // The four cases are there: invoice only, invoice + contract + VPS, void invoice, nothing.
    assert.ok(expected.get(awaiting.id)!.invoiceId && !expected.get(awaiting.id)!.contractId);
    assert.ok(expected.get(validated.id)!.contractId && expected.get(validated.id)!.vpsId);
    assert.ok(expected.get(cancelled.id)!.invoiceId && !expected.get(cancelled.id)!.vpsId);
    assert.deepEqual(expected.get(bare.id), {
      invoiceId: null,
      invoiceNumber: null,
      invoiceTotalCents: null,
      contractId: null,
      vpsId: null,
    });

    for (const limit of [1, 3, 50]) {
      const items = await allPages('/v1/orders', a.s, limit);
      assert.deepEqual(
        items.map((o) => o.id),
        [bare.id, cancelled.id, validated.id, awaiting.id],
        `newest first, limit ${limit}`,
      );
      for (const o of items) {
        assert.deepEqual(linksIn(o), expected.get(o.id), `links of ${o.id}, limit ${limit}`);
        // One order's read says the same as the list.
        const one = await get(`/v1/orders/${o.id}`, a.s);
        assert.equal(one.statusCode, 200, one.body);
        assert.deepEqual(one.json(), o);
      }
    }
    // Staff's list of the account: the same links (their actions are staff's own).
    const staff = await allPages(`/v1/orders?accountId=${a.account.id}`, admin, 2);
    assert.deepEqual(
      staff.map((o) => [o.id, linksIn(o)]),
      ids.toReversed().map((id) => [id, expected.get(id)]),
    );
    assert.equal((await get(`/v1/orders/${other.id}`, a.s)).statusCode, 404);
  });

  it('one query a page, however many orders it holds', async () => {
    const c = await client();
    for (let i = 0; i < 5; i++) await order(c.s, `count${i}`);
    let queries = 0;
    const counting: KyselyPlugin = {
      // Counted when a result comes back: a subquery's builder is transformed too, not run apart.
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        queries++;
        return args.result;
      },
    };
    const db = t.database.db.withPlugin(counting);
    const scope = { kind: 'client' as const, userId: c.user.id, accountId: c.account.id };
    const page = await listOrdersWithLinks(db, scope, {}, { limit: 5 });
    assert.equal(page.items.length, 5);
    assert.ok(page.items.every((l) => l.invoice !== null && l.contract === null));
    assert.equal(queries, 1);
    queries = 0;
    const first = await listOrdersWithLinks(db, scope, {}, { limit: 2 });
    await listOrdersWithLinks(db, scope, {}, { limit: 2, cursor: first.nextCursor! });
    assert.equal(queries, 2);
  });
});
