// A plan change and the subscription's renewal billed together (R3.12 with R11.2), with the
// clock moved: whatever the order of events, every day of the bigger plan is billed at the new
// price. A renewal invoice still unpaid when the change is paid is voided (its number stays used)
// and issued again at the new price; a renewal paid at the old price while the change's invoice
// waits makes that invoice be issued again with the renewed month's difference; no change is
// ordered in the grace after an unpaid expiry; a payment of the old invoice racing the change's
// never leaves both paid. Invoice numbers stay gap-free throughout.
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { HOUR } from '../../src/domain/clock.ts';
import { allJobs } from '../../src/control/jobs/registry.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { totpCode } from '../../src/control/security/totp.ts';
import {
  login,
  makeClient,
  makeStaff,
  PASSWORD,
  testApp,
  type Session,
  type TestApp,
} from '../helpers/app.ts';
import { FakeDriver, fakeAgents } from '../helpers/fake-driver.ts';

/** Bearer headers: API tokens outlive the clock's moves over weeks (sessions do not). */
type Auth = Record<string, string>;
let t: TestApp;
let host: FakeDriver;
let admin: Auth;
let client: Auth;
let accountId: string;
let dcId: string;
let hostId: string;
const plans: Record<string, string> = {};
const apps: TestApp[] = [];

// Monthly prices excluding tax: S 5.00 €, M 10.00 €, so the difference is 5.00 € a month.
const S = 500;
const M = 1000;

