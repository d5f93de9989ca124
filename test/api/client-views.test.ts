// What clients read of the provider's records: never a staff member's email nor a raw agent
// error (its command line, host paths), on every client-facing route of a VPS and its account
// (events, power actions, the VPS itself, network blocks, sanctions, traffic, payments,
// standing). Staff keep the detail. Host doubles: a driver whose start fails with the kind of
// message a real QEMU gives.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { FakeDriver, fakeAgents } from '../helpers/fake-driver.ts';
import { fakeNetwork, hostFor, placedVps } from '../helpers/traffic.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
const driver = new FakeDriver({ unknownVm: 'stopped' });
const vms = driver.vms;
let admin: Session;
let alice: Session;
let adminEmail = '';
let aliceEmail = '';
let aliceAccount = '';
let vpsId = '';
/** What the host says when the start fails: argv and host paths, as QEMU's errors do. */
const RAW = 'qemu-system-x86_64 -drive file=/var/lib/infogere/disks/vm.qcow2,if=virtio: Could not open';
const LEAKS = () => [adminEmail, '/var/lib/infogere', 'qemu-system', 'Could not open'];

/** A host whose start fails as QEMU does (a raw error with its command line and host paths). */
function agents() {
  driver.start = async (id: string) => {
    vms.set(id, 'failed');
    throw new Error(RAW);
  };
  return fakeAgents({ driver, network: fakeNetwork() });
}

const { get, post } = requests(() => t);

before(async () => {
  t = await testApp({}, { agents: agents() });
  const a = await makeStaff(t, 'admin');
  adminEmail = a.email;
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const c = await makeClient(t);
  aliceEmail = c.email;
  aliceAccount = c.account.id;
  alice = await login(t, c.email);
  const { dc, host } = await hostFor(t, 'CLV1');
  const v = await placedVps(t, {
    accountId: aliceAccount,
    datacenterId: dc.id,
    hostId: host.id,
    slot: 1,
    ipv4: '203.0.113.21',
  });
  vpsId = v.id;
  vms.set(vpsId, 'stopped');
  await t.database.db.updateTable('vps').set({ state: 'stopped' }).where('id', '=', vpsId).execute();

  // The client's own start (its email stays its own), then staff act on Alice's VPS and
  // account: a start, both failing on the host, a block, a restriction, a suspension lifted.
  const own = await post(`/v1/vps/${vpsId}/actions/start`, alice, {});
  assert.equal(own.statusCode, 202, own.body);
  await t.services.vps.runPower(own.json().action.id);
  const start = await post(`/v1/vps/${vpsId}/actions/start`, admin, {});
  assert.equal(start.statusCode, 202, start.body);
  await t.services.vps.runPower(start.json().action.id);
  const block = await post(`/v1/admin/vps/${vpsId}/network-blocks`, admin, {
    kind: 'block',
    protocol: 'udp',
    port: 53,
    direction: 'out',
    reason: 'open resolver',
  });
  assert.equal(block.statusCode, 201, block.body);
  const restriction = await post('/v1/admin/sanctions', admin, {
    vpsId,
    breachKind: 'spam',
    severity: 'minor',
    reason: 'Spam sent from the VPS',
    evidence: 'listing',
    plannedEnd: new Date(t.clock.now().getTime() + 86_400_000).toISOString(),
  });
  assert.equal(restriction.statusCode, 201, restriction.body);
  const actor = { userId: a.user.id, label: adminEmail, ip: '198.51.100.7' };
  await t.services.clients.suspend(
    { accountId: aliceAccount, cause: 'manual', referenceId: null, reason: 'Checking' },
    actor,
  );
  await t.services.clients.lift({ accountId: aliceAccount, cause: 'manual' }, 'Done', actor);
});
after(async () => t?.close());

describe('clients read a role and a plain message; staff keep the detail', () => {
  it('GET /v1/vps/:id/events: "by" is the provider (or the client’s own user), a failure is a problem code, never argv or host paths', async () => {
    const staff = await get(`/v1/vps/${vpsId}/events`, admin);
    assert.equal(staff.statusCode, 200);
    assert.ok(staff.body.includes(adminEmail), 'staff read who asked');
    assert.ok(staff.body.includes('/var/lib/infogere'), 'staff read the raw error');
    const r = await get(`/v1/vps/${vpsId}/events`, alice);
    assert.equal(r.statusCode, 200);
    for (const leak of LEAKS()) assert.ok(!r.body.includes(leak), `events leak ${leak}: ${r.body}`);
    const events = r.json().items as { kind: string; details: Record<string, unknown> }[];
    const power = events.filter((e) => e.kind === 'power');
    const requested = power.filter((e) => e.details.phase === 'requested').map((e) => e.details.by);
    assert.deepEqual(requested.sort(), [aliceEmail, 'provider'].sort());
    const failed = power.filter((e) => e.details.phase === 'failed');
    assert.equal(failed.length, 2);
    for (const f of failed)
      assert.deepEqual(f.details, { action: 'start', phase: 'failed', problem: 'power_failed' });
  });

  it('GET /v1/vps/:id/actions and the VPS itself: no staff email, no driver answer, a plain error, no raw state reason', async () => {
    const staffActions = await get(`/v1/vps/${vpsId}/actions`, admin);
    assert.ok(staffActions.body.includes(RAW));
    const r = await get(`/v1/vps/${vpsId}/actions`, alice);
    assert.equal(r.statusCode, 200);
    for (const leak of LEAKS()) assert.ok(!r.body.includes(leak), `actions leak ${leak}: ${r.body}`);
    const actions = r.json() as {
      requestedBy: string;
      error: string | null;
      state: string;
      result: unknown;
    }[];
    assert.deepEqual(actions.map((a) => a.requestedBy).sort(), [aliceEmail, 'provider'].sort());
    for (const a of actions) {
      assert.equal(a.state, 'failed');
      assert.ok(a.error && a.error.length > 10, 'a plain message says it failed');
      assert.equal(a.result, null);
    }
    const staffVps = await get(`/v1/vps/${vpsId}`, admin);
    assert.match(staffVps.json().stateReason ?? '', /start requested by|start failed/);
    const v = await get(`/v1/vps/${vpsId}`, alice);
    assert.equal(v.json().stateReason, null);
    for (const leak of LEAKS()) assert.ok(!v.body.includes(leak), `VPS leaks ${leak}`);
  });

  it('network blocks, sanctions, traffic and standing name the provider, not staff', async () => {
    const staffNet = await get(`/v1/vps/${vpsId}/network-blocks`, admin);
    assert.ok(staffNet.body.includes(adminEmail));
    const net = await get(`/v1/vps/${vpsId}/network-blocks`, alice);
    assert.equal(net.statusCode, 200);
    assert.ok((net.json() as unknown[]).length >= 2);
    for (const m of net.json() as { createdBy: string; owner?: unknown }[]) {
      assert.equal(m.createdBy, 'provider');
      assert.equal(m.owner, undefined, 'which sanction (or notice) owns a rule is staff’s');
    }
    const standing = await get('/v1/account/standing', alice);
    assert.equal(standing.statusCode, 200);
    assert.equal(standing.json().suspensions[0].liftedBy, 'provider');
    for (const url of [
      `/v1/vps/${vpsId}/network-blocks`,
      `/v1/vps/${vpsId}/sanctions`,
      `/v1/vps/${vpsId}/traffic`,
      '/v1/account/standing',
    ]) {
      const x = await get(url, alice);
      assert.equal(x.statusCode, 200, `${url}: ${x.body}`);
      assert.ok(!x.body.includes(adminEmail), `${url} names a staff member`);
    }
  });
});
