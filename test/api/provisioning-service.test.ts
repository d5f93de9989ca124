// The provisioning workflow at the service level, without HTTP or the job queue, on a FakeDriver
// (R3.1, R3.2, R3.4, R2.1): what the real-QEMU tests (test/agent/provisioning*.test.ts) prove on
// real parts, here fast and step by step: the steps' effects, the guest passwords handed over as
// hashes only, a second run that changes nothing, and the third step error that fails the VPS.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { verify } from 'unixcrypt';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { PROVISION_MAX_ERRORS } from '../../src/control/services/provisioning.ts';
import { FakeDriver, fakeAgents } from '../helpers/fake-driver.ts';
import { fakeNetwork } from '../helpers/traffic.ts';
import { makeClient, testApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let driver: FakeDriver;
let dcId: string;
before(async () => {
  driver = new FakeDriver();
  // The guest's answer to `id -u <client>`: an ordinary user.
  driver.execAnswer = () => ({ exitCode: 0, stdout: '1000\n', stderr: '', timedOut: false });
  t = await testApp({}, { agents: fakeAgents({ driver, network: fakeNetwork() }) });
  const dc = await t.services.infra.createDatacenter(
    { code: 'PRV1', name: 'Prov', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  dcId = dc.id;
  await t.services.infra.registerHost(
    { name: 'hv-prov', datacenterId: dc.id, cpuCores: 8, memoryMiB: 16384, diskGiB: 200 },
    SYSTEM_ACTOR,
  );
  await t.services.infra.createPool(
    { datacenterId: dc.id, cidr: '203.0.113.0/24', gateway: '203.0.113.1' },
    SYSTEM_ACTOR,
  );
});
after(async () => t?.close());

/** A VPS ordered by a new client, as validation leaves it (pending, job queued). */
async function orderedVps() {
  const c = await makeClient(t);
  return t.database.db.transaction().execute((tx) =>
    t.services.infra.requestVps(tx, {
      accountId: c.account.id,
      datacenterId: dcId,
      hostname: `p-${randomBytes(3).toString('hex')}`,
      vcpus: 1,
      memoryMiB: 256,
      diskGiB: 1,
      billingAnchor: t.clock.now(),
      clientUsername: 'alice',
    }),
  );
}

const vpsRow = (id: string) =>
  t.database.db.selectFrom('vps').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const accessMails = (accountId: string) =>
  t.database.db
    .selectFrom('mail_outbox')
    .select('id')
    .where('account_id', '=', accountId)
    .where('template', '=', 'vps.access_codes')
    .execute();

describe('provisioning service (FakeDriver, no queue)', () => {
  it('R3.1 R3.2 R3.4 R2.1: places, addresses, defines with password hashes only, boots and mails the access codes once', async () => {
    const v = await orderedVps();
    await t.services.provisioning.run(v.id, { jobRetry: 0 });
    const row = await vpsRow(v.id);
    assert.equal(row.state, 'running');
    assert.equal(row.provision_percent, 100);
    assert.ok(row.host_id && row.net_slot !== null && row.ipv4?.startsWith('203.0.113.'));
    const seed = driver.specs.get(v.id)!.seed;
    assert.equal(seed.ipv4?.gateway, '203.0.113.1');
    // The agent gets crypt hashes that match the sealed passwords, never the passwords.
    const initial = t.services.ctx.secrets.open(row.initial_password_enc!);
    const root = t.services.ctx.secrets.open(row.root_password_enc!);
    assert.match(seed.user.passwordHash!, /^\$6\$/);
    assert.ok(verify(initial, seed.user.passwordHash!));
    assert.ok(verify(root, seed.rootPasswordHash!));
    assert.ok(!JSON.stringify(driver.specs.get(v.id)).includes(initial));
    assert.ok(!JSON.stringify(driver.specs.get(v.id)).includes(root));
    assert.equal((await accessMails(row.account_id)).length, 1);

    // Run again (a job delivered twice): nothing is done twice.
    const defines = driver.calls.filter((c) => c === `define ${v.id}`).length;
    await t.services.provisioning.run(v.id, { jobRetry: 1 });
    assert.equal(driver.calls.filter((c) => c === `define ${v.id}`).length, defines);
    assert.equal((await accessMails(row.account_id)).length, 1);
  });

  it('R3.1: a step error is counted and rethrown; the run after it resumes at that step', async () => {
    const v = await orderedVps();
    driver.failNext.add('start');
    await assert.rejects(t.services.provisioning.run(v.id, { jobRetry: 0 }), /start broke/);
    let row = await vpsRow(v.id);
    assert.equal(row.state, 'provisioning');
    assert.equal(row.provision_errors, 1);
    assert.equal(row.provision_step, 'disk');
    await t.services.provisioning.run(v.id, { jobRetry: 1 });
    row = await vpsRow(v.id);
    assert.equal(row.state, 'running');
    assert.equal(driver.calls.filter((c) => c === `define ${v.id}`).length, 1);
  });

  it(`R3.1: the ${PROVISION_MAX_ERRORS}rd step error fails the VPS for good: address back to the pool, secrets erased, staff alerted`, async () => {
    const v = await orderedVps();
    for (let i = 1; i < PROVISION_MAX_ERRORS; i++) {
      driver.failNext.add('define');
      await assert.rejects(t.services.provisioning.run(v.id, { jobRetry: i - 1 }), /define broke/);
    }
    driver.failNext.add('define');
    await t.services.provisioning.run(v.id, { jobRetry: PROVISION_MAX_ERRORS - 1 }); // no throw: given up
    const row = await vpsRow(v.id);
    assert.equal(row.state, 'failed');
    assert.match(row.state_reason ?? '', /^disk: define broke/);
    assert.equal(row.ipv4, null);
    assert.equal(row.host_id, null);
    assert.equal(row.root_password_enc, null);
    assert.equal(row.initial_password_enc, null);
    const addresses = await t.database.db
      .selectFrom('ip_addresses')
      .select('state')
      .where('vps_id', '=', v.id)
      .execute();
    assert.deepEqual(addresses, []);
    const alerts = await t.database.db
      .selectFrom('staff_alerts')
      .select('kind')
      .where('subject_id', '=', v.id)
      .execute();
    assert.deepEqual(alerts, [{ kind: 'provisioning_failed' }]);
  });

  it('R3.4: a client account with uid 0 in the guest is a step error, not a running VPS', async () => {
    const v = await orderedVps();
    const ordinary = driver.execAnswer;
    driver.execAnswer = () => ({ exitCode: 0, stdout: '0\n', stderr: '', timedOut: false });
    try {
      await assert.rejects(t.services.provisioning.run(v.id, { jobRetry: 0 }), /uid 0/);
    } finally {
      driver.execAnswer = ordinary;
    }
    const row = await vpsRow(v.id);
    assert.equal(row.state, 'provisioning');
    assert.equal(row.provision_step, 'guest_agent');
    assert.equal((await accessMails(row.account_id)).length, 0);
  });
});
