// Authority notices (R12.6): recording a notice applies the ordered sanction at once with the
// notice linked; the scan is stored (type by content); a withheld notice sends no email and
// adds nothing to the notices chain; a notified one is in the chain; staff only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { FakeDriver, fakeAgents } from '../helpers/fake-driver.ts';
import { fakeNetwork, hostFor, placedVps, type FakeNetwork } from '../helpers/traffic.ts';

let t: TestApp;
let net: FakeNetwork;
// VPSs are placed in the database only: the driver takes them as running.
const driver = new FakeDriver({ unknownVm: 'running' });
const vms = driver.vms;
let admin: Session;
let support: Session;
let alice: Session;
let aliceAccount: string;
let place: { dcId: string; hostId: string };
let slot = 0;

before(async () => {
  net = fakeNetwork();
  t = await testApp({}, { agents: fakeAgents({ driver, network: net }) });
  const a = await makeStaff(t, 'admin');
  const c1 = await makeClient(t);
  aliceAccount = c1.account.id;
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const sp = await makeStaff(t, 'support');
  support = await login(t, sp.email, { totpSecret: sp.totpSecret });
  alice = await login(t, c1.email);
  const { dc, host } = await hostFor(t, 'AUT1');
  place = { dcId: dc.id, hostId: host.id };
});
after(async () => t?.close());

const get = (url: string, s = admin) => t.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
const post = (url: string, payload: object, s = admin) =>
  t.app.inject({ method: 'POST', url, payload, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });

async function newVps() {
  slot++;
  return placedVps(t, {
    accountId: aliceAccount,
    datacenterId: place.dcId,
    hostId: place.hostId,
    slot,
    ipv4: `203.0.113.${10 + slot}`,
  });
}
const notices = async () => t.database.db.selectFrom('mail_notices').selectAll().orderBy('id').execute();
const lastPolicy = (vpsId: string) => net.applied.filter((p) => p.vpsId === vpsId).at(-1)!;

