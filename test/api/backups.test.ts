// Backups through the API and the service (R3.6, R3.7, R12.4), on a fake host whose VMs'
// "disks" are small buffers streamed into real restic repositories, on a real rclone target in
// a namespace of its own (the other datacenter). A target in the VPS's own datacenter refused;
// staff see the VPSs without a valid target; 16 daily backups on a moved clock leave 15
// snapshots; the restore allowance (2 per calendar month, Europe/Paris; staff's not counted;
// the next month's first accepted); a termination leaves nothing of the VPS on the target.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resticRepos } from '../../src/agent/backup/restic.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { terminationHooks } from '../../src/control/services/terminations.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { startBackupTarget, type BackupTarget } from '../helpers/backup-target.ts';
import { FakeDriver, fakeAgents } from '../helpers/fake-driver.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let host: FakeDriver;
let target: BackupTarget;
let admin: Session;
let support: Session;
let alice: Session;
let bob: Session;
let aliceAccount: string;
let aliceEmail: string;
let bobEmail: string;
let supportCreds: { email: string; totpSecret: string };
let hostId: string;
let dcHome: string;
let dcOther: string;
const { get, post } = requests(() => t);

let nextIp = 10;
async function makeVps(accountId = aliceAccount): Promise<string> {
  const v = await t.database.db.transaction().execute((tx) =>
    t.services.infra.requestVps(tx, {
      accountId,
      datacenterId: dcHome,
      hostname: `web${nextIp}`,
      vcpus: 1,
      memoryMiB: 256,
      diskGiB: 1,
      billingAnchor: t.clock.now(),
      clientUsername: 'camille',
    }),
  );
  await t.database.db
    .updateTable('vps')
    .set({ state: 'running', host_id: hostId, ipv4: `192.0.2.${nextIp++}/24` })
    .where('id', '=', v.id)
    .execute();
  host.vms.set(v.id, 'running');
  host.disks.set(v.id, randomBytes(64 * 1024));
  return v.id;
}

/** Sessions after the clock moved days ahead (they expire). */
async function relogin(): Promise<void> {
  support = await login(t, supportCreds.email, { totpSecret: supportCreds.totpSecret });
  alice = await login(t, aliceEmail);
  bob = await login(t, bobEmail);
}

