// Tenancy across every client-reachable module (issue 5 acceptance "Tenancy"; architecture:
// "another account's object is 404, never 403"): a second client can neither see nor act on the
// first one's orders, invoices (and their printable page), payments, contracts, VPS (and its
// events, actions, contract, traffic, network blocks, sanctions, support balance), identity requests and
// documents, notices, and tickets (R4.3: reads, answers, files, a ticket on her VPS).
// Each object is first shown to exist for its owner (200), so a 404 is tenancy, not a broken
// route. No VM: the records are made through the API and services (the provisioning job is
// only recorded).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let admin: Session;
let adminEmail = '';
let alice: Session;
let bob: Session;
let aliceAccount: string;
const ids = {
  order: '',
  invoice: '',
  contract: '',
  vps: '',
  payment: '',
  request: '',
  document: '',
  notice: '',
  unpaidOrder: '',
  ticket: '',
};

const { get } = requests(() => t);
const send = (method: 'POST' | 'PUT', url: string, payload: object, s: Session) =>
  t.app.inject({ method, url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });

function multipart(content: Buffer, fileName = 'id.pdf') {
  const boundary = `----infogere${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/pdf\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    payload: Buffer.concat([head, content, tail]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(1000), Buffer.from('\n%%EOF\n')]);

/** Every `id` field in a JSON value (notice ids are small integers: compare them exactly). */
function idsIn(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) idsIn(x, out);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      if (k === 'id' && (typeof x === 'string' || typeof x === 'number')) out.add(String(x));
      else idsIn(x, out);
    }
  return out;
}

function ok(r: { statusCode: number; body: string }, what: string, status = 200) {
  assert.equal(r.statusCode, status, `${what}: ${r.body}`);
  return JSON.parse(r.body || 'null') as Record<string, unknown> & { id?: string };
}

before(async () => {
  t = await testApp();
  const a = await makeStaff(t, 'admin');
  adminEmail = a.email;
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const dc = await t.services.infra.createDatacenter(
    { code: 'PAR1', name: 'Paris 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  const plan = ok(
    await send(
      'POST',
      '/v1/admin/plans',
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
      admin,
    ),
    'plan',
    201,
  );
  const ca = await makeClient(t, 'alice@example.test');
  aliceAccount = ca.account.id;
  alice = await login(t, ca.email);
  const cb = await makeClient(t, 'bob@example.test');
  bob = await login(t, cb.email);

  // Alice: an order paid and validated (contract + VPS), and one left unpaid.
  const orderBody = { planId: plan.id, datacenterId: dc.id, kind: 'fixed', termMonths: 12, hostname: 'web1' };
  const placed = ok(await send('POST', '/v1/orders', orderBody, alice), 'order', 201) as {
    order: { id: string };
    invoice: { id: string; totalCents: number };
  };
  ids.order = placed.order.id;
  ids.invoice = placed.invoice.id;
  ok(
    await send(
      'POST',
      `/v1/admin/invoices/${ids.invoice}/payments`,
      { method: 'transfer', reference: 'VIR-1', amountCents: placed.invoice.totalCents },
      admin,
    ),
    'payment',
    201,
  );
  ok(await send('POST', `/v1/admin/orders/${ids.order}/validate`, {}, admin), 'validate');
  const order = ok(await get(`/v1/orders/${ids.order}`, alice), 'order') as {
    contractId: string;
    vpsId: string;
  };
  ids.contract = order.contractId;
  ids.vps = order.vpsId;
  assert.ok(ids.contract && ids.vps, 'validation opened a contract and requested a VPS');
  ids.payment = (ok(await get('/v1/payments', alice), 'payments') as unknown as { id: string }[])[0]!.id;
  ids.unpaidOrder = (
    ok(await send('POST', '/v1/orders', { ...orderBody, hostname: 'web2' }, alice), 'order', 201) as {
      order: { id: string };
    }
  ).order.id;

  // Alice: a proof request with a document.
  const req = ok(
    await send('POST', `/v1/admin/clients/${aliceAccount}/identity/requests`, { kind: 'identity' }, admin),
    'request',
    201,
  ) as { request?: { id: string }; id?: string };
  ids.request = req.request?.id ?? req.id!;
  const up = multipart(PDF);
  const doc = await t.app.inject({
    method: 'POST',
    url: `/v1/identity/requests/${ids.request}/documents`,
    payload: up.payload,
    headers: { ...up.headers, cookie: alice.cookie, 'x-csrf-token': alice.csrf },
  });
  ids.document = ok(doc, 'upload', 201).id!;

  // Alice: a ticket on her VPS (R4.3).
  ids.ticket = ok(
    await send(
      'POST',
      '/v1/tickets',
      { kind: 'admin_request', subject: 'Install nginx', body: 'Please install nginx', vpsId: ids.vps },
      alice,
    ),
    'ticket',
    201,
  ).id!;

  // Alice: the notices of the mails sent to her (invoices, proof request).
  const notices = (ok(await get('/v1/notices', alice), 'notices') as unknown as { items: { id: string }[] })
    .items;
  assert.ok(notices.length > 0, 'Alice was told something');
  ids.notice = notices[0]!.id;
});
after(async () => t?.close());

describe('tenancy: a second client gets 404 on the first one’s objects, everywhere', () => {
  const reads = () => [
    `/v1/orders/${ids.order}`,
    `/v1/orders/${ids.unpaidOrder}`,
    `/v1/invoices/${ids.invoice}`,
    `/v1/invoices/${ids.invoice}/print`,
    `/v1/invoices/${ids.invoice}/print?lang=en`,
    `/v1/contracts/${ids.contract}`,
    `/v1/vps/${ids.vps}`,
    `/v1/vps/${ids.vps}/events`,
    `/v1/vps/${ids.vps}/actions`,
    `/v1/vps/${ids.vps}/contract`,
    `/v1/vps/${ids.vps}/traffic`,
    `/v1/vps/${ids.vps}/network-blocks`,
    `/v1/vps/${ids.vps}/spam`,
    `/v1/vps/${ids.vps}/spam/blocks`,
    `/v1/vps/${ids.vps}/ddos-mitigations`,
    `/v1/identity/requests/${ids.request}`,
    `/v1/identity/documents/${ids.document}/content`,
    `/v1/notices/${ids.notice}`,
    `/v1/tickets/${ids.ticket}`,
    `/v1/vps/${ids.vps}/support-balance`,
  ];

  it('the owner reads each of them (the routes work)', async () => {
    for (const url of reads()) {
      const r = await get(url, alice);
      assert.equal(r.statusCode, 200, `${url}: ${r.body.slice(0, 200)}`);
    }
  });

  it('the owner’s reads and lists never name a staff member: who acted for the provider is "provider"', async () => {
    for (const url of [
      ...reads(),
      '/v1/orders',
      '/v1/invoices',
      '/v1/payments',
      '/v1/contracts',
      '/v1/vps',
    ]) {
      const r = await get(url, alice);
      assert.equal(r.statusCode, 200, url);
      assert.ok(!r.body.includes(adminEmail), `${url} names the staff member who acted`);
    }
    const payments = (await get('/v1/payments', alice)).json() as { recordedBy: string }[];
    assert.deepEqual(
      payments.map((p) => p.recordedBy),
      ['provider'],
    );
    const staffView = (await get(`/v1/payments?accountId=${aliceAccount}`, admin)).json() as {
      recordedBy: string;
    }[];
    assert.deepEqual(
      staffView.map((p) => p.recordedBy),
      [adminEmail],
    );
  });

  it('the other client gets 404 on every read, and learns nothing from the body', async () => {
    for (const url of reads()) {
      const r = await get(url, bob);
      assert.equal(r.statusCode, 404, `${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
      for (const secret of ['web1', 'alice@example.test', aliceAccount]) {
        assert.ok(!r.body.includes(secret), `${url} leaks ${secret}`);
      }
    }
  });

  it('the other client gets 404 on every action, and nothing changes', async () => {
    const before = await t.database.db.selectFrom('orders').select(['id', 'state']).orderBy('id').execute();
    const cancel = await send('POST', `/v1/orders/${ids.unpaidOrder}/cancel`, {}, bob);
    assert.equal(cancel.statusCode, 404, cancel.body);
    for (const action of ['start', 'stop', 'reboot', 'poweroff']) {
      const r = await send('POST', `/v1/vps/${ids.vps}/actions/${action}`, {}, bob);
      assert.equal(r.statusCode, 404, `${action}: ${r.body}`);
    }
    const up = multipart(PDF);
    const upload = await t.app.inject({
      method: 'POST',
      url: `/v1/identity/requests/${ids.request}/documents`,
      payload: up.payload,
      headers: { ...up.headers, cookie: bob.cookie, 'x-csrf-token': bob.csrf },
    });
    assert.equal(upload.statusCode, 404, upload.body);
    // R4.3: her ticket can neither be answered nor given a file, and her VPS takes no ticket of another.
    const ticketsBefore = await t.database.db.selectFrom('ticket_messages').select('id').execute();
    const answer = await send('POST', `/v1/tickets/${ids.ticket}/messages`, { body: 'hi' }, bob);
    assert.equal(answer.statusCode, 404, answer.body);
    const file = multipart(PDF);
    const attach = await t.app.inject({
      method: 'POST',
      url: `/v1/tickets/${ids.ticket}/attachments`,
      payload: file.payload,
      headers: { ...file.headers, cookie: bob.cookie, 'x-csrf-token': bob.csrf },
    });
    assert.equal(attach.statusCode, 404, attach.body);
    const onHerVps = await send(
      'POST',
      '/v1/tickets',
      { kind: 'admin_request', subject: 'x', body: 'y', vpsId: ids.vps },
      bob,
    );
    assert.equal(onHerVps.statusCode, 404, onHerVps.body);
    assert.equal(
      (await t.database.db.selectFrom('ticket_messages').select('id').execute()).length,
      ticketsBefore.length,
    );
    assert.deepEqual(
      await t.database.db.selectFrom('orders').select(['id', 'state']).orderBy('id').execute(),
      before,
    );
    const docs = await t.database.db
      .selectFrom('identity_documents')
      .select('id')
      .where('request_id', '=', ids.request)
      .execute();
    assert.equal(docs.length, 1, 'no document added to the first client’s request');
    const actions = await t.database.db.selectFrom('vps_actions').select('id').execute();
    assert.equal(actions.length, 0, 'no power action queued');
  });

  it('the other client’s lists hold none of the first one’s objects, even when asked by account', async () => {
    const lists = [
      '/v1/orders',
      `/v1/orders?accountId=${aliceAccount}`,
      '/v1/invoices',
      `/v1/invoices?accountId=${aliceAccount}`,
      '/v1/payments',
      `/v1/payments?accountId=${aliceAccount}`,
      '/v1/contracts',
      `/v1/contracts?accountId=${aliceAccount}`,
      '/v1/vps',
      '/v1/identity/requests',
      '/v1/notices',
      '/v1/tickets',
      `/v1/tickets?vpsId=${ids.vps}`,
    ];
    const mine = Object.values(ids);
    // The owner's lists do hold them (so an empty list below is tenancy, not an empty database).
    for (const [url, id] of [
      ['/v1/orders', ids.order],
      ['/v1/invoices', ids.invoice],
      ['/v1/payments', ids.payment],
      ['/v1/contracts', ids.contract],
      ['/v1/vps', ids.vps],
      ['/v1/identity/requests', ids.request],
      ['/v1/notices', ids.notice],
      ['/v1/tickets', ids.ticket],
    ] as const) {
      const r = await get(url, alice);
      assert.ok(idsIn(JSON.parse(r.body)).has(id), `${url} of the owner lists ${id}`);
    }
    for (const url of lists) {
      const r = await get(url, bob);
      if (r.statusCode !== 200) {
        // Refusing the filter outright is fine too, as long as it is not a leak.
        assert.ok([400, 403, 404].includes(r.statusCode), `${url}: ${r.statusCode}`);
        continue;
      }
      const listed = idsIn(JSON.parse(r.body));
      for (const id of mine) assert.ok(!listed.has(id), `${url} lists ${id}`);
      assert.ok(!r.body.includes(aliceAccount), `${url} names the first account`);
    }
  });
});