// A fresh platform per test: each moves the clock over weeks and the scheduler acts on every
// contract's deadlines.
beforeEach(async () => {
  host = new FakeDriver({ unknownVm: 'stopped' });
  t = await testApp({}, { agents: fakeAgents({ driver: host }) });
  apps.push(t);
  const a = await makeStaff(t, 'admin');
  admin = await bearer(await login(t, a.email, { totpSecret: a.totpSecret }), a.totpSecret);
  const c = await makeClient(t);
  accountId = c.account.id;
  client = await bearer(await login(t, c.email));
  const dc = await t.services.infra.createDatacenter(
    { code: 'BIL1', name: 'Billing', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  dcId = dc.id;
  hostId = (
    await t.services.infra.registerHost(
      { name: 'hv-bil', datacenterId: dc.id, cpuCores: 8, memoryMiB: 32768, diskGiB: 500 },
      SYSTEM_ACTOR,
    )
  ).id;
  for (const [code, vcpus, mem, disk, price] of [
    ['S', 1, 1024, 20, S],
    ['M', 2, 2048, 40, M],
  ] as const)
    plans[code] = (
      await t.services.commerce.createPlan(
        {
          code: `P-${code}`,
          name: `VPS ${code}`,
          vcpus,
          memoryMiB: mem,
          diskGiB: disk,
          monthlyPriceCents: price,
          vatRateBp: 2000,
          datacenterIds: [dc.id],
        },
        SYSTEM_ACTOR,
      )
    ).id;
});
after(async () => {
  for (const x of apps) await x.close();
});

const post = (url: string, payload: object = {}, headers = admin) =>
  t.app.inject({ method: 'POST', url, payload, headers });
const get = (url: string, headers = admin) => t.app.inject({ method: 'GET', url, headers });

async function bearer(s: Session, totpSecret?: string): Promise<Auth> {
  // A staff token needs a fresh TOTP step (each code works once).
  const totp = totpSecret ? { totp: totpCode(totpSecret, t.clock.advance(30_000)) } : {};
  const r = await t.app.inject({
    method: 'POST',
    url: '/v1/me/tokens',
    payload: { name: 'billing test', password: PASSWORD, expiresInDays: 365, ...totp },
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  assert.equal(r.statusCode, 201, r.body);
  return { authorization: `Bearer ${r.json().token}` };
}

const noProvisioning = { name: 'vps.provision', handler: async () => {} } as unknown as ReturnType<
  typeof allJobs
>[number];
const runJobs = () => t.queue.runAll([noProvisioning, ...allJobs(t.services)]);

let nextIp = 10;
/** A monthly subscription to plan S opened on 10 March 2026 at 10:00 UTC (expiry 10 April), its VPS running. */
async function subscription(hostname: string) {
  t.clock.set('2026-03-10T10:00:00Z');
  const o = await post(
    '/v1/orders',
    { planId: plans.S, datacenterId: dcId, kind: 'subscription', hostname },
    client,
  );
  assert.equal(o.statusCode, 201, o.body);
  const { order, invoice } = o.json();
  assert.equal((await pay(invoice.id)).statusCode, 201);
  const v = await post(`/v1/admin/orders/${order.id}/validate`);
  assert.equal(v.statusCode, 200, v.body);
  const k = v.json().contract as { id: string; vpsId: string; expiresAt: string };
  assert.equal(k.expiresAt, '2026-04-10T10:00:00.000Z');
  await t.database.db
    .updateTable('vps')
    .set({
      state: 'running',
      host_id: hostId,
      ipv4: `192.0.2.${nextIp++}/24`,
      provision_step: 'access_codes',
      provision_percent: 100,
    })
    .where('id', '=', k.vpsId)
    .execute();
  host.vms.set(k.vpsId, 'running');
  await runJobs();
  return k;
}

/** Staff record the payment of an invoice's total (the answer is returned, not checked). */
async function pay(invoiceId: string) {
  const inv = await t.database.db
    .selectFrom('invoices')
    .select('total_cents')
    .where('id', '=', invoiceId)
    .executeTakeFirstOrThrow();
  return post(`/v1/admin/invoices/${invoiceId}/payments`, {
    method: 'transfer',
    reference: `VIR-${invoiceId.slice(0, 8)}`,
    amountCents: inv.total_cents,
  });
}

/** Moves the clock to `until` in steps, ticking the production scheduler at each. */
async function runUntil(until: string, step = 12 * HOUR) {
  const end = new Date(until).getTime();
  while (t.clock.now().getTime() < end) {
    t.clock.set(new Date(Math.min(end, t.clock.now().getTime() + step)));
    await t.scheduler.tick();
  }
}

const orderChange = (vpsId: string, plan = plans.M!) =>
  post(`/v1/vps/${vpsId}/plan-change`, { planId: plan }, client);
const changeOf = async (vpsId: string) => (await get(`/v1/vps/${vpsId}/plan-changes`, client)).json()[0];

/** Every invoice of a contract after its order's, oldest number first, with what it bills. */
async function invoicesOf(contractId: string) {
  const rows = await t.database.db
    .selectFrom('invoices as i')
    .leftJoin('renewal_invoices as r', 'r.invoice_id', 'i.id')
    .select([
      'i.id',
      'i.number',
      'i.status',
      'i.net_cents',
      'i.total_cents',
      'i.period_start',
      'i.period_end',
      'i.void_reason',
      'r.invoice_id as renewal',
    ])
    .where('i.contract_id', '=', contractId)
    .orderBy('i.seq')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    number: r.number,
    status: r.status,
    net: r.net_cents,
    total: r.total_cents,
    what: r.renewal ? ('renewal' as const) : ('plan change' as const),
    from: r.period_start?.toISOString() ?? null,
    to: r.period_end?.toISOString() ?? null,
    voidReason: r.void_reason,
  }));
}
type Billed = Awaited<ReturnType<typeof invoicesOf>>[number];
const live = (xs: Billed[]) => xs.filter((x) => x.status !== 'void');
const renewalsOf = async (contractId: string) =>
  (await invoicesOf(contractId)).filter((x) => x.what === 'renewal');
const lines = async (invoiceId: string) => (await get(`/v1/invoices/${invoiceId}`, client)).json().lines;

/** Every invoice number of the year, in order: 1..N with no gap (voided invoices keep theirs). */
async function assertGapFree() {
  const rows = await t.database.db
    .selectFrom('invoices')
    .select('seq')
    .where('year', '=', 2026)
    .orderBy('seq')
    .execute();
  assert.deepEqual(
    rows.map((r) => r.seq),
    rows.map((_, i) => i + 1),
  );
}

const templates = async () =>
  (
    await t.database.db
      .selectFrom('mail_notices')
      .select('template')
      .where('account_id', '=', accountId)
      .orderBy('id')
      .execute()
  ).map((n) => n.template);

const APR10 = '2026-04-10T10:00:00.000Z';
const MAY10 = '2026-05-10T10:00:00.000Z';

describe('R3.12 with R11.2: a renewal invoice still unpaid when the plan change is paid', () => {
  it('renewal invoice issued, then the upgrade: the old invoice is voided (number kept) and issued again at the new price; paying the old one is refused', async () => {
    const k = await subscription('web1');
    await runUntil('2026-04-03T12:00:00Z'); // the renewal invoice is issued 7 days ahead, at S's price
    const [old] = await renewalsOf(k.id);
    assert.deepEqual([old!.status, old!.net, old!.from, old!.to], ['issued', S, APR10, MAY10]);
    t.clock.set('2026-04-05T10:00:00Z'); // 5 of the 31 days of the cycle 10 Mar → 10 Apr left
    const ch = await orderChange(k.vpsId);
    assert.equal(ch.statusCode, 201, ch.body);
    assert.equal(ch.json().amountCents, Math.round((M - S) * (5 / 31)));
    assert.equal((await pay(ch.json().invoiceId)).statusCode, 201);
    await runJobs();
    assert.equal((await changeOf(k.vpsId)).state, 'applied');

    const renewals = await renewalsOf(k.id);
    assert.equal(renewals.length, 2);
    const [voided, fresh] = renewals;
    assert.equal(voided!.number, old!.number);
    assert.equal(voided!.status, 'void');
    assert.match(voided!.voidReason!, new RegExp(`R3\\.12.*${fresh!.number}`));
    assert.deepEqual([fresh!.status, fresh!.net, fresh!.from, fresh!.to], ['issued', M, APR10, MAY10]);
    assert.match((await lines(fresh!.id))[0].description, /VPS M.*2 vCPU/);
    const view = (await get(`/v1/contracts/${k.id}/renewal`, client)).json();
    assert.equal(view.renewalInvoice.number, fresh!.number);
    assert.ok((await templates()).includes('invoice.reissued'), 'the client is told which invoice to pay');

    const stale = await pay(old!.id);
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.json().code, 'invoice.void');
    assert.equal((await pay(fresh!.id)).statusCode, 201);
    const c = (await get(`/v1/contracts/${k.id}/renewal`, client)).json();
    assert.equal(c.expiresAt, MAY10);
    // From the change to the end of the renewed month: the difference to 10 April, then M in full.
    assert.deepEqual(
      live(await invoicesOf(k.id)).map((x) => [x.what, x.status, x.net]),
      [
        ['plan change', 'paid', Math.round((M - S) * (5 / 31))],
        ['renewal', 'paid', M],
      ],
    );
    await assertGapFree();
  });

  it('upgrade ordered, the renewal invoice issued while it waits for payment, then the upgrade paid: the renewal is issued again at the new price', async () => {
    const k = await subscription('web1');
    t.clock.set('2026-04-01T10:00:00Z');
    const ch = await orderChange(k.vpsId);
    assert.equal(ch.statusCode, 201, ch.body);
    assert.equal(ch.json().amountCents, Math.round((M - S) * (9 / 31)));
    await runUntil('2026-04-04T10:00:00Z'); // the renewal invoice is issued on 3 April, the change unpaid
    assert.deepEqual(
      (await renewalsOf(k.id)).map((x) => [x.status, x.net]),
      [['issued', S]],
    );
    assert.equal((await pay(ch.json().invoiceId)).statusCode, 201);
    const renewals = await renewalsOf(k.id);
    assert.deepEqual(
      renewals.map((x) => [x.status, x.net, x.from, x.to]),
      [
        ['void', S, APR10, MAY10],
        ['issued', M, APR10, MAY10],
      ],
    );
    await assertGapFree();
  });

  it('upgrade paid but not applied yet (the host refuses for now) when the renewal invoice is issued: it bills the new plan at its price', async () => {
    host.resizeMode = 'refuse';
    const k = await subscription('web1');
    t.clock.set('2026-04-02T09:00:00Z');
    const ch = await orderChange(k.vpsId);
    assert.equal(ch.statusCode, 201, ch.body);
    assert.equal((await pay(ch.json().invoiceId)).statusCode, 201);
    await runJobs();
    assert.equal((await changeOf(k.vpsId)).state, 'paid', 'the change waits for the host');
    await runUntil('2026-04-03T12:00:00Z');
    const [renewal, ...more] = await renewalsOf(k.id);
    assert.equal(more.length, 0);
    assert.deepEqual([renewal!.status, renewal!.net, renewal!.from], ['issued', M, APR10]);
    assert.match((await lines(renewal!.id))[0].description, /VPS M.*2 vCPU.*2048 MiB.*40 GiB/);
  });
});