/** Every file under `dir` (rclone's store of the target). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

before(async () => {
  target = await startBackupTarget();
  host = new FakeDriver({ unknownVm: 'stopped' });
  t = await testApp({}, { agents: fakeAgents({ driver: host }) });
  const a = await makeStaff(t, 'admin');
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const sup = await makeStaff(t, 'support');
  supportCreds = { email: sup.email, totpSecret: sup.totpSecret };
  const ca = await makeClient(t);
  aliceAccount = ca.account.id;
  aliceEmail = ca.email;
  bobEmail = (await makeClient(t)).email;
  await relogin();
  const mk = (code: string, city: string) =>
    t.services.infra.createDatacenter(
      { code, name: code, city, country: 'FR', region: 'FR-IDF' },
      SYSTEM_ACTOR,
    );
  dcHome = (await mk('BKH1', 'Paris')).id;
  dcOther = (await mk('BKO2', 'Lyon')).id;
  hostId = (
    await t.services.infra.registerHost(
      { name: 'hv-bk', datacenterId: dcHome, cpuCores: 2, memoryMiB: 4096, diskGiB: 20 },
      SYSTEM_ACTOR,
    )
  ).id;
});
after(async () => {
  await t?.close();
  await target?.cleanup();
});

let vpsId: string;
let otherTarget: string;

describe('targets (R3.6)', () => {
  it('a target in the VPS’s own datacenter is refused; staff see the VPS without a valid target', async () => {
    vpsId = await makeVps();
    const body = (name: string, datacenterId: string) => ({
      name,
      kind: 'rest',
      datacenterId,
      appendUrl: target.appendUrl,
      adminUrl: target.adminUrl,
    });
    assert.equal((await post('/v1/admin/backup-targets', support, body('x', dcOther))).statusCode, 403);
    const bad = { ...body('bad', dcOther), appendUrl: 'http://nope' };
    assert.equal((await post('/v1/admin/backup-targets', admin, bad)).json().code, 'validation.appendUrl');
    const same = await post('/v1/admin/backup-targets', admin, body('home', dcHome));
    assert.equal(same.statusCode, 201, same.body);
    assert.doesNotMatch(
      same.body,
      new RegExp(target.appendUrl.split(':')[3]!.split('@')[0]!),
      'password masked',
    );
    const other = await post('/v1/admin/backup-targets', admin, body('lyon', dcOther));
    otherTarget = other.json().id;

    const unprotected = await get('/v1/admin/backups/unprotected', support);
    assert.equal(unprotected.statusCode, 200, unprotected.body);
    assert.deepEqual(
      unprotected.json().find((v: { vpsId: string }) => v.vpsId === vpsId),
      { vpsId, hostname: 'web10', datacenterId: dcHome, targetId: null, reason: 'no_repository' },
    );
    const refused = await post(`/v1/admin/vps/${vpsId}/backup-repo`, admin, { targetId: same.json().id });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(refused.json().code, 'backup.same_datacenter');
    assert.match(refused.json().message, /another datacenter/);

    const ok = await post(`/v1/admin/vps/${vpsId}/backup-repo`, admin, { targetId: otherTarget });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { vpsId, targetId: otherTarget, initialized: true });
    const after = (await get('/v1/admin/backups/unprotected', support)).json();
    assert.equal(
      after.some((v: { vpsId: string }) => v.vpsId === vpsId),
      false,
    );
    // The key is sealed in the database, never in clear.
    const repo = await t.database.db
      .selectFrom('backup_repos')
      .selectAll()
      .where('vps_id', '=', vpsId)
      .executeTakeFirstOrThrow();
    assert.match(repo.key_sealed!, /^v1\./);
  });
});

describe('schedule and retention (R3.6)', () => {
  it('16 daily backups on a moved clock leave 15 snapshots; each one’s figures recorded', async () => {
    const queued = await t.services.backups.sweep(t.clock.now());
    assert.ok(queued.queued.includes(vpsId), 'never backed up: due at once');
    for (let day = 0; day < 16; day++) {
      host.disks.set(vpsId, Buffer.concat([host.disks.get(vpsId)!.subarray(0, 60_000), randomBytes(4096)]));
      const b = await t.services.backups.run(vpsId);
      assert.equal(b.state, 'succeeded');
      assert.equal(b.consistency, 'fsfreeze');
      assert.ok(b.sizeBytes! > 60_000 && b.addedBytes! > 0 && b.durationMs! >= 0 && b.freezeMs !== null);
      // Backed up less than 24 h ago: not due again.
      t.clock.advance(60_000);
      assert.equal((await t.services.backups.sweep(t.clock.now())).queued.includes(vpsId), false);
      t.clock.advance(24 * 3600_000 - 60_000);
    }
    const repo = await t.database.db
      .selectFrom('backup_repos')
      .selectAll()
      .where('vps_id', '=', vpsId)
      .executeTakeFirstOrThrow();
    const key = t.services.ctx.secrets.open(repo.key_sealed!);
    const snaps = await resticRepos().snapshots({
      repository: `${target.adminUrl}${repo.path_token}`,
      password: key,
    });
    assert.equal(snaps.length, 15);
    await relogin();
    const list = await get(`/v1/vps/${vpsId}/backups?limit=200`, alice);
    assert.equal(list.statusCode, 200, list.body);
    assert.equal(list.json().items.length, 16);
    assert.equal(list.json().items.filter((b: { available: boolean }) => b.available).length, 15);
    assert.equal(list.json().restoresLeftThisMonth, 2);
    assert.equal((await get(`/v1/vps/${vpsId}/backups`, bob)).statusCode, 404);
  });
});

describe('restores (R3.7)', () => {
  it('2 client requests per Paris month, the third refused with its date, staff’s not counted, next month accepted', async () => {
    t.clock.set(new Date('2026-03-31T12:00:00Z'));
    await relogin();
    const backups = (await get(`/v1/vps/${vpsId}/backups`, alice)).json().items as {
      id: string;
      available: boolean;
    }[];
    const latest = backups.find((b) => b.available)!.id;
    const ask = (s: Session, backupId = latest) => post(`/v1/vps/${vpsId}/restores`, s, { backupId });
    const before = host.disks.get(vpsId)!;
    host.disks.set(vpsId, Buffer.from('changed since'));
    for (let i = 0; i < 2; i++) {
      const r = await ask(alice);
      assert.equal(r.statusCode, 202, r.body);
      assert.equal(r.json().counted, true);
      const done = await t.services.backups.runRestore(r.json().id);
      assert.equal(done.state, 'done', done.error ?? '');
    }
    assert.deepEqual(host.disks.get(vpsId), before, 'the latest snapshot’s disk written back');
    // Told before and after (R3.7), in the client's language.
    const mails = await t.database.db
      .selectFrom('mail_outbox')
      .select(['template'])
      .where('template', 'like', 'vps.restore_%')
      .execute();
    assert.deepEqual(mails.map((m) => m.template).sort(), [
      'vps.restore_done',
      'vps.restore_done',
      'vps.restore_started',
      'vps.restore_started',
    ]);
    const third = await ask(alice);
    assert.equal(third.statusCode, 409, third.body);
    assert.equal(third.json().code, 'restore.monthly_limit');
    assert.match(third.json().message, /2026-04-01/);
    const staff = await ask(support);
    assert.equal(staff.statusCode, 202, staff.body);
    assert.equal(staff.json().counted, false);
    // One restore in flight at a time.
    assert.equal((await ask(support)).json().code, 'restore.in_flight');
    await t.services.backups.runRestore(staff.json().id);
    // 22:30 UTC on 31 March is 00:30 on 1 April in Paris: a new month.
    t.clock.set(new Date('2026-03-31T22:30:00Z'));
    await relogin();
    assert.equal((await get(`/v1/vps/${vpsId}/backups`, alice)).json().restoresLeftThisMonth, 2);
    const next = await ask(alice);
    assert.equal(next.statusCode, 202, next.body);
    await t.services.backups.runRestore(next.json().id);
    // Bad input: another client's VPS, a backup that is not the VPS's.
    assert.equal((await post(`/v1/vps/${vpsId}/restores`, bob, { backupId: latest })).statusCode, 404);
    const other = await makeVps();
    const wrong = await post(`/v1/vps/${other}/restores`, alice, { backupId: latest });
    assert.equal(wrong.statusCode, 404);
    assert.equal(wrong.json().code, 'backup.not_found');
    const restores = await get(`/v1/vps/${vpsId}/restores`, alice);
    assert.equal(restores.json().items.length, 4);
  });
});

describe('termination (R12.4)', () => {
  it('the termination hook deletes the repository and its key; the target holds no file of it', async () => {
    const repo = await t.database.db
      .selectFrom('backup_repos')
      .selectAll()
      .where('vps_id', '=', vpsId)
      .executeTakeFirstOrThrow();
    const repoDir = path.join(target.dir, target.user, repo.path_token);
    assert.ok((await filesUnder(repoDir)).length > 10);
    const hook = terminationHooks().find(([n]) => n === 'backups')![1];
    const ctx = { terminationId: 'x', contractId: 'x', vpsId, accountId: aliceAccount, now: t.clock.now() };
    const r = (await hook(ctx)) as Record<string, unknown>;
    assert.equal(r.repository, 'deleted');
    assert.equal(r.keyDeleted, true);
    assert.deepEqual(await filesUnder(repoDir), [], 'listed on the target: nothing of the VPS');
    const row = await t.database.db
      .selectFrom('backup_repos')
      .selectAll()
      .where('vps_id', '=', vpsId)
      .executeTakeFirstOrThrow();
    assert.equal(row.key_sealed, null);
    assert.ok(row.deleted_at);
    // Run again (a resumed deletion): the same answer, nothing to do.
    assert.equal(((await hook(ctx)) as Record<string, unknown>).repository, 'deleted');
  });
});
