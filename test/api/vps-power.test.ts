// VPS power actions through the API (issue 3 item 7) with a fake host driver: the state
// machine refuses illegal transitions (409 naming the state), roles (403), tenancy (another
// account's VPS is 404), the `vps.power` job settles states, account suspension pauses and
// lifting resumes (R6.1), staff alerts. The real QEMU run is test/agent/vps-power.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allJobs } from '../../src/control/jobs/registry.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { FakeDriver, fakeAgents } from '../helpers/fake-driver.ts';
import { requests } from '../helpers/requests.ts';

/** A host whose VMs are entries in a map; `failNext` makes the next call of that name throw. */
function fakeHost(): FakeDriver {
  const d = new FakeDriver({ unknownVm: 'stopped' });
  d.hostSize = { cores: 2, cpuRatio: 4, memoryMiB: 4096, ramRatio: 1.5, diskFreeBytes: 10 * 2 ** 30 };
  d.consoleLog = async (id) => ({ id, lines: ['Booting Linux', `login: ${id.slice(0, 4)}`] });
  d.orphanReport = { processes: [], sockets: [], disks: ['/x/old.raw'], stateDirs: [], taps: [] };
  return d;
}

let t: TestApp;
let host: FakeDriver;
let admin: Session;
let support: Session;
let alice: Session;
let bob: Session;
let aliceAccount: string;
let hostId: string;

const { get, post } = requests(() => t);