describe('R3.12 with R11.2: a renewal paid at the old price', () => {
  it('paid before the upgrade is ordered: the quote covers the renewed month; paid while the upgrade’s invoice waits: that invoice is issued again with the renewed month’s difference', async () => {
    const a = await subscription('web1');
    const b = await subscription('web2');
    await runUntil('2026-04-03T12:00:00Z');
    const [ra] = await renewalsOf(a.id);
    const [rb] = await renewalsOf(b.id);

    // a: renewal paid on 4 April, the upgrade ordered on 5 April.
    t.clock.set('2026-04-04T10:00:00Z');
    assert.equal((await pay(ra!.id)).statusCode, 201);
    t.clock.set('2026-04-05T10:00:00Z');
    const ca = await orderChange(a.vpsId);
    assert.equal(ca.statusCode, 201, ca.body);
    assert.equal(ca.json().amountCents, Math.round((M - S) * (5 / 31)) + (M - S));
    assert.equal(ca.json().fullMonths, 1);
    assert.equal((await pay(ca.json().invoiceId)).statusCode, 201);

    // b: the upgrade ordered on 5 April, then the renewal paid at S's price on 6 April.
    const cb = await orderChange(b.vpsId);
    assert.equal(cb.statusCode, 201, cb.body);
    const first = cb.json().invoiceId as string;
    assert.equal(cb.json().amountCents, Math.round((M - S) * (5 / 31)));
    t.clock.set('2026-04-06T10:00:00Z');
    assert.equal((await pay(rb!.id)).statusCode, 201);
    const change = await changeOf(b.vpsId);
    assert.equal(change.state, 'awaiting_payment');
    assert.notEqual(change.invoiceId, first, 'the change has a new invoice');
    assert.equal(change.amountCents, Math.round((M - S) * (5 / 31)) + (M - S));
    assert.equal(change.fullMonths, 1);
    const stale = await pay(first);
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.json().code, 'invoice.void');
    assert.equal((await pay(change.invoiceId)).statusCode, 201);
    await runJobs();
    assert.equal((await changeOf(b.vpsId)).state, 'applied');

    // Both: the renewed month is billed S + the difference = M; the next renewal at M.
    for (const k of [a, b]) {
      const paid = live(await invoicesOf(k.id)).filter((x) => x.status === 'paid');
      const change = paid.find((x) => x.what === 'plan change')!;
      assert.equal(change.to, MAY10);
      assert.equal(change.net, Math.round((M - S) * (5 / 31)) + (M - S));
    }
    const old = (await invoicesOf(b.id)).find((x) => x.id === first)!;
    assert.equal(old.status, 'void');
    assert.match(old.voidReason!, /R3\.12/);
    await runUntil('2026-05-03T12:00:00Z');
    for (const k of [a, b]) {
      const next = (await renewalsOf(k.id)).find((x) => x.from === MAY10)!;
      assert.equal(next.net, M);
    }
    await assertGapFree();
  });
});

