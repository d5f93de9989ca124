// Consistent backups and whole-disk restores of a VM (R3.6, R3.7).
//
// Backup of a running VM: the overlay file QEMU got open at start (QEMU_FD.scratch, fd set 3;
// QEMU opens nothing by path, R3.3) is formatted as an empty qcow2 and added as a node; the
// guest's filesystems are frozen through the guest agent; `blockdev-snapshot` puts the overlay
// on top of the disk (new writes go to it, the raw disk file stops changing); thaw at once —
// the freeze lasts the two QMP calls, measured from the freeze sent to the thaw answered. The
// agent then reads the raw disk file (root's, by path) into `restic backup --stdin`, and an
// active `block-commit` merges the overlay back into the disk. No guest agent: the same
// without the freeze, recorded as crash-consistent.
// Crash safety: `backupOverlayActive` is saved before the snapshot; a later backup (QEMU still
// running) finishes the merge first; a start after QEMU died merges the overlay offline
// (`qemu-img commit`) before the overlay file is emptied.
//
// Restore: stopped VM only; `restic dump` writes the snapshot's disk to `<disk>.restore` beside
// the live one, fsynced and its sha256 checked, then renamed over it: until the rename the old
// disk is whole, and a crash leaves only a temp file, removed by the next restore.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, open, rename, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { conflict, invalidData, unexpectedState } from '../../domain/errors.ts';
import type { BackupRepoAccess, BackupResult, RestoreResult } from '../driver.ts';
import { backupStream, dumpDisk } from '../backup/restic.ts';
import { run } from '../exec/run.ts';
import type { VmRecord } from '../state/store.ts';
import type { QemuHost, Vm } from './context.ts';
import { errMsg, newGuestAgent, save, sleep } from './context.ts';
import { q } from './guest.ts';
import type { QmpClient } from './qmp.ts';

const OVERLAY_NODE = 'bk-ovl';
const COMMIT_JOB = 'bk-commit';
/** The guest agent's freeze and thaw: short, so a hung agent cannot hold the guest frozen long. */
const FREEZE_TIMEOUT_MS = 10_000;

export const backupOverlayPath = (rec: VmRecord): string => path.join(rec.paths.dir, 'backup-overlay.qcow2');
const restoreTempPath = (rec: VmRecord): string => `${rec.paths.disk}.restore`;

/** The overlay of a backup interrupted while QEMU ran is merged first: the disk becomes whole again. */
async function settleOverlay(host: QemuHost, vm: Vm, qmp: QmpClient): Promise<void> {
  const nodes = await q(host, vm, qmp.execute<{ 'node-name': string }[]>('query-named-block-nodes'));
  if (!nodes.some((n) => n['node-name'] === OVERLAY_NODE)) return;
  const blocks = await q(host, vm, qmp.execute<{ inserted?: { 'node-name'?: string } }[]>('query-block'));
  if (blocks.some((b) => b.inserted?.['node-name'] === OVERLAY_NODE)) await commitOverlay(host, vm, qmp);
  await q(host, vm, qmp.execute('blockdev-del', { 'node-name': OVERLAY_NODE }));
}

/** Active commit of the overlay into the disk: wait for ready, complete, wait for the end. */
async function commitOverlay(host: QemuHost, vm: Vm, qmp: QmpClient): Promise<void> {
  type Job = { id: string; status: string; error?: string };
  const jobs = () => q(host, vm, qmp.execute<Job[]>('query-jobs'));
  if (!(await jobs()).some((j) => j.id === COMMIT_JOB))
    await q(
      host,
      vm,
      qmp.execute('block-commit', { 'job-id': COMMIT_JOB, device: OVERLAY_NODE, 'auto-dismiss': false }),
    );
  const deadline = Date.now() + 30 * 60_000;
  let completing = false;
  for (;;) {
    const job = (await jobs()).find((j) => j.id === COMMIT_JOB);
    if (!job) return;
    if (job.status === 'ready' && !completing) {
      await q(host, vm, qmp.execute('job-complete', { id: COMMIT_JOB }));
      completing = true;
    } else if (job.status === 'concluded') {
      await q(host, vm, qmp.execute('job-dismiss', { id: COMMIT_JOB }));
      if (job.error)
        throw unexpectedState('backup.commit_failed', `Merging the backup overlay failed: ${job.error}`);
      return;
    }
    if (Date.now() > deadline)
      throw unexpectedState('backup.commit_timeout', 'Merging the backup overlay took over 30 min');
    await sleep(50);
  }
}

