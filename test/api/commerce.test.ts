// Catalogue, orders, invoices, payments, validation and contracts (issue 5: R11.1, R11.2):
// order → invoice → payment → validation → contract + VPS pending + provisioning job queued;
// bad input (paying twice, validating unpaid, plan not sold there, cancel voids the invoice);
// nothing half-made on error; tenancy (another client's objects are 404).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { CURRENT_TERMS } from '../../src/domain/terms.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let admin: Session;
let support: Session;
let par: { id: string };
let lyo: { id: string };
let planS: { id: string; monthlyPriceCents: number };
before(async () => {
  t = await testApp();
  const a = await makeStaff(t, 'admin');
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const sp = await makeStaff(t, 'support');
  support = await login(t, sp.email, { totpSecret: sp.totpSecret });
  par = await t.services.infra.createDatacenter(
    { code: 'PAR1', name: 'Paris 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  lyo = await t.services.infra.createDatacenter(
    { code: 'LYO1', name: 'Lyon 1', city: 'Lyon', country: 'FR', region: 'FR-ARA' },
    SYSTEM_ACTOR,
  );
  const r = await post('/v1/admin/plans', {
    code: 'S1',
    name: 'VPS S',
    vcpus: 1,
    memoryMiB: 1024,
    diskGiB: 20,
    monthlyPriceCents: 599,
    vatRateBp: 2000,
    datacenterIds: [par.id],
  });
  assert.equal(r.statusCode, 201, r.body);
  planS = r.json();
});
after(async () => t?.close());

const post = (url: string, payload: object, s = admin) =>
  t.app.inject({ method: 'POST', url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
const patch = (url: string, payload: object, s = admin) =>
  t.app.inject({ method: 'PATCH', url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
const get = (url: string, s = admin) => t.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });

async function client() {
  const c = await makeClient(t);
  return { ...c, s: await login(t, c.email) };
}

async function order(s: Session, body: Record<string, unknown> = {}) {
  const r = await post(
    '/v1/orders',
    { planId: planS.id, datacenterId: par.id, kind: 'fixed', termMonths: 12, hostname: 'web1', ...body },
    s,
  );
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as {
    order: { id: string; state: string; username: string };
    invoice: {
      id: string;
      number: string;
      totalCents: number;
      netCents: number;
      vatCents: number;
      vatRateBp: number;
      termKind: string;
      termMonths: number | null;
      termText: { fr: string; en: string };
      status: string;
      lines: { quantity: number; unitCents: number; totalCents: number }[];
    };
  };
}

const pay = (invoiceId: string, amountCents: number, s = admin) =>
  post(
    `/v1/admin/invoices/${invoiceId}/payments`,
    { method: 'transfer', reference: `VIR-${invoiceId.slice(0, 8)}`, amountCents },
    s,
  );

async function counts() {
  const db = t.database.db;
  const n = async (table: 'orders' | 'invoices' | 'contracts' | 'vps' | 'payments') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    orders: await n('orders'),
    invoices: await n('invoices'),
    contracts: await n('contracts'),
    vps: await n('vps'),
    payments: await n('payments'),
  };
}

describe('catalogue', () => {
  it('everyone logged in reads the plans on sale, where each is sold, and the terms version in force', async () => {
    const c = await client();
    const r = await get('/v1/catalogue', c.s);
    assert.equal(r.statusCode, 200, r.body);
    const cat = r.json();
    assert.equal(cat.termsVersion, CURRENT_TERMS.version);
    const s1 = cat.plans.find((p: { code: string }) => p.code === 'S1');
    assert.deepEqual(
      [s1.vcpus, s1.memoryMiB, s1.diskGiB, s1.monthlyPriceCents, s1.vatRateBp, s1.monthlyPriceWithVatCents],
      [1, 1024, 20, 599, 2000, 719],
    );
    assert.deepEqual(
      s1.datacenters.map((d: { code: string }) => d.code),
      ['PAR1'],
    );
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/catalogue' })).statusCode, 401);
  });

  it('only admins manage plans; a clear error for a duplicate code or an unknown datacenter', async () => {
    const body = {
      code: 'M1',
      name: 'VPS M',
      vcpus: 2,
      memoryMiB: 2048,
      diskGiB: 40,
      monthlyPriceCents: 1199,
      vatRateBp: 2000,
      datacenterIds: [par.id, lyo.id],
    };
    assert.equal((await post('/v1/admin/plans', body, support)).statusCode, 403);
    const c = await client();
    assert.equal((await post('/v1/admin/plans', body, c.s)).statusCode, 403);
    const ok = await post('/v1/admin/plans', body);
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal((await post('/v1/admin/plans', body)).json().code, 'plan.code_taken');
    const bad = await post('/v1/admin/plans', {
      ...body,
      code: 'M2',
      datacenterIds: ['00000000-0000-4000-8000-000000000000'],
    });
    assert.equal(bad.statusCode, 404);
    assert.equal(bad.json().code, 'datacenter.not_found');
    assert.equal(
      (await get('/v1/admin/plans')).json().filter((p: { code: string }) => p.code === 'M2').length,
      0,
      'nothing half-made',
    );
    const frac = await post('/v1/admin/plans', { ...body, code: 'M3', monthlyPriceCents: 11.99 });
    assert.equal(frac.statusCode, 400);
    assert.equal(frac.json().code, 'validation.monthlyPriceCents');
    // Deactivated: gone from the catalogue, still listed for staff.
    const off = await patch(`/v1/admin/plans/${ok.json().id}`, { active: false });
    assert.equal(off.statusCode, 200, off.body);
    assert.equal(
      (await get('/v1/catalogue', c.s)).json().plans.some((p: { code: string }) => p.code === 'M1'),
      false,
    );
    assert.equal(
      (await get('/v1/admin/plans', support)).json().some((p: { code: string }) => p.code === 'M1'),
      true,
    );
    const refused = await post(
      '/v1/orders',
      { planId: ok.json().id, datacenterId: par.id, kind: 'subscription', hostname: 'm1' },
      c.s,
    );
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().code, 'plan.inactive');
  });
});

describe('orders, invoices, payment, validation, contract', () => {
  it('R11.1 a fixed-term order issues an invoice at once: numbered, in cents, VAT shown, the term on it', async () => {
    const c = await client();
    const { order: o, invoice: inv } = await order(c.s);
    assert.equal(o.state, 'awaiting_payment');
    assert.match(inv.number, /^2026-\d{6}$/);
    assert.equal(inv.status, 'issued');
    assert.deepEqual(
      [inv.lines[0]!.quantity, inv.lines[0]!.unitCents, inv.lines[0]!.totalCents],
      [12, 599, 7188],
    );
    assert.deepEqual([inv.netCents, inv.vatRateBp, inv.vatCents, inv.totalCents], [7188, 2000, 1438, 8626]);
    assert.deepEqual([inv.termKind, inv.termMonths], ['fixed', 12]);
    assert.equal(inv.termText.fr, 'Durée ferme : 12 mois');
    // The printable invoice shows the term (R11.1) and the VAT.
    const html = await get(`/v1/invoices/${inv.id}/print`, c.s);
    assert.equal(html.statusCode, 200);
    assert.match(html.headers['content-type'] as string, /text\/html/);
    assert.match(html.body, /Durée ferme : 12 mois/);
    assert.match(html.body, new RegExp(inv.number));
    assert.match(html.body, /TVA 20/);
    // The client is told (mail module): the invoice's email is in the outbox with its notice.
    const mail = await t.database.db
      .selectFrom('mail_outbox')
      .select(['template', 'to_address', 'body_text'])
      .where('account_id', '=', c.account.id)
      .execute();
    assert.equal(mail.length, 1);
    assert.equal(mail[0]!.template, 'invoice.issued');
    assert.match(mail[0]!.body_text, new RegExp(inv.number));
  });

  it('R11.2 a subscription order bills its first month and says "renewed monthly"', async () => {
    const c = await client();
    const { invoice: inv } = await order(c.s, { kind: 'subscription', termMonths: null, hostname: 'sub1' });
    assert.deepEqual(
      [inv.termKind, inv.termMonths, inv.lines[0]!.quantity, inv.netCents, inv.totalCents],
      ['subscription', null, 1, 599, 719],
    );
    assert.match(inv.termText.en, /renewed monthly/);
  });

  it('order → payment → validation → contract (terms version, dates, anchor) and vps.provision queued with a pending VPS', async () => {
    const c = await client();
    const { order: o, invoice: inv } = await order(c.s, { hostname: 'app1', username: 'camille' });
    const paid = await pay(inv.id, inv.totalCents);
    assert.equal(paid.statusCode, 201, paid.body);
    assert.equal(paid.json().invoice.status, 'paid');
    assert.equal(paid.json().order.state, 'paid');
    assert.equal(paid.json().contract, null, 'no automatic validation by default');
    const before = t.queue.sent.length;
    const v = await post(`/v1/admin/orders/${o.id}/validate`, {}, support);
    assert.equal(v.statusCode, 200, v.body);
    const { order: vo, contract: k } = v.json();
    assert.equal(vo.state, 'validated');
    const now = t.clock.now().toISOString();
    assert.equal(k.termsVersion, CURRENT_TERMS.version);
    assert.equal(k.kind, 'fixed');
    assert.equal(k.termMonths, 12);
    assert.equal(k.startedAt, now);
    assert.equal(k.billingAnchor, now);
    assert.equal(k.state, 'active');
    assert.equal(k.nextRenewalAt, null);
    assert.equal(new Date(k.expiresAt).getUTCFullYear(), t.clock.now().getUTCFullYear() + 1);
    // The VPS row exists, pending, with the plan's resources and the billing anchor; its job is queued.
    const vps = await t.database.db
      .selectFrom('vps')
      .selectAll()
      .where('id', '=', k.vpsId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      [vps.state, vps.hostname, vps.vcpus, vps.memory_mib, vps.disk_gib, vps.client_username, vps.account_id],
      ['pending', 'app1', 1, 1024, 20, 'camille', c.account.id],
    );
    assert.equal(vps.billing_anchor.toISOString(), now);
    const jobs = t.queue.sent.slice(before);
    assert.deepEqual(
      jobs.map((j) => j.name),
      ['vps.provision'],
    );
    assert.deepEqual(jobs[0]!.data, { vpsId: k.vpsId });
    // The client sees its contract, and the contract of its VPS.
    assert.equal((await get(`/v1/contracts/${k.id}`, c.s)).json().vpsId, k.vpsId);
    assert.equal((await get(`/v1/vps/${k.vpsId}/contract`, c.s)).json().id, k.id);
    const seen = (await get(`/v1/orders/${o.id}`, c.s)).json();
    assert.deepEqual(
      [seen.state, seen.contractId, seen.vpsId, seen.invoiceNumber],
      ['validated', k.id, k.vpsId, inv.number],
    );
    // Validating again is a conflict; nothing more is created.
    const again = await post(`/v1/admin/orders/${o.id}/validate`, {});
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'order.illegal_transition');
  });

  it('R11.2 a subscription contract renews one month after its start (next renewal date)', async () => {
    const c = await client();
    t.clock.set('2026-01-31T10:00:00Z');
    const { order: o, invoice: inv } = await order(c.s, {
      kind: 'subscription',
      termMonths: null,
      hostname: 'sub2',
    });
    assert.equal((await pay(inv.id, inv.totalCents)).statusCode, 201);
    const k = (await post(`/v1/admin/orders/${o.id}/validate`, {})).json().contract;
    assert.equal(k.kind, 'subscription');
    assert.equal(k.startedAt, '2026-01-31T10:00:00.000Z');
    assert.equal(k.expiresAt, '2026-02-28T10:00:00.000Z');
    assert.equal(k.nextRenewalAt, '2026-02-28T10:00:00.000Z');
    t.clock.set('2026-03-01T09:00:00Z');
  });

  it('paying twice is 409 invoice.already_paid; a wrong amount is 400; nothing recorded twice', async () => {
    const c = await client();
    const { invoice: inv } = await order(c.s);
    const wrong = await pay(inv.id, inv.totalCents - 1);
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json().code, 'payment.amount_mismatch');
    assert.equal((await pay(inv.id, inv.totalCents)).statusCode, 201);
    const twice = await pay(inv.id, inv.totalCents);
    assert.equal(twice.statusCode, 409);
    assert.equal(twice.json().code, 'invoice.already_paid');
    assert.equal((await get(`/v1/payments?accountId=${c.account.id}`)).json().length, 1);
    // Two concurrent payments of one invoice: one wins, the other is a conflict.
    const { invoice: inv2 } = await order(c.s, { hostname: 'web2' });
    const both = await Promise.all([pay(inv2.id, inv2.totalCents), pay(inv2.id, inv2.totalCents)]);
    assert.deepEqual(both.map((r) => r.statusCode).sort(), [201, 409]);
    assert.equal((await get(`/v1/payments?accountId=${c.account.id}`)).json().length, 2);
  });

  it('validating an unpaid order is 409 order.unpaid and creates nothing', async () => {
    const c = await client();
    const { order: o } = await order(c.s);
    const before = await counts();
    const r = await post(`/v1/admin/orders/${o.id}/validate`, {});
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().code, 'order.unpaid');
    assert.deepEqual(await counts(), before);
  });

  it('cancelling an unpaid order voids its invoice: the number stays used, never deleted or reused', async () => {
    const c = await client();
    const { order: o, invoice: inv } = await order(c.s);
    const r = await post(`/v1/orders/${o.id}/cancel`, { reason: 'changed my mind' }, c.s);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().state, 'cancelled');
    const voided = (await get(`/v1/invoices/${inv.id}`, c.s)).json();
    assert.equal(voided.status, 'void');
    assert.equal(voided.number, inv.number);
    assert.equal(voided.voidReason, 'changed my mind');
    // The next invoice takes the next number: the voided one is not reused.
    const next = await order(c.s, { hostname: 'web3' });
    const [y1, n1] = inv.number.split('-').map(Number) as [number, number];
    assert.ok(
      Number(next.invoice.number.split('-')[1]) > n1 && Number(next.invoice.number.split('-')[0]) === y1,
    );
    // A voided invoice cannot be paid; a cancelled order cannot be cancelled again or validated.
    assert.equal((await pay(inv.id, inv.totalCents)).json().code, 'invoice.void');
    assert.equal((await post(`/v1/orders/${o.id}/cancel`, {}, c.s)).json().code, 'order.not_cancellable');
    assert.equal((await post(`/v1/admin/orders/${o.id}/validate`, {})).statusCode, 409);
    // The database refuses deleting an invoice or changing its amounts, even bypassing the service.
    await assert.rejects(
      t.database.db.deleteFrom('invoices').where('id', '=', inv.id).execute(),
      /never deleted/,
    );
    await assert.rejects(
      t.database.db
        .updateTable('invoices')
        .set({ net_cents: 1, total_cents: 1, vat_cents: 0 })
        .where('id', '=', inv.id)
        .execute(),
      /never change/,
    );
    // A paid order cannot be cancelled (no refund here).
    const p = await order(c.s, { hostname: 'web4' });
    assert.equal((await pay(p.invoice.id, p.invoice.totalCents)).statusCode, 201);
    assert.equal(
      (await post(`/v1/orders/${p.order.id}/cancel`, {}, c.s)).json().code,
      'order.not_cancellable',
    );
  });

  it('ordering a plan not sold in that datacenter is 409 with a clear code, and nothing is created', async () => {
    const c = await client();
    const before = await counts();
    const r = await post(
      '/v1/orders',
      { planId: planS.id, datacenterId: lyo.id, kind: 'fixed', termMonths: 3, hostname: 'web1' },
      c.s,
    );
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().code, 'order.plan_not_sold_in_datacenter');
    assert.deepEqual(await counts(), before);
  });

  it('bad input: each a clear code, nothing created', async () => {
    const c = await client();
    const before = await counts();
    const cases: [Record<string, unknown>, number, string][] = [
      [{ kind: 'fixed', termMonths: null }, 400, 'validation.termMonths'],
      [{ kind: 'fixed', termMonths: 0 }, 400, 'validation.termMonths'],
      [{ kind: 'fixed', termMonths: 37 }, 400, 'validation.termMonths'],
      [{ kind: 'subscription', termMonths: 6 }, 400, 'validation.termMonths'],
      [{ kind: 'monthly' }, 400, 'validation.kind'],
      [{ hostname: 'Bad_Host' }, 400, 'validation.hostname'],
      [{ username: 'root' }, 400, 'validation.username'],
      [{ username: 'sshd' }, 400, 'validation.username'],
      [{ planId: '00000000-0000-4000-8000-000000000000' }, 404, 'plan.not_found'],
      [{ datacenterId: '00000000-0000-4000-8000-000000000000' }, 404, 'datacenter.not_found'],
      [{ extra: 1 }, 400, 'validation.extra'],
    ];
    for (const [body, status, code] of cases) {
      const r = await post(
        '/v1/orders',
        { planId: planS.id, datacenterId: par.id, kind: 'fixed', termMonths: 12, hostname: 'web1', ...body },
        c.s,
      );
      assert.equal(r.statusCode, status, `${JSON.stringify(body)}: ${r.body}`);
      assert.equal(r.json().code, code, JSON.stringify(body));
    }
    assert.deepEqual(await counts(), before);
    // Staff do not place orders for themselves; a payment needs a staff member.
    assert.equal(
      (
        await post('/v1/orders', {
          planId: planS.id,
          datacenterId: par.id,
          kind: 'subscription',
          hostname: 'x1',
        })
      ).statusCode,
      403,
    );
    const { invoice: inv } = await order(c.s);
    assert.equal((await pay(inv.id, inv.totalCents, c.s)).statusCode, 403);
  });

  it('the client user name defaults to one derived from the email, never root (R3.4)', async () => {
    const c = await makeClient(t, `Jean.Dupont-${Date.now() % 1000}@example.test`);
    const s = await login(t, c.email);
    const { order: o } = await order(s);
    assert.match(o.username, /^jeandupont-\d+$/);
  });

  it('a suspended account cannot order (409 account.suspended); an unverified email neither', async () => {
    const c = await client();
    await t.database.db
      .insertInto('account_suspensions')
      .values({
        account_id: c.account.id,
        cause: 'test',
        reference_id: null,
        reason: 'test',
        started_at: t.clock.now(),
        lifted_at: null,
        lifted_by: null,
        lift_reason: null,
      })
      .execute();
    const r = await post(
      '/v1/orders',
      { planId: planS.id, datacenterId: par.id, kind: 'subscription', hostname: 'x1' },
      c.s,
    );
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().code, 'account.suspended');
    const u = await client();
    await t.database.db
      .insertInto('client_signups')
      .values({
        account_id: u.account.id,
        user_id: u.user.id,
        email: u.email,
        ip: '198.51.100.7',
        created_at: t.clock.now(),
        verified_at: null,
      })
      .execute();
    const r2 = await post(
      '/v1/orders',
      { planId: planS.id, datacenterId: par.id, kind: 'subscription', hostname: 'x1' },
      u.s,
    );
    assert.equal(r2.statusCode, 409);
    assert.equal(r2.json().code, 'account.email_unverified');
  });

  it('staff list orders to validate and invoices by status', async () => {
    const c = await client();
    const { order: o, invoice: inv } = await order(c.s, { hostname: 'tovalidate' });
    await pay(inv.id, inv.totalCents);
    const list = (await get('/v1/orders?state=paid', support)).json().items as {
      id: string;
      actions: string[];
    }[];
    const mine = list.find((x) => x.id === o.id);
    assert.ok(mine);
    assert.deepEqual(mine.actions, ['validate']);
    const issued = (await get('/v1/invoices?status=issued')).json().items as { status: string }[];
    assert.ok(issued.every((i) => i.status === 'issued'));
  });
});