describe('R3.12 with R11.2: the grace after an unpaid expiry is not free', () => {
  it('no change is ordered in the grace (409, nothing written); the renewal paid, the change bills the rest of the new month; a change paid in the grace re-prices the renewal', async () => {
    const a = await subscription('web1');
    const b = await subscription('web2');
    // b orders the upgrade before the expiry and leaves it unpaid for now.
    t.clock.set('2026-04-08T10:00:00Z');
    const cb = await orderChange(b.vpsId);
    assert.equal(cb.statusCode, 201, cb.body);
    await runUntil('2026-04-12T10:00:00Z'); // expired on 10 April, renewal unpaid: in grace until 17 April
    const view = (await get(`/v1/contracts/${a.id}/renewal`, client)).json();
    assert.ok(view.graceEndsAt, 'in grace');

    const before = await invoicesOf(a.id);
    const refused = await orderChange(a.vpsId);
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().code, 'plan_change.renewal_unpaid');
    assert.deepEqual(await invoicesOf(a.id), before);
    assert.equal((await get(`/v1/vps/${a.vpsId}/plan-changes`, client)).json().length, 0);
    const options = (await get(`/v1/vps/${a.vpsId}/plan-change/options`, client)).json();
    assert.equal(options.refusal.code, 'plan_change.renewal_unpaid');

    // a pays its renewal (S, 10 April → 10 May), then upgrades: 28 of the 30 days of that month left.
    const [ra] = await renewalsOf(a.id);
    assert.equal((await pay(ra!.id)).statusCode, 201);
    const ca = await orderChange(a.vpsId);
    assert.equal(ca.statusCode, 201, ca.body);
    assert.equal(ca.json().amountCents, Math.round((M - S) * (28 / 30)));
    assert.equal(ca.json().state, 'awaiting_payment');

    // b pays its change (which billed 8 → 10 April) in the grace: its renewal is issued again at M.
    assert.equal((await pay(cb.json().invoiceId)).statusCode, 201);
    assert.deepEqual(
      (await renewalsOf(b.id)).map((x) => [x.status, x.net, x.from]),
      [
        ['void', S, APR10],
        ['issued', M, APR10],
      ],
    );
    await assertGapFree();
  });
});