/** Before a start: an overlay left by a QEMU that died mid-backup holds the guest's last writes. */
export async function mergeLeftOverlay(host: QemuHost, vm: Vm): Promise<void> {
  const rec = vm.rec;
  if (!rec.backupOverlayActive) return;
  const ovl = backupOverlayPath(rec);
  if (existsSync(ovl) && (await stat(ovl)).size > 0) {
    await run(['qemu-img', 'rebase', '-u', '-f', 'qcow2', '-F', 'raw', '-b', rec.paths.disk, ovl]);
    await run(['qemu-img', 'commit', '-q', '-f', 'qcow2', ovl], { timeoutMs: 60 * 60_000 });
  }
  rec.backupOverlayActive = false;
  await save(host, vm);
}

/** The VM's disk, streamed from `file` into the repository; sizes and the sha256 of what was read. */
function streamDisk(host: QemuHost, vm: Vm, repo: BackupRepoAccess, tags: string[] | undefined) {
  return backupStream(repo, createReadStream(vm.rec.paths.disk, { highWaterMark: 4 * 1024 * 1024 }), {
    host: `vm-${vm.rec.spec.id}`,
    ...(tags ? { tags } : {}),
  });
}

export async function backup(
  host: QemuHost,
  vm: Vm,
  repo: BackupRepoAccess,
  opts: { tags?: string[] } = {},
): Promise<BackupResult> {
  const t0 = Date.now();
  const rec = vm.rec;
  const id = rec.spec.id;
  if (rec.state === 'stopped' || rec.state === 'failed') {
    // Nothing writes the disk: read as it is (a stopped disk is consistent).
    await mergeLeftOverlay(host, vm);
    const s = await streamDisk(host, vm, repo, opts.tags);
    return {
      id,
      ...s,
      consistency: 'stopped',
      crashReason: null,
      freezeMs: null,
      durationMs: Date.now() - t0,
    };
  }
  if (rec.state !== 'running')
    throw conflict('vm.wrong_state', `VM ${id} is ${rec.state}; a backup needs it running or stopped`, {
      id,
    });
  const qmp = vm.qmp;
  if (!qmp) throw unexpectedState('vm.no_qmp', `No QMP connection to VM ${id}`);
  if (!rec.argv?.some((a) => a.startsWith(`fd=9,set=3,`)))
    throw conflict(
      'backup.no_overlay',
      `VM ${id} was started before backups were possible: restart it first`,
      { id },
    );
  await settleOverlay(host, vm, qmp);

  const ovl = backupOverlayPath(rec);
  const size = (await stat(rec.paths.disk)).size;
  await run(['qemu-img', 'create', '-q', '-f', 'qcow2', ovl, String(size)]);
  await q(
    host,
    vm,
    qmp.execute('blockdev-add', {
      driver: 'qcow2',
      'node-name': OVERLAY_NODE,
      file: { driver: 'file', filename: '/dev/fdset/3' },
      backing: null,
    }),
  );
  rec.backupOverlayActive = true;
  await save(host, vm);

  // Freeze → point-in-time view → thaw, timed on the agent calls.
  let consistency: BackupResult['consistency'] = 'crash';
  let crashReason: string | null = null;
  let freezeMs: number | null = null;
  if (!vm.ga) vm.ga = newGuestAgent(host, vm);
  const ga = vm.ga;
  let frozen = false;
  const tf = Date.now();
  try {
    if (!vm.gaUp && !(await ga.ping(1_500))) throw new Error('the guest agent does not answer');
    await ga.execute('guest-fsfreeze-freeze', undefined, { timeoutMs: FREEZE_TIMEOUT_MS });
    frozen = true;
  } catch (e) {
    crashReason = `no freeze: ${errMsg(e)}`;
  }
  try {
    await q(host, vm, qmp.execute('blockdev-snapshot', { node: 'vda', overlay: OVERLAY_NODE }));
  } finally {
    if (frozen) {
      try {
        await ga.execute('guest-fsfreeze-thaw', undefined, { timeoutMs: FREEZE_TIMEOUT_MS });
        freezeMs = Date.now() - tf;
        consistency = 'fsfreeze';
      } catch (e) {
        // The guest stays frozen only if the agent is gone; QEMU and the backup go on.
        crashReason = `thaw failed: ${errMsg(e)}`;
      }
    } else {
      // A freeze that failed (timed out) may still have happened in the guest: thaw, best effort.
      await ga.execute('guest-fsfreeze-thaw', undefined, { timeoutMs: 2_000 }).catch(() => undefined);
    }
  }
  try {
    const s = await streamDisk(host, vm, repo, opts.tags);
    return { id, ...s, consistency, crashReason, freezeMs, durationMs: Date.now() - t0 };
  } finally {
    await commitOverlay(host, vm, qmp);
    await q(host, vm, qmp.execute('blockdev-del', { 'node-name': OVERLAY_NODE }));
    await truncate(ovl, 0);
    rec.backupOverlayActive = false;
    await save(host, vm);
  }
}