let nextIp = 10;
async function makeVps(state: string, accountId = aliceAccount, hostname = 'web'): Promise<string> {
  const dc = (await t.services.infra.listDatacenters())[0]!;
  const v = await t.database.db.transaction().execute((tx) =>
    t.services.infra.requestVps(tx, {
      accountId,
      datacenterId: dc.id,
      hostname,
      vcpus: 1,
      memoryMiB: 256,
      diskGiB: 1,
      billingAnchor: t.clock.now(),
      clientUsername: 'camille',
    }),
  );
  await t.database.db
    .updateTable('vps')
    .set({
      state,
      host_id: hostId,
      ipv4: `192.0.2.${nextIp++}/24`,
      provision_step: 'access_codes',
      provision_percent: 100,
    })
    .where('id', '=', v.id)
    .execute();
  if (state === 'running' || state === 'paused') host.vms.set(v.id, state);
  return v.id;
}
const stateOf = async (id: string) =>
  await t.database.db
    .selectFrom('vps')
    .select(['state', 'state_reason'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
// The provisioning jobs requestVps queued are not run here (the VPS rows are set by hand).
const noProvisioning = { name: 'vps.provision', handler: async () => {} } as unknown as ReturnType<
  typeof allJobs
>[number];
const runJobs = () => t.queue.runAll([noProvisioning, ...allJobs(t.services)]);
const powerJobs = () => t.queue.sent.filter((j) => j.name === 'vps.power').length;

before(async () => {
  host = fakeHost();
  t = await testApp({}, { agents: fakeAgents({ driver: host }) });
  const a = await makeStaff(t, 'admin');
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const sup = await makeStaff(t, 'support');
  support = await login(t, sup.email, { totpSecret: sup.totpSecret });
  const ca = await makeClient(t);
  aliceAccount = ca.account.id;
  alice = await login(t, ca.email);
  const cb = await makeClient(t);
  bob = await login(t, cb.email);
  const dc = await t.services.infra.createDatacenter(
    { code: 'PWR1', name: 'Power', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  hostId = (
    await t.services.infra.registerHost(
      { name: 'hv1', datacenterId: dc.id, cpuCores: 2, memoryMiB: 4096, diskGiB: 20 },
      SYSTEM_ACTOR,
    )
  ).id;
});
after(async () => t?.close());

describe('power actions: state machine first, then the driver through the vps.power job', () => {
  it('stop: 202 at once with the action, VPS `stopping`; the job runs the ladder, says which rung ended it, VPS `stopped`; audit and events', async () => {
    const id = await makeVps('running');
    const jobs = powerJobs();
    const r = await post(`/v1/vps/${id}/actions/stop`, support);
    assert.equal(r.statusCode, 202, r.body);
    const body = r.json();
    assert.equal(body.action.state, 'queued');
    assert.equal(body.vps.state, 'stopping');
    assert.equal(powerJobs(), jobs + 1);
    // A second action while one is in flight: a conflict, never a queue.
    const again = await post(`/v1/vps/${id}/actions/reboot`, admin);
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'vps.illegal_transition');
    assert.match(again.json().message, /stopping/);
    await runJobs();
    assert.equal((await stateOf(id)).state, 'stopped');
    const actions = (await get(`/v1/vps/${id}/actions`, admin)).json();
    assert.equal(actions[0].state, 'done');
    assert.equal(actions[0].result.endedBy, 'acpi');
    const events = (await get(`/v1/vps/${id}/events`, admin)).json().items as {
      kind: string;
      details: Record<string, unknown>;
    }[];
    assert.ok(
      events.some((e) => e.kind === 'power' && e.details.phase === 'done' && e.details.endedBy === 'acpi'),
    );
    assert.ok(events.some((e) => e.kind === 'state' && e.details.to === 'stopped'));
    const audit = await t.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', id)
      .execute();
    assert.deepEqual(audit.map((x) => x.action).sort(), ['vps.stop', 'vps.stop.done']);
  });

  it('start, reboot, poweroff each go through the driver and end in the state the machine says', async () => {
    const id = await makeVps('stopped');
    assert.equal((await post(`/v1/vps/${id}/actions/start`, admin)).statusCode, 202);
    assert.equal((await stateOf(id)).state, 'starting');
    await runJobs();
    assert.equal((await stateOf(id)).state, 'running');
    assert.equal((await post(`/v1/vps/${id}/actions/reboot`, admin)).statusCode, 202);
    await runJobs();
    assert.equal((await stateOf(id)).state, 'running');
    assert.equal((await post(`/v1/vps/${id}/actions/poweroff`, admin)).statusCode, 202);
    await runJobs();
    assert.equal((await stateOf(id)).state, 'stopped');
    assert.deepEqual(
      host.calls.filter((c) => c.endsWith(id)).map((c) => c.split(' ')[0]),
      ['start', 'reboot', 'powerOff'],
    );
  });

  it('illegal transitions are 409 vps.illegal_transition naming the current state, nothing queued, no driver call', async () => {
    const stopped = await makeVps('stopped');
    const provisioning = await makeVps('provisioning');
    const before = host.calls.length;
    const jobs = powerJobs();
    for (const [id, action, state] of [
      [stopped, 'stop', 'stopped'],
      [stopped, 'reboot', 'stopped'],
      [stopped, 'poweroff', 'stopped'],
      [provisioning, 'start', 'provisioning'],
      [provisioning, 'stop', 'provisioning'],
    ] as const) {
      const r = await post(`/v1/vps/${id}/actions/${action}`, admin);
      assert.equal(r.statusCode, 409, `${action} on ${state}`);
      assert.equal(r.json().code, 'vps.illegal_transition');
      assert.match(r.json().message, new RegExp(`is ${state}`));
    }
    assert.equal(powerJobs(), jobs);
    assert.equal(host.calls.length, before);
    assert.equal((await post(`/v1/vps/${stopped}/actions/explode`, admin)).statusCode, 400);
  });

  it('a driver failure fails the action, leaves the VPS in the state the host reports, and alerts staff', async () => {
    const id = await makeVps('running');
    host.failNext.add('reboot');
    assert.equal((await post(`/v1/vps/${id}/actions/reboot`, admin)).statusCode, 202);
    await runJobs();
    assert.equal((await stateOf(id)).state, 'running');
    const [a] = (await get(`/v1/vps/${id}/actions`, admin)).json();
    assert.equal(a.state, 'failed');
    assert.match(a.error, /reboot broke/);
    const alerts = (await get('/v1/admin/alerts?open=true', support)).json().items as {
      id: string;
      kind: string;
      subjectId: string;
    }[];
    const alert = alerts.find((x) => x.subjectId === id);
    assert.equal(alert?.kind, 'power_failed');
    const ack = await post(`/v1/admin/alerts/${alert.id}/ack`, support);
    assert.equal(ack.statusCode, 200);
    assert.ok(ack.json().acknowledgedAt);
    assert.ok(
      !((await get('/v1/admin/alerts?open=true', support)).json().items as { id: string }[]).some(
        (x) => x.id === alert.id,
      ),
    );
    assert.equal((await post(`/v1/admin/alerts/${alert.id}/ack`, support)).statusCode, 200, 'idempotent');
    assert.equal((await get('/v1/admin/alerts', alice)).statusCode, 403);
    assert.equal((await post(`/v1/admin/alerts/${alert.id}/ack`, alice)).statusCode, 403);
  });
});

describe('clients: their own VPS, a subset of actions, never a suspended one (R3.3)', () => {
  it('a client may stop, start and reboot their own VPS; the list shows only those actions', async () => {
    const id = await makeVps('running', aliceAccount, 'mine');
    const v = (await get(`/v1/vps/${id}`, alice)).json();
    assert.deepEqual(v.actions, ['stop', 'reboot']);
    assert.deepEqual((await get(`/v1/vps/${id}`, admin)).json().actions, ['stop', 'reboot', 'poweroff']);
    assert.equal((await post(`/v1/vps/${id}/actions/reboot`, alice)).statusCode, 202);
    await runJobs();
    assert.equal((await post(`/v1/vps/${id}/actions/stop`, alice)).statusCode, 202);
    await runJobs();
    assert.equal((await post(`/v1/vps/${id}/actions/start`, alice)).statusCode, 202);
    await runJobs();
    assert.equal((await stateOf(id)).state, 'running');
  });

  it('power off and anything on a failed VPS are staff’s: 403; a paused (suspended) VPS: 409 vps.suspended', async () => {
    const running = await makeVps('running');
    const jobs = powerJobs();
    const r = await post(`/v1/vps/${running}/actions/poweroff`, alice);
    assert.equal(r.statusCode, 403);
    assert.equal(r.json().code, 'vps.action_staff_only');
    const failed = await makeVps('failed');
    assert.equal((await post(`/v1/vps/${failed}/actions/start`, alice)).json().code, 'vps.action_staff_only');
    const paused = await makeVps('paused');
    const p = await post(`/v1/vps/${paused}/actions/poweroff`, alice);
    assert.equal(p.statusCode, 409);
    assert.equal(p.json().code, 'vps.suspended');
    assert.equal(powerJobs(), jobs);
  });

  it('another account’s VPS is 404 for actions, action lists, events; the console is staff only (403, R3.4)', async () => {
    const id = await makeVps('running');
    for (const r of [
      await post(`/v1/vps/${id}/actions/reboot`, bob),
      await get(`/v1/vps/${id}/actions`, bob),
      await get(`/v1/vps/${id}/events`, bob),
      await get(`/v1/vps/${id}`, bob),
    ]) {
      assert.equal(r.statusCode, 404, r.body);
      assert.equal(r.json().code, 'vps.not_found');
    }
    assert.equal((await get(`/v1/admin/vps/${id}/console`, bob)).statusCode, 403);
    assert.equal((await get(`/v1/admin/vps/${id}/console`, alice)).statusCode, 403);
    const c = await get(`/v1/admin/vps/${id}/console`, support);
    assert.equal(c.statusCode, 200);
    assert.deepEqual(c.json(), { lines: ['Booting Linux', `login: ${id.slice(0, 4)}`], available: true });
    assert.equal((await get(`/v1/admin/vps`, alice)).statusCode, 403);
  });

  it('an account suspension (R6.1) pauses its running VPSs, refuses the client’s actions, and lifting it resumes them', async () => {
    const id = await makeVps('running', aliceAccount, 'susp');
    const stopped = await makeVps('stopped', aliceAccount, 'susp2');
    await t.services.clients.suspend(
      { accountId: aliceAccount, cause: 'test', referenceId: null, reason: 'testing' },
      SYSTEM_ACTOR,
    );
    assert.equal((await stateOf(id)).state, 'paused');
    assert.match((await stateOf(id)).state_reason!, /^account suspended/);
    assert.equal(host.vms.get(id), 'paused');
    const r = await post(`/v1/vps/${stopped}/actions/start`, alice);
    assert.equal(r.statusCode, 403);
    assert.equal(r.json().code, 'account.suspended');
    assert.deepEqual((await get(`/v1/vps/${id}`, alice)).json().actions, []);
    await t.services.clients.lift({ accountId: aliceAccount, cause: 'test' }, 'done', SYSTEM_ACTOR);
    assert.equal((await stateOf(id)).state, 'running');
    assert.equal(host.vms.get(id), 'running');
    assert.equal((await stateOf(stopped)).state, 'stopped', 'a stopped VPS stays stopped');
  });
});

describe('staff views: VPS list with filters, hosts, orphans', () => {
  it('the staff VPS list filters by state and host and names the account, host and datacenter', async () => {
    await makeVps('pending', aliceAccount, 'queued');
    const r = await get(`/v1/admin/vps?state=pending&state=failed&hostId=${hostId}`, support);
    assert.equal(r.statusCode, 200, r.body);
    const rows = r.json().items as {
      state: string;
      hostName: string;
      datacenterCode: string;
      accountName: string;
      provisionPercent: number;
    }[];
    assert.ok(rows.length >= 2);
    assert.ok(
      rows.every(
        (x) => ['pending', 'failed'].includes(x.state) && x.hostName === 'hv1' && x.datacenterCode === 'PWR1',
      ),
    );
  });

  it('a host’s detail has the driver’s capacity once its agent is open; orphans list (staff), clean (admin only)', async () => {
    const d = (await get(`/v1/admin/hosts/${hostId}`, support)).json();
    assert.equal(d.agentOpen, true); // opened by the actions above
    assert.equal(d.live.cores, 2);
    assert.equal(d.live.accel, 'tcg');
    assert.ok(d.vcpusPlaced >= 1);
    assert.deepEqual((await get(`/v1/admin/hosts/${hostId}/orphans`, support)).json().disks, ['/x/old.raw']);
    assert.equal((await post(`/v1/admin/hosts/${hostId}/orphans/clean`, support)).statusCode, 403);
    assert.equal((await post(`/v1/admin/hosts/${hostId}/orphans/clean`, admin)).statusCode, 200);
    assert.equal((await get(`/v1/admin/hosts/${hostId}`, alice)).statusCode, 403);
    assert.equal((await get(`/v1/admin/hosts/00000000-0000-4000-8000-000000000000`, admin)).statusCode, 404);
  });
});