describe('R3.12 with R11.2: the old renewal invoice’s payment racing the change’s', () => {
  it('exactly one of the two payments goes through; never the old renewal price and the old quote both paid', async () => {
    const ks = [];
    for (let i = 0; i < 4; i++) ks.push(await subscription(`race${i}`));
    await runUntil('2026-04-03T12:00:00Z');
    t.clock.set('2026-04-05T10:00:00Z');
    const pairs = [];
    for (const k of ks) {
      const ch = await orderChange(k.vpsId);
      assert.equal(ch.statusCode, 201, ch.body);
      const [r] = await renewalsOf(k.id);
      pairs.push({ k, renewal: r!.id, change: ch.json().invoiceId as string });
    }
    const results = await Promise.all(
      pairs.map(async (p, i) => {
        // Both payments at once, sent in one order for half the pairs and the other for the rest.
        const renewalFirst = i % 2 === 0;
        const [x, y] = await Promise.all(
          renewalFirst ? [pay(p.renewal), pay(p.change)] : [pay(p.change), pay(p.renewal)],
        );
        return { p, renewal: renewalFirst ? x : y, change: renewalFirst ? y : x };
      }),
    );
    for (const { p, renewal, change } of results) {
      const codes = [renewal.statusCode, change.statusCode].sort();
      assert.deepEqual(codes, [201, 409], `${renewal.body} ${change.body}`);
      const loser = renewal.statusCode === 409 ? renewal : change;
      assert.ok(['invoice.void', 'invoice.busy'].includes(loser.json().code), loser.body);
      const all = await invoicesOf(p.k.id); // the order's invoice is not the contract's
      const paid = all.filter((x) => x.status === 'paid');
      assert.equal(paid.length, 1);
      const issued = all.filter((x) => x.status === 'issued');
      assert.equal(issued.length, 1, 'one invoice left to pay');
      if (renewal.statusCode === 201) {
        // The renewal won at S: the change's invoice now bills the renewed month's difference too.
        assert.deepEqual([paid[0]!.what, paid[0]!.net], ['renewal', S]);
        assert.deepEqual(
          [issued[0]!.what, issued[0]!.net],
          ['plan change', Math.round((M - S) * (5 / 31)) + (M - S)],
        );
      } else {
        // The change won: the renewal is issued again at M.
        assert.deepEqual([paid[0]!.what, paid[0]!.net], ['plan change', Math.round((M - S) * (5 / 31))]);
        assert.deepEqual([issued[0]!.what, issued[0]!.net], ['renewal', M]);
      }
    }
    await assertGapFree();
  });
});