describe('automatic validation on payment (a setting)', () => {
  it('with INFOGERE_AUTO_VALIDATE_ON_PAYMENT the payment validates: contract opened, provisioning queued', async () => {
    const t2 = await testApp({ INFOGERE_AUTO_VALIDATE_ON_PAYMENT: 'true' });
    try {
      const a = await makeStaff(t2, 'admin');
      const as = await login(t2, a.email, { totpSecret: a.totpSecret });
      const dc = await t2.services.infra.createDatacenter(
        { code: 'PAR1', name: 'Paris 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
        SYSTEM_ACTOR,
      );
      const plan = await t2.services.commerce.createPlan(
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
      );
      const c = await makeClient(t2);
      const cs = await login(t2, c.email);
      const h = (s: Session) => ({ cookie: s.cookie, 'x-csrf-token': s.csrf });
      const o = await t2.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: h(cs),
        payload: { planId: plan.id, datacenterId: dc.id, kind: 'subscription', hostname: 'auto1' },
      });
      assert.equal(o.statusCode, 201, o.body);
      const inv = o.json().invoice;
      const p = await t2.app.inject({
        method: 'POST',
        url: `/v1/admin/invoices/${inv.id}/payments`,
        headers: h(as),
        payload: { method: 'card', reference: 'CB-1', amountCents: inv.totalCents },
      });
      assert.equal(p.statusCode, 201, p.body);
      assert.equal(p.json().order.state, 'validated');
      assert.equal(p.json().contract.kind, 'subscription');
      assert.deepEqual(
        t2.queue.sent.filter((j) => j.name === 'vps.provision').map((j) => j.data),
        [{ vpsId: p.json().contract.vpsId }],
      );
    } finally {
      await t2.close();
    }
  });
});

