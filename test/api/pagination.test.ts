// Cursor pagination of the API's lists (src/control/repositories/pagination.ts): pages in a
// stable order with neither duplicates nor gaps, including rows created at the same instant
// (the id breaks the tie) and rows added between two pages; a client's pages hold only its own
// account's rows, even with a cursor taken from another account's list (R2.1); a cursor the
// list did not give, or a page size out of bounds, is a clear 400.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let support: Session;
let datacenterId: string;
const { get } = requests(() => t);

before(async () => {
  t = await testApp();
  const s = await makeStaff(t, 'support');
  support = await login(t, s.email, { totpSecret: s.totpSecret });
  const dc = await t.database.db
    .insertInto('datacenters')
    .values({
      code: 'PG1',
      name: 'Pages',
      city: 'Paris',
      country: 'FR',
      region: 'FR-IDF',
      created_at: t.clock.now(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  datacenterId = dc.id;
});
after(async () => {
  await t.close();
});

/** A client account with `n` VPSs, created `stepMs` apart (0: all at the same instant). */
async function clientWithVpss(n: number, stepMs: number) {
  const c = await makeClient(t);
  const session = await login(t, c.email);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    if (stepMs) t.clock.advance(stepMs);
    const now = t.clock.now();
    const v = await t.database.db
      .insertInto('vps')
      .values({
        account_id: c.account.id,
        datacenter_id: datacenterId,
        hostname: `p${i}-${randomBytes(2).toString('hex')}`,
        vcpus: 1,
        memory_mib: 256,
        disk_gib: 1,
        image: 'debian-13',
        state: 'pending',
        state_changed_at: now,
        billing_anchor: now,
        client_username: 'camille',
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(v.id);
  }
  return { accountId: c.account.id, session, ids };
}

interface PageBody {
  items: { id: string }[];
  nextCursor: string | null;
}

/** Every page of `url` at `limit` rows a page, checked for size; the ids in the order served. */
async function allPages(
  url: string,
  s: Session,
  limit: number,
  from: string | null = null,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor = from;
  let pages = 0;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const r = await get(
      `${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      s,
    );
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json() as PageBody;
    assert.ok(body.items.length <= limit, 'a page holds at most its limit');
    if (body.nextCursor) assert.equal(body.items.length, limit, 'only the last page is short');
    ids.push(...body.items.map((x) => x.id));
    cursor = body.nextCursor;
    pages++;
    assert.ok(pages < 100, 'the pages end');
  } while (cursor);
  return { ids, pages };
}

const sortedById = (ids: string[]) => [...ids].sort();

describe('cursor pagination (R2.1: a client pages through its own rows only)', () => {
  it('a client’s VPS list comes in pages, oldest first, without duplicate or gap, its own rows only', async () => {
    const alice = await clientWithVpss(7, 1000);
    const bob = await clientWithVpss(3, 1000);
    const { ids, pages } = await allPages('/v1/vps', alice.session, 3);
    assert.equal(pages, 3);
    assert.deepEqual(ids, alice.ids, 'every VPS once, in creation order');
    const bobs = await allPages('/v1/vps', bob.session, 2);
    assert.deepEqual(bobs.ids, bob.ids);
  });

  it('rows created at the same instant are ordered by id, and none is lost between pages', async () => {
    const c = await clientWithVpss(6, 0);
    const { ids } = await allPages('/v1/vps', c.session, 4);
    assert.deepEqual(ids, sortedById(c.ids));
  });

  it('a row added after the first page neither repeats a row nor hides one', async () => {
    const c = await clientWithVpss(4, 1000);
    const first = (await get('/v1/vps?limit=2', c.session)).json() as PageBody;
    assert.deepEqual(
      first.items.map((x) => x.id),
      c.ids.slice(0, 2),
    );
    // A newer VPS (it belongs at the end, oldest first).
    const more = await t.database.db
      .insertInto('vps')
      .values({
        account_id: c.accountId,
        datacenter_id: datacenterId,
        hostname: 'late',
        vcpus: 1,
        memory_mib: 256,
        disk_gib: 1,
        image: 'debian-13',
        state: 'pending',
        state_changed_at: t.clock.advance(1000),
        billing_anchor: t.clock.now(),
        client_username: 'camille',
        created_at: t.clock.now(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const rest = await allPages('/v1/vps', c.session, 2, first.nextCursor);
    assert.deepEqual(rest.ids, [...c.ids.slice(2), more.id]);
  });

  it('another account’s cursor positions a client in its own list only', async () => {
    const alice = await clientWithVpss(3, 1000);
    const bob = await clientWithVpss(3, 1000);
    const aliceFirst = (await get('/v1/vps?limit=1', alice.session)).json() as PageBody;
    // Alice's cursor (her first VPS's key) given by Bob: Bob's rows after that point, never hers.
    const r = await get(`/v1/vps?limit=50&cursor=${encodeURIComponent(aliceFirst.nextCursor!)}`, bob.session);
    assert.equal(r.statusCode, 200);
    const got = (r.json() as PageBody).items.map((x) => x.id);
    assert.ok(
      got.every((id) => bob.ids.includes(id)),
      'only Bob’s VPSs',
    );
    assert.deepEqual(got, bob.ids, 'Bob’s are all newer than Alice’s first');
  });

  it('staff page through every VPS, newest first, with the same guarantees', async () => {
    const a = await clientWithVpss(4, 1000);
    const b = await clientWithVpss(4, 0);
    const { ids } = await allPages(`/v1/admin/vps?accountId=${a.accountId}`, support, 3);
    assert.deepEqual(ids, [...a.ids].reverse());
    const same = await allPages(`/v1/admin/vps?accountId=${b.accountId}`, support, 3);
    assert.deepEqual(same.ids, sortedById(b.ids).reverse(), 'ties by id, descending');
    const all = await allPages('/v1/admin/vps', support, 5);
    assert.equal(new Set(all.ids).size, all.ids.length, 'no duplicate');
    for (const id of [...a.ids, ...b.ids]) assert.ok(all.ids.includes(id));
  });

  it('invoices page by number, newest first; orders by creation, newest first; a client sees its own', async () => {
    const alice = await clientWithVpss(0, 0);
    const bob = await clientWithVpss(0, 0);
    const plan = await t.database.db
      .insertInto('plans')
      .values({
        code: `PG${randomBytes(2).toString('hex').toUpperCase()}`,
        name: 'Pages',
        vcpus: 1,
        memory_mib: 256,
        disk_gib: 1,
        monthly_price_cents: 500,
        vat_rate_bp: 2000,
        active: true,
        created_at: t.clock.now(),
        updated_at: t.clock.now(),
      })
      .returning(['id', 'code', 'name'])
      .executeTakeFirstOrThrow();
    const made: Record<string, { orders: string[]; invoices: string[] }> = {
      [alice.accountId]: { orders: [], invoices: [] },
      [bob.accountId]: { orders: [], invoices: [] },
    };
    const created: string[] = [];
    for (let i = 0; i < 10; i++) {
      const accountId = i % 3 === 0 ? bob.accountId : alice.accountId;
      const now = t.clock.advance(1000);
      const o = await t.database.db
        .insertInto('orders')
        .values({
          account_id: accountId,
          plan_id: plan.id,
          datacenter_id: datacenterId,
          kind: 'subscription',
          hostname: `o${i}`,
          client_username: 'camille',
          plan_code: plan.code,
          plan_name: plan.name,
          vcpus: 1,
          memory_mib: 256,
          disk_gib: 1,
          monthly_price_cents: 500,
          vat_rate_bp: 2000,
          state: 'awaiting_payment',
          state_changed_at: now,
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      // Numbers follow the series (year-seq, no gap): the next after what the database holds.
      const last = await t.database.db
        .selectFrom('invoices')
        .select((e) => e.fn.max('seq').as('seq'))
        .where('year', '=', 2026)
        .executeTakeFirst();
      const seq = Number(last?.seq ?? 0) + 1;
      const inv = await t.database.db
        .insertInto('invoices')
        .values({
          number: `2026-${String(seq).padStart(6, '0')}`,
          year: 2026,
          seq,
          account_id: accountId,
          order_id: o.id,
          customer_name: 'A client',
          issued_at: now,
          currency: 'EUR',
          term_kind: 'subscription',
          net_cents: 500,
          vat_rate_bp: 2000,
          vat_cents: 100,
          total_cents: 600,
          status: 'issued',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      made[accountId]!.orders.push(o.id);
      made[accountId]!.invoices.push(inv.id);
      created.push(inv.id);
    }
    const aliceInvoices = await allPages('/v1/invoices', alice.session, 4);
    assert.deepEqual(aliceInvoices.ids, [...made[alice.accountId]!.invoices].reverse());
    const staffInvoices = await allPages('/v1/invoices', support, 3);
    assert.deepEqual(
      staffInvoices.ids.filter((id) => created.includes(id)),
      [...created].reverse(),
      'staff: both accounts’ invoices, by number, newest first',
    );
    assert.equal(new Set(staffInvoices.ids).size, staffInvoices.ids.length, 'no duplicate');
    const aliceOrders = await allPages('/v1/orders', alice.session, 3);
    assert.deepEqual(aliceOrders.ids, [...made[alice.accountId]!.orders].reverse());
    const bobOrders = await allPages(`/v1/orders?accountId=${alice.accountId}`, bob.session, 3);
    assert.deepEqual(
      bobOrders.ids,
      [...made[bob.accountId]!.orders].reverse(),
      'the scope wins over the filter',
    );
  });

  it('staff page through accounts (oldest first) and alerts (newest first, open ones or all)', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      made.push((await makeClient(t)).account.id);
    }
    const accounts = await allPages('/v1/admin/accounts', support, 4);
    assert.equal(new Set(accounts.ids).size, accounts.ids.length, 'no duplicate');
    assert.deepEqual(
      accounts.ids.filter((id) => made.includes(id)),
      made,
    );
    const alerts: string[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await t.database.db
        .insertInto('staff_alerts')
        .values({
          at: t.clock.advance(1000),
          kind: 'vm.crashed',
          subject_type: 'vps',
          subject_id: `pages-${i}`,
          message: 'stopped',
          ...(i % 2 ? { acknowledged_at: t.clock.now(), acknowledged_by: 'staff' } : {}),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      alerts.push(a.id);
    }
    const all = await allPages('/v1/admin/alerts', support, 2);
    assert.deepEqual(
      all.ids.filter((id) => alerts.includes(id)),
      [...alerts].reverse(),
    );
    const open = await allPages('/v1/admin/alerts?open=true', support, 2);
    assert.deepEqual(
      open.ids.filter((id) => alerts.includes(id)),
      [alerts[4], alerts[2], alerts[0]],
    );
  });

  it('a cursor the list did not give, or a page size out of bounds, is a clear 400', async () => {
    const c = await clientWithVpss(1, 0);
    for (const cursor of [
      'nonsense',
      'W10',
      Buffer.from('["x","y"]').toString('base64url'),
      Buffer.from('[1,2]').toString('base64url'),
    ]) {
      const r = await get(`/v1/vps?cursor=${encodeURIComponent(cursor)}`, c.session);
      assert.equal(r.statusCode, 400, cursor);
      assert.equal(r.json().code, 'validation.cursor', cursor);
      assert.match(r.json().message, /cursor/);
    }
    // An invoice cursor (two numbers) is no VPS cursor (a time and an id), and the reverse.
    const r = await get(`/v1/invoices?cursor=${Buffer.from('[2026,1]').toString('base64url')}`, c.session);
    assert.equal(r.statusCode, 200);
    const wrong = await get(
      `/v1/invoices?cursor=${Buffer.from('["2026-01-01T00:00:00.000Z","x"]').toString('base64url')}`,
      c.session,
    );
    assert.equal(wrong.statusCode, 400);
    for (const limit of ['0', '201', 'x']) {
      const l = await get(`/v1/vps?limit=${limit}`, c.session);
      assert.equal(l.statusCode, 400, limit);
    }
  });
});
