// Term and renewal with the clock moved (issue 6 item 1: R11.1, R11.2, R11.3): warnings before a
// fixed term ends (14 and 3 days, once each) and the term end handing the contract to the
// termination module; a subscription renewing by itself (invoice ahead, emailed, gap-free
// numbers, the expiry moved when paid); the switch keeping the expiry as anchor (and a second
// switch refused with nothing changed); stopping and resuming the renewal; an unpaid renewal
// (grace, then the end); every mail in the notice chain; tenancy; the console's renewals due.
//
// The termination module is watched through a test double of `terminate` (the call and its
// arguments are this module's job; what termination does is tested in terminations.test.ts).
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it, mock } from 'node:test';
import { DAY, HOUR } from '../../src/domain/clock.ts';
import { totpCode } from '../../src/control/security/totp.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import {
  login,
  makeClient,
  makeStaff,
  PASSWORD,
  testApp,
  type Session,
  type TestApp,
} from '../helpers/app.ts';

let t: TestApp;
/** Bearer headers: API tokens made for a year outlive the months the clock moves over (sessions do not). */
type Auth = Record<string, string>;
let admin: Auth;
let support: Auth;
let dcId: string;
let planId: string;
/** What the renewals module asked the termination module to do. */
let terminated: {
  contractId: string;
  cause: string;
  effectiveAt: Date;
  recordedBy: unknown;
  reason: string;
}[];
const apps: TestApp[] = [];

