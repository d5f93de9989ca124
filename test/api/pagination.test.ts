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
let admin: Session;
let datacenterId: string;
const { get } = requests(() => t);

before(async () => {
  t = await testApp();
  const s = await makeStaff(t, 'support');
  support = await login(t, s.email, { totpSecret: s.totpSecret });
  const a = await makeStaff(t, 'admin');
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  t.services.mail.registerTemplate({
    name: 'test.pages',
    vars: ['n'],
    subject: { fr: 'Page {{n}}', en: 'Page {{n}}' },
    text: { fr: 'Essai {{n}}', en: 'Test {{n}}' },
    html: { fr: '<p>Essai {{n}}</p>', en: '<p>Test {{n}}</p>' },
  });
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

type Item = Record<string, unknown> & { id: string };

/** Every page of `url` at `limit` rows a page, checked for size; the ids in the order served. */
async function allPages(
  url: string,
  s: Session,
  limit: number,
  from: string | null = null,
): Promise<{ ids: string[]; pages: number; items: Item[] }> {
  const ids: string[] = [];
  const items: Item[] = [];
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
    items.push(...(body.items as Item[]));
    cursor = body.nextCursor;
    pages++;
    assert.ok(pages < 100, 'the pages end');
  } while (cursor);
  return { ids, pages, items };
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
    // An invoice cursor (its list's name, two numbers) is no VPS cursor (a time and an id).
    const r = await get(
      `/v1/invoices?cursor=${Buffer.from('["invoices",2026,1]').toString('base64url')}`,
      c.session,
    );
    assert.equal(r.statusCode, 200);
    const wrong = await get(
      `/v1/invoices?cursor=${Buffer.from('["invoices","2026-01-01T00:00:00.000Z","x"]').toString('base64url')}`,
      c.session,
    );
    assert.equal(wrong.statusCode, 400);
    for (const limit of ['0', '201', 'x']) {
      const l = await get(`/v1/vps?limit=${limit}`, c.session);
      assert.equal(l.statusCode, 400, limit);
    }
  });
});

/** The cursor a list gives for its first page of `limit` rows. */
async function firstCursor(url: string, s: Session, limit = 1): Promise<string> {
  const sep = url.includes('?') ? '&' : '?';
  const r = await get(`${url}${sep}limit=${limit}`, s);
  assert.equal(r.statusCode, 200, r.body);
  const c = (r.json() as PageBody).nextCursor;
  assert.ok(c, `${url} has a second page`);
  return c;
}

async function refusesCursor(url: string, cursor: string, s: Session) {
  const sep = url.includes('?') ? '&' : '?';
  const r = await get(`${url}${sep}cursor=${encodeURIComponent(cursor)}`, s);
  assert.equal(r.statusCode, 400, `${url} with another list's cursor: ${r.body}`);
  assert.equal(r.json().code, 'validation.cursor');
  assert.match(r.json().message, /not given by this list/);
}

