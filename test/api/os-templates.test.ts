// OS templates (R6.4's reinstall and the order form choose one): staff register templates from
// an image's manifest and say which plans allow each; a client sees a plan's enabled templates and
// orders one; a template the plan does not allow, or a disabled one, is refused with a clear error;
// the validated order's VPS is installed from the template's image. Roles: support reads, only
// admin changes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let admin: Session;
let support: Session;
let par: { id: string };
let plan: { id: string };
let otherPlan: { id: string };
const sha = (c: string) => c.repeat(64);

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
  const mk = async (code: string) => {
    const r = await send('POST', '/v1/admin/plans', {
      code,
      name: `VPS ${code}`,
      vcpus: 1,
      memoryMiB: 1024,
      diskGiB: 20,
      monthlyPriceCents: 599,
      vatRateBp: 2000,
      datacenterIds: [par.id],
    });
    assert.equal(r.statusCode, 201, r.body);
    return r.json() as { id: string };
  };
  plan = await mk('S1');
  otherPlan = await mk('M1');
});
after(async () => t?.close());

const send = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: object, s = admin) =>
  t.app.inject({
    method,
    url,
    ...(payload ? { payload } : {}),
    headers: { cookie: s.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': s.csrf }) },
  });

async function client() {
  const c = await makeClient(t);
  return { ...c, s: await login(t, c.email) };
}

describe('OS templates: the order form’s choice, refused when the plan does not allow it', () => {
  let debian: { id: string };
  let mini: { id: string };

  it('admin registers templates; support reads but may not change them; bad input is a clear 400', async () => {
    const r = await send('POST', '/v1/admin/os-templates', {
      code: 'debian-12',
      name: 'Debian 12',
      image: 'debian-12',
      imageVersion: '2026-12-05T12:37:38Z',
      sha256: sha('a'),
    });
    assert.equal(r.statusCode, 201, r.body);
    debian = r.json();
    assert.deepEqual(
      { ...(r.json() as object), id: undefined },
      {
        id: undefined,
        code: 'debian-12',
        name: 'Debian 12',
        image: 'debian-12',
        imageVersion: '2026-12-05T12:37:38Z',
        sha256: sha('a'),
        enabled: true,
      },
    );
    mini = (
      await send('POST', '/v1/admin/os-templates', {
        code: 'mini',
        name: 'Minimal',
        image: 'infogere-mini',
        imageVersion: '1',
        sha256: sha('b'),
      })
    ).json();
    const dup = await send('POST', '/v1/admin/os-templates', {
      code: 'debian-12',
      name: 'Again',
      image: 'debian-12',
      imageVersion: '2',
      sha256: sha('c'),
    });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'os_template.code_taken');
    const badSha = await send('POST', '/v1/admin/os-templates', {
      code: 'x1',
      name: 'X',
      image: 'x',
      imageVersion: '1',
      sha256: 'z'.repeat(64),
    });
    assert.equal(badSha.statusCode, 400);
    assert.equal(badSha.json().code, 'validation.sha256');
    const badImage = await send('POST', '/v1/admin/os-templates', {
      code: 'x2',
      name: 'X',
      image: '../etc',
      imageVersion: '1',
      sha256: sha('d'),
    });
    assert.equal(badImage.statusCode, 400);

    const listed = await send('GET', '/v1/admin/os-templates', undefined, support);
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(
      (listed.json() as { code: string }[]).map((x) => x.code),
      ['debian-12', 'mini'],
    );
    const forbidden = await send('PATCH', `/v1/admin/os-templates/${debian.id}`, { enabled: false }, support);
    assert.equal(forbidden.statusCode, 403);
    const c = await client();
    assert.equal((await send('GET', '/v1/admin/os-templates', undefined, c.s)).statusCode, 403);
  });

  it('a plan offers the templates it allows (enabled ones); orders name one of them or are refused', async () => {
    const set = await send('PUT', `/v1/admin/plans/${plan.id}/os-templates`, {
      templateIds: [debian.id, mini.id],
    });
    assert.equal(set.statusCode, 200, set.body);
    await send('PUT', `/v1/admin/plans/${otherPlan.id}/os-templates`, { templateIds: [mini.id] });
    const c = await client();
    const offered = await send('GET', `/v1/catalogue/plans/${plan.id}/os-templates`, undefined, c.s);
    assert.equal(offered.statusCode, 200);
    assert.deepEqual(
      (offered.json() as { code: string }[]).map((x) => x.code),
      ['debian-12', 'mini'],
    );
    assert.deepEqual(
      (
        (await send('GET', `/v1/catalogue/plans/${otherPlan.id}/os-templates`, undefined, c.s)).json() as {
          code: string;
        }[]
      ).map((x) => x.code),
      ['mini'],
    );

    const order = (planId: string, osTemplateId: string | undefined, hostname: string) =>
      send(
        'POST',
        '/v1/orders',
        { planId, datacenterId: par.id, kind: 'fixed', termMonths: 12, hostname, osTemplateId },
        c.s,
      );
    const refused = await order(otherPlan.id, debian.id, 'web1');
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().code, 'os_template.not_allowed');
    assert.match(refused.json().message, /does not offer the system Debian 12/);
    const unknown = await order(plan.id, '00000000-0000-4000-8000-000000000000', 'web1');
    assert.equal(unknown.statusCode, 404);

    const placed = await order(plan.id, debian.id, 'web2');
    assert.equal(placed.statusCode, 201, placed.body);
    const { order: o, invoice } = placed.json() as {
      order: { id: string };
      invoice: { id: string; totalCents: number };
    };
    const paid = await send('POST', `/v1/admin/invoices/${invoice.id}/payments`, {
      method: 'transfer',
      reference: 'VIR-OS',
      amountCents: invoice.totalCents,
    });
    assert.equal(paid.statusCode, 201, paid.body);
    const v = await send('POST', `/v1/admin/orders/${o.id}/validate`, {});
    assert.equal(v.statusCode, 200, v.body);
    const vpsId = (v.json() as { contract: { vpsId: string } }).contract.vpsId;
    const vps = await t.database.db
      .selectFrom('vps')
      .select('image')
      .where('id', '=', vpsId)
      .executeTakeFirstOrThrow();
    assert.equal(vps.image, 'debian-12', 'the VPS is installed from the template’s image');

    // Disabled: no longer offered, and an order naming it is refused.
    assert.equal(
      (await send('PATCH', `/v1/admin/os-templates/${debian.id}`, { enabled: false })).statusCode,
      200,
    );
    assert.deepEqual(
      (
        (await send('GET', `/v1/catalogue/plans/${plan.id}/os-templates`, undefined, c.s)).json() as {
          code: string;
        }[]
      ).map((x) => x.code),
      ['mini'],
    );
    const disabled = await order(plan.id, debian.id, 'web3');
    assert.equal(disabled.statusCode, 409);
    assert.equal(disabled.json().code, 'os_template.disabled');
    // An order without a template keeps the platform's default image.
    assert.equal((await order(plan.id, undefined, 'web4')).statusCode, 201);
  });
});