// A fresh platform per test: each moves the clock over months, and the scheduler acts on every
// contract's deadlines, so tests must not share a database.
beforeEach(async () => {
  t = await testApp();
  apps.push(t);
  const a = await makeStaff(t, 'admin');
  admin = await bearer(await login(t, a.email, { totpSecret: a.totpSecret }), a.totpSecret);
  const sp = await makeStaff(t, 'support');
  support = await bearer(await login(t, sp.email, { totpSecret: sp.totpSecret }), sp.totpSecret);
  dcId = (
    await t.services.infra.createDatacenter(
      { code: 'PAR1', name: 'Paris 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
      SYSTEM_ACTOR,
    )
  ).id;
  const r = await post('/v1/admin/plans', {
    code: 'S1',
    name: 'VPS S',
    vcpus: 1,
    memoryMiB: 1024,
    diskGiB: 20,
    monthlyPriceCents: 599,
    vatRateBp: 2000,
    datacenterIds: [dcId],
  });
  assert.equal(r.statusCode, 201, r.body);
  planId = r.json().id;
  terminated = [];
  mock.method(t.services.terminations, 'terminate', async (_db: unknown, p: (typeof terminated)[number]) => {
    terminated.push(p);
    return {};
  });
});
afterEach(() => mock.restoreAll());
after(async () => {
  for (const x of apps) await x.close();
});

const post = (url: string, payload: object = {}, headers = admin) =>
  t.app.inject({ method: 'POST', url, payload, headers });
const get = (url: string, headers = admin) => t.app.inject({ method: 'GET', url, headers });

/** A token for the session's user (the password, and a fresh TOTP code for staff); it outlives the months the tests cover. */
async function bearer(s: Session, totpSecret?: string): Promise<Auth> {
  const totp = totpSecret ? { totp: totpCode(totpSecret, t.clock.advance(30_000)) } : {};
  const r = await t.app.inject({
    method: 'POST',
    url: '/v1/me/tokens',
    payload: { name: 'renewals test', password: PASSWORD, expiresInDays: 365, ...totp },
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  assert.equal(r.statusCode, 201, r.body);
  return { authorization: `Bearer ${r.json().token}` };
}

type Renewal = {
  contractId: string;
  kind: string;
  state: string;
  expiresAt: string;
  timeZone: string;
  renews: boolean;
  nextRenewalAt: string | null;
  endsAt: string | null;
  renewalStoppedAt: string | null;
  renewalInvoice: {
    id: string;
    number: string;
    status: string;
    totalCents: number;
    periodStart: string;
    periodEnd: string;
  } | null;
  renewalInvoiceAt: string | null;
  graceEndsAt: string | null;
  nextWarningAt: string | null;
  warningsSent: { daysBefore: number; sentAt: string }[];
  termination: { cause: string; state: string; effectiveAt: string } | null;
  actions: string[];
};

async function client() {
  const c = await makeClient(t);
  return { ...c, s: await bearer(await login(t, c.email)) };
}

/** A client's contract, opened at `at` (order → payment → validation). */
async function contract(
  c: { s: Auth },
  at: string,
  term: { kind: 'fixed'; termMonths: number } | { kind: 'subscription' },
  hostname = 'web1',
) {
  t.clock.set(at);
  const o = await post(
    '/v1/orders',
    { planId, datacenterId: dcId, hostname, termMonths: null, ...term },
    c.s,
  );
  assert.equal(o.statusCode, 201, o.body);
  const { order, invoice } = o.json();
  assert.equal((await pay(invoice.id, invoice.totalCents)).statusCode, 201);
  const v = await post(`/v1/admin/orders/${order.id}/validate`);
  assert.equal(v.statusCode, 200, v.body);
  return v.json().contract as { id: string; expiresAt: string; vpsId: string };
}

const pay = (invoiceId: string, amountCents: number) =>
  post(`/v1/admin/invoices/${invoiceId}/payments`, {
    method: 'transfer',
    reference: `VIR-${invoiceId.slice(0, 8)}`,
    amountCents,
  });

async function renewal(id: string, s: Auth = admin): Promise<Renewal> {
  const r = await get(`/v1/contracts/${id}/renewal`, s);
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
}

/** Moves the clock to `until` in steps, ticking the production scheduler at each. */
async function runUntil(until: string, step = 12 * HOUR) {
  const end = new Date(until).getTime();
  while (t.clock.now().getTime() < end) {
    t.clock.set(new Date(Math.min(end, t.clock.now().getTime() + step)));
    await t.scheduler.tick();
  }
}

/** The notices (tamper-evident record of every mail) of an account, oldest first. */
async function notices(accountId: string) {
  return t.database.db
    .selectFrom('mail_notices as n')
    .innerJoin('mail_outbox as o', 'o.id', 'n.outbox_id')
    .select(['n.template', 'n.at', 'n.reason', 'o.body_text', 'o.subject'])
    .where('n.account_id', '=', accountId)
    .orderBy('n.id')
    .execute();
}

const templatesOf = async (accountId: string) => (await notices(accountId)).map((n) => n.template);

async function invoiceSeqs(): Promise<number[]> {
  const rows = await t.database.db
    .selectFrom('invoices')
    .select('seq')
    .where('year', '=', 2026)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.seq);
}

describe('R11.1 a fixed term: warnings before its end, then its end', () => {
  it('warns at 14 and 3 days before the end, once each, in the client’s time zone; at the end the contract is terminated (term_end)', async () => {
    const c = await client();
    const k = await contract(c, '2026-01-31T10:00:00Z', { kind: 'fixed', termMonths: 2 });
    assert.equal(k.expiresAt, '2026-03-31T10:00:00.000Z');
    const v = await renewal(k.id, c.s);
    assert.deepEqual(
      [v.kind, v.renews, v.endsAt, v.nextRenewalAt, v.nextWarningAt, v.timeZone, v.actions],
      [
        'fixed',
        false,
        '2026-03-31T10:00:00.000Z',
        null,
        '2026-03-17T10:00:00.000Z',
        'Europe/Paris',
        ['switch_to_subscription'],
      ],
    );
    await runUntil('2026-03-31T09:59:59Z');
    const warnings = (await notices(c.account.id)).filter((n) => n.template === 'contract.term_ending');
    assert.deepEqual(
      warnings.map((w) => w.at.toISOString()),
      ['2026-03-17T10:00:00.000Z', '2026-03-28T10:00:00.000Z'],
    );
    // French by default, the end shown in Paris time (summer time by then: 12:00 for 10:00 UTC).
    assert.match(warnings[0]!.subject, /prend fin le 31 mars 2026 à 12:00/);
    assert.match(warnings[0]!.body_text, /dans 14 jour\(s\)/);
    assert.match(warnings[1]!.body_text, /dans 3 jour\(s\)/);
    assert.match(warnings[0]!.body_text, /passez-le en abonnement mensuel/);
    assert.match(warnings[0]!.body_text, new RegExp(`/client/contracts/${k.id}`));
    assert.deepEqual(
      (await renewal(k.id)).warningsSent.map((w) => w.daysBefore),
      [14, 3],
    );
    assert.equal(terminated.length, 0, 'nothing ends before the expiry');
    await runUntil('2026-04-02T10:00:00Z');
    assert.deepEqual(terminated, [
      {
        contractId: k.id,
        cause: 'term_end',
        effectiveAt: new Date('2026-03-31T10:00:00.000Z'),
        recordedBy: 'system',
        reason: 'R11.1: the fixed term of 2 month(s) ended on 2026-03-31T10:00:00.000Z',
      },
    ]);
    // Once each: more ticks send nothing more and end nothing twice.
    await runUntil('2026-04-20T10:00:00Z');
    assert.equal(terminated.length, 1);
    assert.deepEqual(await templatesOf(c.account.id), [
      'invoice.issued',
      'contract.term_ending',
      'contract.term_ending',
    ]);
    const pending = await t.database.db
      .selectFrom('deadlines')
      .select('kind')
      .where('subject_id', '=', k.id)
      .where('status', '=', 'pending')
      .execute();
    assert.deepEqual(pending, [], 'nothing left planned for the ended term');
  });
});

describe('R11.2 a subscription renews by itself, month by month', () => {
  it('issues the next month’s invoice 7 days ahead and emails it; paid, the expiry moves one month; numbers stay gap-free', async () => {
    const c = await client();
    const k = await contract(c, '2026-01-31T10:00:00Z', { kind: 'subscription' });
    assert.equal(k.expiresAt, '2026-02-28T10:00:00.000Z');
    let v = await renewal(k.id, c.s);
    assert.deepEqual(
      [v.renews, v.nextRenewalAt, v.renewalInvoiceAt, v.renewalInvoice, v.endsAt, v.actions],
      [true, '2026-02-28T10:00:00.000Z', '2026-02-21T10:00:00.000Z', null, null, ['stop_renewal']],
    );
    await runUntil('2026-02-21T09:59:00Z');
    assert.equal((await renewal(k.id)).renewalInvoice, null, 'not before its day');
    const expiries = ['2026-03-31T10:00:00.000Z', '2026-04-30T10:00:00.000Z', '2026-05-31T10:00:00.000Z'];
    let previous = '2026-02-28T10:00:00.000Z';
    for (const next of expiries) {
      await runUntil(new Date(new Date(previous).getTime() - 7 * DAY).toISOString(), 6 * HOUR);
      v = await renewal(k.id, c.s);
      assert.ok(v.renewalInvoice, `a renewal invoice for ${previous}`);
      assert.deepEqual(
        [
          v.renewalInvoice.status,
          v.renewalInvoice.totalCents,
          v.renewalInvoice.periodStart,
          v.renewalInvoice.periodEnd,
        ],
        ['issued', 719, previous, next],
      );
      const inv = (await get(`/v1/invoices/${v.renewalInvoice.id}`, c.s)).json();
      assert.deepEqual(
        [inv.contractId, inv.orderId, inv.termKind, inv.periodStart, inv.periodEnd],
        [k.id, null, 'subscription', previous, next],
      );
      assert.equal(inv.lines[0].quantity, 1);
      // Paid: the expiry moves one month, counted from the anchor (31st, 30th, 31st...).
      assert.equal((await pay(v.renewalInvoice.id, 719)).statusCode, 201);
      const again = await pay(v.renewalInvoice.id, 719);
      assert.equal(again.json().code, 'invoice.already_paid', 'paid once; the contract renews once');
      v = await renewal(k.id, c.s);
      assert.deepEqual([v.expiresAt, v.nextRenewalAt, v.renewalInvoice], [next, next, null]);
      previous = next;
    }
    assert.equal(terminated.length, 0);
    // Gap-free numbering: the first invoice and three renewals are 1..4.
    assert.deepEqual(await invoiceSeqs(), [1, 2, 3, 4]);
    const chain = await notices(c.account.id);
    assert.deepEqual(
      chain.map((n) => n.template),
      ['invoice.issued', 'contract.renewal_invoice', 'contract.renewal_invoice', 'contract.renewal_invoice'],
    );
    assert.deepEqual(
      chain.slice(1).map((n) => n.at.toISOString()),
      ['2026-02-21T10:00:00.000Z', '2026-03-24T10:00:00.000Z', '2026-04-23T10:00:00.000Z'],
    );
    assert.match(
      chain[1]!.body_text,
      /du 28 février 2026 à 11:00 \(heure de Paris\)\s+au 31 mars 2026 à 12:00 \(heure de Paris\)/,
    );
    assert.match(chain[1]!.body_text, /À régler avant le 28 février 2026/);
    assert.match(chain[1]!.body_text, /jusqu'au 7 mars 2026/, 'the grace is told in advance');
  });
});

describe('R11.3 switch to subscription', () => {
  it('renews from the current expiry, not the switch date: a term ending 31 Mar switched mid-February renews 30 Apr, 31 May, 30 Jun', async () => {
    const c = await client();
    const k = await contract(c, '2026-01-31T10:00:00Z', { kind: 'fixed', termMonths: 2 });
    await runUntil('2026-02-15T10:00:00Z');
    const r = await post(`/v1/contracts/${k.id}/switch-to-subscription`, {}, c.s);
    assert.equal(r.statusCode, 200, r.body);
    const v: Renewal = r.json();
    assert.deepEqual(
      [
        v.kind,
        v.renews,
        v.expiresAt,
        v.nextRenewalAt,
        v.endsAt,
        v.nextWarningAt,
        v.renewalInvoiceAt,
        v.actions,
      ],
      [
        'subscription',
        true,
        '2026-03-31T10:00:00.000Z',
        '2026-03-31T10:00:00.000Z',
        null,
        null,
        '2026-03-24T10:00:00.000Z',
        ['stop_renewal'],
      ],
    );
    // A second switch: 409, and nothing changed (contract row, deadlines).
    const row = () =>
      t.database.db.selectFrom('contracts').selectAll().where('id', '=', k.id).executeTakeFirstOrThrow();
    const plan = () =>
      t.database.db
        .selectFrom('deadlines')
        .select(['kind', 'due_at', 'status'])
        .where('subject_id', '=', k.id)
        .orderBy('kind')
        .orderBy('created_at')
        .execute();
    const [before, beforePlan] = [await row(), await plan()];
    for (const s of [c.s, admin]) {
      const twice = await post(`/v1/contracts/${k.id}/switch-to-subscription`, {}, s);
      assert.equal(twice.statusCode, 409);
      assert.equal(twice.json().code, 'contract.already_subscription');
    }
    assert.deepEqual(await row(), before);
    assert.deepEqual(await plan(), beforePlan);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const cur = await renewal(k.id);
      await runUntil(cur.renewalInvoiceAt!, 6 * HOUR);
      const inv = (await renewal(k.id)).renewalInvoice!;
      assert.equal((await pay(inv.id, inv.totalCents)).statusCode, 201);
      seen.push((await renewal(k.id)).expiresAt);
    }
    assert.deepEqual(seen, [
      '2026-04-30T10:00:00.000Z',
      '2026-05-31T10:00:00.000Z',
      '2026-06-30T10:00:00.000Z',
    ]);
    assert.deepEqual(
      await templatesOf(c.account.id),
      ['invoice.issued', 'contract.renewal_invoice', 'contract.renewal_invoice', 'contract.renewal_invoice'],
      'no end-of-term warning once switched (its 14-day point was after the switch)',
    );
    assert.equal(terminated.length, 0);
    const audit = await t.database.db
      .selectFrom('audit_log')
      .select(['action', 'actor'])
      .where('target_id', '=', k.id)
      .execute();
    assert.deepEqual(
      audit.filter((a) => a.action === 'contract.switch_to_subscription').map((a) => a.actor),
      [c.email],
    );
  });

  it('an admin may switch any contract (support may not); a client only its own (another account’s is 404); not after the expiry', async () => {
    const c = await client();
    const other = await client();
    const k = await contract(c, '2026-01-31T10:00:00Z', { kind: 'fixed', termMonths: 1 });
    assert.equal((await get(`/v1/contracts/${k.id}/renewal`, other.s)).statusCode, 404);
    for (const action of ['switch-to-subscription', 'stop-renewal', 'resume-renewal']) {
      const r = await post(`/v1/contracts/${k.id}/${action}`, {}, other.s);
      assert.equal(r.statusCode, 404, action);
      assert.equal(r.json().code, 'contract.not_found');
    }
    assert.equal((await renewal(k.id, c.s)).kind, 'fixed', 'nothing changed');
    // Support may not (a contract change is an admin's: docs/security.md); an admin switches it.
    const refused = await post(`/v1/contracts/${k.id}/switch-to-subscription`, {}, support);
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal((await renewal(k.id, c.s)).kind, 'fixed', 'nothing changed');
    const s = await post(`/v1/contracts/${k.id}/switch-to-subscription`, {}, admin);
    assert.equal(s.statusCode, 200, s.body);
    assert.equal(s.json().kind, 'subscription');
    // Stop and resume are the client's: staff get 403.
    assert.equal((await post(`/v1/contracts/${k.id}/stop-renewal`, {}, support)).statusCode, 403);
    // A fixed term at its expiry can no longer switch.
    const late = await contract(c, '2026-01-31T10:00:00Z', { kind: 'fixed', termMonths: 1 }, 'web2');
    t.clock.set('2026-02-28T10:00:00Z');
    const r = await post(`/v1/contracts/${late.id}/switch-to-subscription`, {}, c.s);
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().code, 'contract.expired');
  });
});

describe('R11.2 stopping and resuming the renewal', () => {
  it('a stop voids the unpaid renewal invoice and ends the contract at its expiry; a resume before it renews again', async () => {
    const c = await client();
    const k = await contract(c, '2026-01-31T10:00:00Z', { kind: 'subscription' });
    await runUntil('2026-02-22T10:00:00Z');
    const issued = (await renewal(k.id, c.s)).renewalInvoice!;
    assert.equal(issued.status, 'issued');
    // A fixed term has no renewal to stop.
    const f = await contract(c, '2026-02-22T10:00:00Z', { kind: 'fixed', termMonths: 3 }, 'web2');
    const bad = await post(`/v1/contracts/${f.id}/stop-renewal`, {}, c.s);
    assert.deepEqual([bad.statusCode, bad.json().code], [409, 'contract.not_subscription']);
    // Stop.
    const stop = await post(`/v1/contracts/${k.id}/stop-renewal`, {}, c.s);
    assert.equal(stop.statusCode, 200, stop.body);
    let v: Renewal = stop.json();
    assert.deepEqual(
      [v.renews, v.endsAt, v.renewalInvoice, v.renewalInvoiceAt, v.nextWarningAt, v.actions],
      [false, '2026-02-28T10:00:00.000Z', null, null, '2026-02-25T10:00:00.000Z', ['resume_renewal']],
    );
    assert.ok(v.renewalStoppedAt);
    const voided = (await get(`/v1/invoices/${issued.id}`, c.s)).json();
    assert.deepEqual([voided.status, voided.number], ['void', issued.number], 'voided, its number kept');
    assert.equal((await pay(issued.id, issued.totalCents)).json().code, 'invoice.void');
    const twice = await post(`/v1/contracts/${k.id}/stop-renewal`, {}, c.s);
    assert.deepEqual([twice.statusCode, twice.json().code], [409, 'contract.renewal_stopped']);
    // Resume: the renewal invoice is issued again at the next tick (a new number).
    const resume = await post(`/v1/contracts/${k.id}/resume-renewal`, {}, c.s);
    assert.equal(resume.statusCode, 200, resume.body);
    assert.deepEqual([resume.json().renews, resume.json().actions], [true, ['stop_renewal']]);
    await runUntil('2026-02-22T11:00:00Z', HOUR);
    const reissued = (await renewal(k.id, c.s)).renewalInvoice!;
    assert.equal(reissued.status, 'issued');
    assert.notEqual(reissued.number, issued.number);
    // Stop again, then the expiry: the contract ends there.
    assert.equal((await post(`/v1/contracts/${k.id}/stop-renewal`, {}, c.s)).statusCode, 200);
    await runUntil('2026-02-28T09:00:00Z', HOUR);
    assert.equal(terminated.length, 0);
    await runUntil('2026-03-01T10:00:00Z', HOUR);
    assert.equal(terminated.length, 1);
    assert.deepEqual(
      [
        terminated[0]!.contractId,
        terminated[0]!.cause,
        terminated[0]!.effectiveAt.toISOString(),
        terminated[0]!.recordedBy,
      ],
      [k.id, 'term_end', '2026-02-28T10:00:00.000Z', 'system'],
    );
    assert.match(terminated[0]!.reason, /renewal was stopped/);
    // Resuming after the expiry is refused.
    v = await renewal(k.id, c.s);
    assert.deepEqual(v.actions, []);
    const tooLate = await post(`/v1/contracts/${k.id}/resume-renewal`, {}, c.s);
    assert.deepEqual([tooLate.statusCode, tooLate.json().code], [409, 'contract.expired']);
    assert.deepEqual(await templatesOf(c.account.id), [
      'invoice.issued',
      'contract.renewal_invoice',
      'invoice.issued', // the fixed-term order above
      'contract.renewal_invoice', // after the resume
      'contract.term_ending', // 3 days before the stopped subscription's end (its 14-day point was before the stop)
    ]);
    // Gap-free: the voided renewal keeps its number, no hole.
    const seqs = await invoiceSeqs();
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
    );
  });
});