describe('every list is paged (R2.1: a client pages through its own rows only)', () => {
  it('the cursor of another list is a clear 400, even when both lists order by the same kinds of key', async () => {
    const c = await clientWithVpss(2, 1000);
    const vpsCursor = await firstCursor('/v1/vps', c.session);
    await refusesCursor('/v1/admin/vps', vpsCursor, support);
    await refusesCursor('/v1/orders', vpsCursor, c.session);
    const auditCursor = await firstCursor('/v1/admin/audit', admin);
    await refusesCursor('/v1/admin/notices', auditCursor, support);
    await refusesCursor('/v1/admin/traffic/flagged', auditCursor, support);
    await refusesCursor(`/v1/vps/${c.ids[0]}/events`, auditCursor, c.session);
    const accountsCursor = await firstCursor('/v1/admin/accounts', support);
    await refusesCursor('/v1/admin/clients', accountsCursor, support);
    await refusesCursor('/v1/admin/outbox', accountsCursor, support);
    await refusesCursor('/v1/admin/authority-notices', accountsCursor, support);
  });

  it('clients: soonest open proof deadline first (R6.1), then the others newest first, across pages', async () => {
    const made: string[] = [];
    for (let i = 0; i < 6; i++) {
      t.clock.advance(1000);
      made.push((await makeClient(t)).account.id);
    }
    const now = t.clock.now();
    const day = 86_400_000;
    const request = (accountId: string, dueInDays: number, state: 'open' | 'approved' = 'open') =>
      t.database.db
        .insertInto('identity_requests')
        .values({
          account_id: accountId,
          kind: 'identity',
          note: 'pages',
          requested_by: null,
          requested_at: now,
          due_at: new Date(now.getTime() + dueInDays * day),
          terms_version: '2015-06-01',
          state,
        })
        .execute();
    // made[1] and made[4] are due on the same day: the newer account first; made[3] the soonest;
    // made[5]'s only request is approved (no open deadline); made[1]'s later request is ignored.
    await request(made[1]!, 2);
    await request(made[1]!, 9);
    await request(made[4]!, 2);
    await request(made[3]!, 1);
    await request(made[5]!, 1, 'approved');
    const { ids, items } = await allPages('/v1/admin/clients', support, 2);
    assert.equal(new Set(ids).size, ids.length, 'no duplicate');
    const total = await t.database.db
      .selectFrom('accounts')
      .select((e) => e.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(ids.length, Number(total.n), 'every account once: no gap');
    assert.deepEqual(ids.slice(0, 3), [made[3], made[4], made[1]], 'the open deadlines first, soonest first');
    assert.deepEqual(
      ids.filter((id) => made.includes(id)),
      [made[3], made[4], made[1], made[5], made[2], made[0]],
      'then the accounts without an open request, newest first',
    );
    const first = items.find((x) => x.id === made[3])!;
    assert.equal(first.identityStatus, 'requested');
    assert.equal(first.openRequests, 1);
    assert.equal(first.nextDueAt, new Date(now.getTime() + day).toISOString());
    assert.equal(items.find((x) => x.id === made[5])!.identityStatus, 'verified');
    // Each page says when it was served (the countdowns' clock).
    assert.equal((await get('/v1/admin/clients?limit=1', support)).json().now, t.clock.now().toISOString());
  });

  it('the audit log pages newest first by its chain order, for admins', async () => {
    const { ids } = await allPages('/v1/admin/audit', admin, 4);
    assert.ok(ids.length > 4, 'several pages');
    const numbers = ids.map(Number);
    assert.deepEqual(
      numbers,
      [...numbers].sort((x, y) => y - x),
      'newest first',
    );
    assert.equal(new Set(ids).size, ids.length, 'no duplicate');
    const total = await t.database.db
      .selectFrom('audit_log')
      .select((e) => e.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    assert.ok(ids.length >= Number(total.n) - 1, 'no gap (the pages’ own reads may add entries)');
    assert.equal((await get('/v1/admin/audit', support)).statusCode, 403, 'support does not read it');
  });

  it('outbox and notices page newest first; a client pages through its own notices only', async () => {
    const alice = await makeClient(t);
    const bob = await makeClient(t);
    const aliceSession = await login(t, alice.email);
    const bobSession = await login(t, bob.email);
    const sent: Record<string, string[]> = { [alice.account.id]: [], [bob.account.id]: [] };
    for (let i = 0; i < 7; i++) {
      t.clock.advance(1000);
      const who = i % 3 === 2 ? bob : alice;
      const { outboxId } = await t.services.mail.send(t.database.db, {
        to: who.email,
        template: 'test.pages',
        language: 'fr',
        vars: { n: String(i) },
        accountId: who.account.id,
        reason: 'test: pages',
      });
      sent[who.account.id]!.push(outboxId);
    }
    const outbox = await allPages(`/v1/admin/outbox?accountId=${alice.account.id}`, support, 2);
    assert.deepEqual(outbox.ids, [...sent[alice.account.id]!].reverse());
    const page = (await get(`/v1/admin/outbox?accountId=${alice.account.id}&limit=2`, support)).json();
    assert.equal(typeof page.relayConfigured, 'boolean', 'each page keeps the relay state');
    assert.equal(typeof page.counts.pending, 'number', 'and the counts');

    const mine = await allPages('/v1/notices', aliceSession, 2);
    assert.ok(
      mine.items.every((n) => n.accountId === alice.account.id),
      'hers only',
    );
    assert.deepEqual(
      mine.items.filter((n) => n.template === 'test.pages').map((n) => n.outboxId),
      [...sent[alice.account.id]!].reverse(),
      'newest first',
    );
    const staff = await allPages(`/v1/admin/notices?accountId=${alice.account.id}`, support, 3);
    assert.deepEqual(staff.ids, mine.ids, 'staff read the same chain for her account');
    // Alice's cursor given by Bob: Bob's notices after that point, never hers.
    const aliceCursor = await firstCursor('/v1/notices', aliceSession);
    const r = await get(`/v1/notices?cursor=${encodeURIComponent(aliceCursor)}`, bobSession);
    assert.equal(r.statusCode, 200);
    const got = (r.json() as { items: { accountId: string }[] }).items;
    assert.ok(got.length > 0 && got.every((n) => n.accountId === bob.account.id), 'only Bob’s notices');
  });

  it('authority notices page newest first (staff)', async () => {
    const c = await makeClient(t);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const n = await t.database.db
        .insertInto('authority_notices')
        .values({
          account_id: c.account.id,
          vps_id: null,
          authority: 'Tribunal',
          type: 'judicial',
          reference: `RG ${i}`,
          received_on: '2026-01-02',
          sanction_ordered: 'restriction',
          withheld: false,
          notes: null,
          scan_path: null,
          scan_file_name: null,
          scan_content_type: null,
          scan_size: null,
          scan_sha256: null,
          recorded_by: 'admin@example.test',
          recorded_at: t.clock.advance(1000),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      made.push(n.id);
    }
    const { ids } = await allPages('/v1/admin/authority-notices', support, 2);
    assert.equal(new Set(ids).size, ids.length, 'no duplicate');
    assert.deepEqual(
      ids.filter((id) => made.includes(id)),
      [...made].reverse(),
    );
  });

  it('a VPS’s events page newest first, for its owner and staff; another client reads none', async () => {
    const owner = await clientWithVpss(1, 0);
    const other = await clientWithVpss(1, 0);
    const vpsId = owner.ids[0]!;
    for (let i = 0; i < 5; i++)
      await t.database.db
        .insertInto('vps_events')
        .values({
          vps_id: vpsId,
          at: t.clock.advance(1000),
          kind: 'provision',
          details: JSON.stringify({ percent: i }),
        })
        .execute();
    const order = (items: Item[]) => items.map((e) => (e.details as { percent: number }).percent);
    // allPages reads `id`: events have none, their order is what is checked.
    const pages = async (s: Session) => {
      const out: Item[] = [];
      let cursor: string | null = null;
      do {
        const r = await get(
          `/v1/vps/${vpsId}/events?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          s,
        );
        assert.equal(r.statusCode, 200, r.body);
        const body = r.json() as { items: Item[]; nextCursor: string | null };
        assert.ok(body.items.length <= 2);
        out.push(...body.items);
        cursor = body.nextCursor;
      } while (cursor);
      return out;
    };
    assert.deepEqual(order(await pages(owner.session)), [4, 3, 2, 1, 0]);
    assert.deepEqual(order(await pages(support)), [4, 3, 2, 1, 0]);
    assert.equal((await get(`/v1/vps/${vpsId}/events`, other.session)).statusCode, 404);
    const cursor = await firstCursor(`/v1/vps/${vpsId}/events`, owner.session);
    const theirs = await get(`/v1/vps/${vpsId}/events?cursor=${encodeURIComponent(cursor)}`, other.session);
    assert.equal(theirs.statusCode, 404, 'a cursor opens no other account’s VPS');
  });

  it('flagged traffic samples page newest first (staff), by VPS or all', async () => {
    const c = await clientWithVpss(1, 0);
    const vpsId = c.ids[0]!;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const f = await t.database.db
        .insertInto('traffic_flagged')
        .values({
          vps_id: vpsId,
          source: 'tap',
          direction: 'out',
          sample_kind: 'normal',
          flag: 'impossible_rate',
          from_at: t.clock.now(),
          to_at: t.clock.advance(1000),
          raw_delta: String(1000 + i),
          counter_id: '7',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      made.push(f.id);
    }
    const byVps = await allPages(`/v1/admin/traffic/flagged?vpsId=${vpsId}`, support, 2);
    assert.deepEqual(byVps.ids, [...made].reverse());
    const all = await allPages('/v1/admin/traffic/flagged', support, 2);
    assert.deepEqual(
      all.ids.filter((id) => made.includes(id)),
      [...made].reverse(),
    );
  });
});