describe('tenancy: another client gets 404 on the first one’s orders, invoices, contracts', () => {
  it('404 everywhere, and lists hold only one’s own', async () => {
    const a = await client();
    const b = await client();
    const { order: o, invoice: inv } = await order(a.s, { hostname: 'mine' });
    await pay(inv.id, inv.totalCents);
    const k = (await post(`/v1/admin/orders/${o.id}/validate`, {})).json().contract;
    for (const url of [
      `/v1/orders/${o.id}`,
      `/v1/invoices/${inv.id}`,
      `/v1/invoices/${inv.id}/print`,
      `/v1/contracts/${k.id}`,
      `/v1/vps/${k.vpsId}/contract`,
    ]) {
      const r = await get(url, b.s);
      assert.equal(r.statusCode, 404, url);
    }
    const cancel = await post(`/v1/orders/${o.id}/cancel`, {}, b.s);
    assert.equal(cancel.statusCode, 404);
    // Paged lists answer {items, nextCursor}; the others an array.
    const rows = (body: unknown) => (Array.isArray(body) ? body : (body as { items: unknown[] }).items);
    for (const url of ['/v1/orders', '/v1/invoices', '/v1/contracts', '/v1/payments']) {
      const r = await get(url, b.s);
      assert.equal(r.statusCode, 200, url);
      assert.deepEqual(rows(r.json()), [], url);
      // A client's filter on another account is ignored: the scope wins.
      assert.deepEqual(rows((await get(`${url}?accountId=${a.account.id}`, b.s)).json()), [], url);
    }
    assert.equal((await get('/v1/orders', a.s)).json().items.length, 1);
    assert.equal((await get('/v1/payments', a.s)).json().length, 1);
  });
});