export async function restore(
  host: QemuHost,
  vm: Vm,
  repo: BackupRepoAccess,
  snapshotId: string,
  opts: { expectSha256?: string } = {},
): Promise<RestoreResult> {
  const t0 = Date.now();
  const rec = vm.rec;
  const id = rec.spec.id;
  if (rec.state !== 'stopped' && rec.state !== 'failed')
    throw conflict('vm.wrong_state', `VM ${id} is ${rec.state}; a restore needs it stopped`, { id });
  if (opts.expectSha256 !== undefined && !/^[0-9a-f]{64}$/.test(opts.expectSha256))
    throw invalidData('backup.sha256_invalid', 'expectSha256 is 64 hex digits');
  const tmp = restoreTempPath(rec);
  await rm(tmp, { force: true });
  const size = (await stat(rec.paths.disk)).size;
  const hash = createHash('sha256');
  let bytes = 0;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    const file = createWriteStream('', { fd: fh.fd, autoClose: false, highWaterMark: 4 * 1024 * 1024 });
    const sink = new Writable({
      highWaterMark: 4 * 1024 * 1024,
      write(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        if (file.write(chunk)) cb();
        else file.once('drain', () => cb());
      },
    });
    await dumpDisk(repo, snapshotId, sink);
    await new Promise<void>((resolve, reject) => {
      sink.end(() => file.end(() => resolve()));
      file.once('error', reject);
    });
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  const sha256 = hash.digest('hex');
  const bad =
    bytes !== size
      ? `${bytes} bytes where the disk has ${size}`
      : opts.expectSha256 !== undefined && sha256 !== opts.expectSha256
        ? `sha256 ${sha256} where the backup recorded ${opts.expectSha256}`
        : null;
  if (bad) {
    await rm(tmp, { force: true });
    throw unexpectedState(
      'backup.restore_mismatch',
      `The restored disk of ${id} does not match: ${bad}; the old disk is kept`,
    );
  }
  await chmod(tmp, 0o600);
  // The overlay of an older backup must not be merged into the restored disk.
  rec.backupOverlayActive = false;
  await truncate(backupOverlayPath(rec), 0).catch(() => undefined);
  await save(host, vm);
  await rename(tmp, rec.paths.disk); // the swap: atomic; the old disk was whole until here
  return { id, bytes, sha256, durationMs: Date.now() - t0 };
}