describe('R11.2 an unpaid renewal (our rule: grace, then the end)', () => {
  it('at the expiry the client is told the end date; paid within the grace, the subscription renews with no gap', async () => {
    const c = await client();
    const k = await contract(c, '2026-01-31T10:00:00Z', { kind: 'subscription' });
    await runUntil('2026-02-28T10:00:00Z', 6 * HOUR);
    const v = await renewal(k.id, c.s);
    assert.deepEqual(
      [v.expiresAt, v.graceEndsAt, v.renewalInvoice?.status, v.state],
      ['2026-02-28T10:00:00.000Z', '2026-03-07T10:00:00.000Z', 'issued', 'active'],
    );
    const chain = await notices(c.account.id);
    assert.deepEqual(
      chain.map((n) => n.template),
      ['invoice.issued', 'contract.renewal_invoice', 'contract.renewal_unpaid'],
    );
    assert.match(chain[2]!.body_text, /Le service continue jusqu'au 7 mars 2026 à 11:00 \(heure de Paris\)/);
    // The console lists it as unpaid.
    const due = (await get('/v1/admin/renewals?days=30', support)).json();
    const row = due.contracts.find((x: { contractId: string }) => x.contractId === k.id);
    assert.deepEqual(
      [row.outcome, row.graceEndsAt, row.renewalInvoice.status],
      ['unpaid', '2026-03-07T10:00:00.000Z', 'issued'],
    );
    // Paid on the 4th day of grace: the month paid starts at the old expiry.
    await runUntil('2026-03-04T10:00:00Z');
    assert.equal((await pay(v.renewalInvoice!.id, v.renewalInvoice!.totalCents)).statusCode, 201);
    const after = await renewal(k.id, c.s);
    assert.deepEqual(
      [after.expiresAt, after.graceEndsAt, after.renewalInvoiceAt],
      ['2026-03-31T10:00:00.000Z', null, '2026-03-24T10:00:00.000Z'],
    );
    await runUntil('2026-03-10T10:00:00Z');
    assert.equal(terminated.length, 0, 'paid in time: nothing ends');
  });

  it('still unpaid at the end of the grace: the invoice is voided and the contract is terminated (term_end)', async () => {
    const c = await client();
    const k = await contract(c, '2026-01-31T10:00:00Z', { kind: 'subscription' });
    await runUntil('2026-03-07T09:00:00Z', 6 * HOUR);
    assert.equal(terminated.length, 0, 'the service runs during the grace');
    const inv = (await renewal(k.id)).renewalInvoice!;
    await runUntil('2026-03-08T10:00:00Z', HOUR);
    assert.deepEqual(
      terminated.map((x) => [x.contractId, x.cause, x.effectiveAt.toISOString(), x.recordedBy]),
      [[k.id, 'term_end', '2026-03-07T10:00:00.000Z', 'system']],
    );
    assert.match(
      terminated[0]!.reason,
      new RegExp(`renewal invoice ${inv.number} unpaid at the end of the grace period`),
    );
    const voided = (await get(`/v1/invoices/${inv.id}`, c.s)).json();
    assert.equal(voided.status, 'void');
    assert.match(voided.voidReason, /unpaid/);
    assert.deepEqual(await templatesOf(c.account.id), [
      'invoice.issued',
      'contract.renewal_invoice',
      'contract.renewal_unpaid',
    ]);
    // Paying the voided invoice afterwards is refused; the contract's expiry did not move.
    assert.equal((await pay(inv.id, inv.totalCents)).json().code, 'invoice.void');
    assert.equal((await renewal(k.id)).expiresAt, '2026-02-28T10:00:00.000Z');
  });
});

describe('the console: renewals due', () => {
  it('lists running contracts expiring within the window, soonest first, with what happens; staff only', async () => {
    const c = await client();
    await contract(c, '2026-01-31T10:00:00Z', { kind: 'fixed', termMonths: 1 }, 'fixed1');
    await contract(c, '2026-02-05T10:00:00Z', { kind: 'subscription' }, 'sub1');
    const far = await contract(c, '2026-02-05T10:00:00Z', { kind: 'fixed', termMonths: 12 }, 'far1');
    t.clock.set('2026-02-10T10:00:00Z');
    const r = await get('/v1/admin/renewals?days=30', support);
    assert.equal(r.statusCode, 200, r.body);
    const rows = r.json().contracts as {
      contractId: string;
      hostname: string;
      outcome: string;
      expiresAt: string;
      accountName: string;
    }[];
    assert.deepEqual(
      rows.map((x) => [x.hostname, x.outcome, x.expiresAt]),
      [
        ['fixed1', 'ends', '2026-02-28T10:00:00.000Z'],
        ['sub1', 'renews', '2026-03-05T10:00:00.000Z'],
      ],
    );
    assert.ok(!rows.some((x) => x.contractId === far.id));
    assert.equal(rows[0]!.accountName, `Account of ${c.email}`);
    assert.equal(r.json().timeZone, 'Europe/Paris');
    assert.equal((await get('/v1/admin/renewals', c.s)).statusCode, 403);
    assert.equal((await get('/v1/admin/renewals?days=0')).statusCode, 400);
  });
});

describe('with the real termination module (R11.1 the term’s end, R12.2 a registered letter)', () => {
  it('a fixed term’s end records a termination with cause term_end, effective at the expiry, and the client is told', async () => {
    mock.restoreAll();
    const c = await client();
    const k = await contract(c, '2026-01-31T10:00:00Z', { kind: 'fixed', termMonths: 1 });
    await runUntil('2026-03-01T10:00:00Z');
    const rows = await t.database.db
      .selectFrom('terminations')
      .selectAll()
      .where('contract_id', '=', k.id)
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.cause, r.effective_at.toISOString(), r.recorded_by]),
      [['term_end', '2026-02-28T10:00:00.000Z', 'system']],
    );
    assert.match(rows[0]!.reason, /R11\.1: the fixed term of 1 month\(s\) ended/);
    assert.deepEqual(await templatesOf(c.account.id), [
      'invoice.issued',
      'contract.term_ending',
      'contract.term_ending',
      'contract.termination_scheduled',
    ]);
    const v = await renewal(k.id, c.s);
    assert.deepEqual([v.termination?.cause, v.actions], ['term_end', []]);
  });

  it('a registered letter ending a subscription at its expiry: no renewal invoice for a month after it, no grace, the term no longer changes', async () => {
    mock.restoreAll();
    const c = await client();
    const k = await contract(c, '2026-01-31T10:00:00Z', { kind: 'subscription' });
    await runUntil('2026-02-10T10:00:00Z');
    const letter = await t.services.terminations.recordLetter(SYSTEM_ACTOR, k.id, {
      letterReceivedAt: t.clock.now(),
      requestedEffectiveAt: null,
    });
    assert.equal(letter.effectiveAt, '2026-02-28T10:00:00.000Z', 'the end of the paid month (their rule)');
    const stop = await post(`/v1/contracts/${k.id}/stop-renewal`, {}, c.s);
    assert.deepEqual([stop.statusCode, stop.json().code], [409, 'contract.terminating']);
    assert.deepEqual((await renewal(k.id, c.s)).actions, []);
    await runUntil('2026-03-10T10:00:00Z');
    assert.equal((await renewal(k.id)).renewalInvoice, null);
    const templates = await templatesOf(c.account.id);
    assert.ok(!templates.includes('contract.renewal_invoice'), templates.join());
    assert.ok(!templates.includes('contract.renewal_unpaid'), templates.join());
    assert.deepEqual(await invoiceSeqs(), [1], 'no renewal invoice was numbered');
  });
});

describe('contracts opened before this module', () => {
  it('get their deadlines once at start (planUnplanned is idempotent)', async () => {
    const c = await client();
    const k = await contract(c, '2026-01-31T10:00:00Z', { kind: 'subscription' });
    await t.database.db.deleteFrom('deadlines').where('subject_id', '=', k.id).execute();
    assert.equal(await t.services.renewals.planUnplanned(), 1);
    assert.equal(await t.services.renewals.planUnplanned(), 0);
    const v = await renewal(k.id);
    assert.deepEqual(
      [v.renewalInvoiceAt, v.nextRenewalAt],
      ['2026-02-21T10:00:00.000Z', '2026-02-28T10:00:00.000Z'],
    );
  });
});
