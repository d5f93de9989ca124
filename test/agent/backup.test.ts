// Consistent backup and whole-disk restore of a real VM (R3.6, R3.7): the repository lives in
// another "datacenter" (a namespace of its own, rclone serving restic append-only). A marker
// file, a backup with the guest frozen under 1 s (measured on the guest-agent calls), the
// marker changed, the VM stopped, the disk restored beside the old one and swapped in: the
// restored disk's sha256 is the frozen view's, the VM boots and the old marker is back. Then a
// guest whose agent is gone gives a crash-consistent backup, recorded as such.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { QemuDriver } from '../../src/agent/qemu/driver.ts';
import { resticRepos } from '../../src/agent/backup/restic.ts';
import type { BackupRepoAccess } from '../../src/agent/driver.ts';
import type { DomainError } from '../../src/domain/errors.ts';
import { until } from '../helpers/until.ts';
import { startBackupTarget, type BackupTarget } from '../helpers/backup-target.ts';
import { baseConfig, killQemusUnder, removeDir, spec, tempDataDir } from './qemu-support.ts';

const VM = `bk-${randomBytes(3).toString('hex')}`;
let dataDir: string;
let driver: QemuDriver;
let target: BackupTarget;
let repo: BackupRepoAccess;
let admin: BackupRepoAccess;

before(async () => {
  dataDir = await tempDataDir();
  target = await startBackupTarget();
  const key = randomBytes(24).toString('base64url');
  repo = { repository: `${target.appendUrl}${VM}`, password: key };
  admin = { repository: `${target.adminUrl}${VM}`, password: key };
  driver = await QemuDriver.open(baseConfig(dataDir, { cores: 2, memoryMiB: 2048 }));
});
after(async () => {
  await driver?.close();
  await killQemusUnder(dataDir);
  await target?.cleanup();
  await removeDir(dataDir);
});

const sh = async (cmd: string) => {
  const r = await driver.guestExec(VM, ['/bin/sh', '-c', cmd], { timeoutMs: 60_000 });
  assert.equal(r.exitCode, 0, `${cmd}: ${r.stderr}`);
  return r.stdout.trim();
};

const sha256 = (file: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });

async function bootAndWait(): Promise<void> {
  await driver.start(VM);
  await until('guest ready', async () => (await driver.status(VM)).guestReady, 240_000);
}

test('R3.6, R3.7: frozen under 1 s, restore brings the old marker back and the VM boots', async () => {
  await driver.define(spec(VM, { diskGiB: 1 }));
  await bootAndWait();
  await sh('echo before-backup > /root/marker && sync');
  await resticRepos().init(repo);

  const b = await driver.backup(VM, repo, { tags: ['vps-test'] });
  assert.equal(b.consistency, 'fsfreeze', `crash reason: ${b.crashReason}`);
  assert.ok(b.freezeMs !== null && b.freezeMs < 1_000, `freeze ${b.freezeMs} ms`);
  assert.equal(b.bytesRead, statSync((await driver.status(VM)).diskPath).size);
  assert.match(b.snapshotId, /^[0-9a-f]{64}$/);
  // The overlay was merged back: the guest writes its disk again, and nothing stays frozen.
  await sh('echo after-backup > /root/marker && sync');
  assert.equal(await sh('cat /root/marker'), 'after-backup');
  const snaps = await resticRepos().snapshots(admin);
  assert.deepEqual(
    snaps.map((s) => s.id),
    [b.snapshotId],
  );

  // Restore refused while running; then stopped, restored, checked, swapped.
  await assert.rejects(
    driver.restore(VM, repo, b.snapshotId),
    (e: DomainError) => e.code === 'vm.wrong_state',
  );
  await driver.shutdown(VM);
  const disk = (await driver.status(VM)).diskPath;
  await assert.rejects(
    driver.restore(VM, repo, b.snapshotId, { expectSha256: '0'.repeat(64) }),
    (e: DomainError) => e.code === 'backup.restore_mismatch',
  );
  assert.notEqual(await sha256(disk), b.sha256, 'the mismatch left the changed disk in place');
  assert.equal(existsSync(`${disk}.restore`), false);
  const r = await driver.restore(VM, repo, b.snapshotId, { expectSha256: b.sha256 });
  assert.equal(r.sha256, b.sha256);
  assert.equal(await sha256(disk), b.sha256, 'the restored disk is the frozen view, byte for byte');
  await bootAndWait();
  assert.equal(await sh('cat /root/marker'), 'before-backup');
});

test('R3.6: no guest agent → a crash-consistent backup, recorded with its reason', async () => {
  // The guest agent is suspended inside the guest (init would respawn a killed one) by the
  // command it runs: that exec never answers.
  const stopped = await driver
    .guestExec(VM, ['/bin/sh', '-c', 'kill -STOP $PPID'], { timeoutMs: 3_000 })
    .then(() => 'answered')
    .catch(() => 'silent');
  assert.equal(stopped, 'silent');
  const b = await driver.backup(VM, repo);
  assert.equal(b.consistency, 'crash');
  assert.equal(b.freezeMs, null);
  assert.match(b.crashReason ?? '', /no freeze/);
  assert.equal((await resticRepos().snapshots(admin)).length, 2);
  // The append-only endpoint cannot delete (what a compromised host could do); the full one can.
  await assert.rejects(resticRepos().remove(repo), (e: DomainError) => e.code === 'backup.remove_failed');
  const gone = await resticRepos().remove(admin);
  assert.ok(gone.deleted > 0);
});