function multipart(name: string, content: Uint8Array) {
  const boundary = '----infogere' + Math.random().toString(16).slice(2);
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    payload: Buffer.concat([head, Buffer.from(content), tail]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

describe('authority notices (R12.6)', () => {
  it('a withheld judicial order: suspension applied at once, notice linked, no email', async () => {
    const v = await newVps();
    const before = (await notices()).length;
    const r = await post('/v1/admin/authority-notices', {
      vpsId: v.id,
      authority: 'Tribunal judiciaire de Paris',
      type: 'judicial',
      reference: 'RG 26/01234',
      receivedOn: '2026-02-27',
      sanctionOrdered: 'suspension',
      withheld: true,
    });
    assert.equal(r.statusCode, 201, r.body);
    const { notice, sanction } = r.json();
    assert.equal(sanction.rung, 'suspension');
    assert.equal(sanction.noticeId, notice.id);
    assert.equal(sanction.withheld, true);
    assert.equal(vms.get(v.id), 'paused');
    assert.equal(lastPolicy(v.id).isolated, true);
    assert.equal((await notices()).length, before, 'no email, nothing in the notices chain');
    const outbox = await t.database.db
      .selectFrom('mail_outbox')
      .select('id')
      .where('account_id', '=', aliceAccount)
      .execute();
    assert.equal(outbox.length, 0);
    // Detail: the linked sanctions.
    const d = await get(`/v1/admin/authority-notices/${notice.id}`);
    assert.equal(d.statusCode, 200);
    assert.deepEqual(
      d.json().sanctions.map((m: { id: string }) => m.id),
      [sanction.id],
    );
    const list = await get('/v1/admin/authority-notices');
    assert.equal(list.json().items[0].sanctionsInForce, 1);
    // The scan: a PDF by content is stored; a text file is refused.
    const bad = multipart('scan.pdf', new TextEncoder().encode('not a pdf'));
    let up = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/authority-notices/${notice.id}/scan`,
      payload: bad.payload,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': bad.contentType },
    });
    assert.equal(up.statusCode, 400, up.body);
    assert.equal(up.json().code, 'upload.type');
    const good = multipart('scan.pdf', new TextEncoder().encode('%PDF-1.7\n%fake\n'));
    up = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/authority-notices/${notice.id}/scan`,
      payload: good.payload,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': good.contentType },
    });
    assert.equal(up.statusCode, 201, up.body);
    assert.equal(up.json().scan.contentType, 'application/pdf');
    const dl = await get(`/v1/admin/authority-notices/${notice.id}/scan`);
    assert.equal(dl.statusCode, 200);
    assert.match(dl.body, /^%PDF-/);
    // Lifting once the authority lifts its order: the VM runs again, no email either.
    const lift = await post(`/v1/admin/sanctions/${sanction.id}/lift`, {
      reason: 'Order lifted by the court',
    });
    assert.equal(lift.statusCode, 200, lift.body);
    assert.equal(vms.get(v.id), 'running');
    assert.equal((await notices()).length, before);
  });

  it('an administrative order not withheld: restriction applied, the client emailed, the mail in the chain', async () => {
    const v = await newVps();
    const r = await post('/v1/admin/authority-notices', {
      vpsId: v.id,
      authority: 'ARCOM',
      type: 'administrative',
      reference: 'ADM-2026-77',
      receivedOn: '2026-03-01',
      sanctionOrdered: 'restriction',
      withheld: false,
      protocol: 'tcp',
      port: 8080,
      direction: 'in',
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().sanction.rung, 'restriction');
    assert.ok(lastPolicy(v.id).blocks.some((b) => b.port === 8080 && b.direction === 'in'));
    const mail = await t.database.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('account_id', '=', aliceAccount)
      .where('template', '=', 'sanction.applied')
      .executeTakeFirstOrThrow();
    assert.match(mail.body_text, /ARCOM/);
    const chained = await t.database.db
      .selectFrom('mail_notices')
      .select('id')
      .where('outbox_id', '=', mail.id)
      .execute();
    assert.equal(chained.length, 1);
  });

  it('bad input: a restriction order without a protocol records nothing; clients cannot reach notices', async () => {
    const v = await newVps();
    const count = async () =>
      (await t.database.db.selectFrom('authority_notices').select('id').execute()).length;
    const n = await count();
    const r = await post('/v1/admin/authority-notices', {
      vpsId: v.id,
      authority: 'Préfecture',
      type: 'administrative',
      reference: 'X-1',
      receivedOn: '2026-03-01',
      sanctionOrdered: 'restriction',
      withheld: false,
    });
    assert.equal(r.statusCode, 400);
    assert.equal(await count(), n);
    assert.equal((await get('/v1/admin/authority-notices', alice)).statusCode, 403);
  });
});

describe('who records a notice, and how many scans (docs/security.md, Roles)', () => {
  it('support reads notices but may not record one nor upload its scan (403, nothing applied); the 6th scan of one notice is 413 upload.too_many', async () => {
    const v = await newVps();
    const body = {
      vpsId: v.id,
      authority: 'ARCOM',
      type: 'administrative',
      reference: 'ADM-2026-99',
      receivedOn: '2026-03-01',
      sanctionOrdered: 'limitation',
      withheld: true,
      liftCondition: 'the order ends',
    };
    const refused = await post('/v1/admin/authority-notices', body, support);
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal(
      (await t.database.db.selectFrom('sanctions').select('id').where('vps_id', '=', v.id).execute()).length,
      0,
    );
    const r = await post('/v1/admin/authority-notices', body);
    assert.equal(r.statusCode, 201, r.body);
    const id = r.json().notice.id as string;
    assert.equal((await get(`/v1/admin/authority-notices/${id}`, support)).statusCode, 200);
    const scan = (s: Session) => {
      const m = multipart('scan.pdf', new TextEncoder().encode('%PDF-1.7\n%fake\n'));
      return t.app.inject({
        method: 'POST',
        url: `/v1/admin/authority-notices/${id}/scan`,
        payload: m.payload,
        headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': m.contentType },
      });
    };
    assert.equal((await scan(support)).statusCode, 403);
    for (let i = 0; i < 5; i++) assert.equal((await scan(admin)).statusCode, 201);
    const sixth = await scan(admin);
    assert.equal(sixth.statusCode, 413, sixth.body);
    assert.equal(sixth.json().code, 'upload.too_many');
  });
});
