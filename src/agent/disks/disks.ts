// VPS disks: one raw file per VPS, of its plan's size, fully allocated at creation (R2.1:
// dedicated space, never overcommitted), wiped before removal (R12.4).
import { constants as fsc } from 'node:fs';
import { copyFile, open, stat, statfs, unlink } from 'node:fs/promises';
import { run } from '../exec/run.ts';

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

/** Bytes the file really holds on disk (allocated blocks, unwritten extents included). */
export async function allocatedBytes(file: string): Promise<number> {
  const s = await stat(file, { bigint: true });
  return Number(s.blocks * 512n);
}

/** Bytes the filesystem holding `dir` can still give to us. */
export async function filesystemFreeBytes(dir: string): Promise<number> {
  const s = await statfs(dir, { bigint: true });
  return Number(s.bavail * s.bsize);
}

/**
 * R2.1: reserves every byte of `sizeBytes` for `file` (fallocate; extends the file if shorter).
 * Checks the result: allocated blocks must cover the size, else the reservation failed.
 */
export async function reserve(file: string, sizeBytes: number): Promise<void> {
  await run(['fallocate', '--length', String(sizeBytes), file], { timeoutMs: 120_000 });
  const got = await allocatedBytes(file);
  if (got < sizeBytes)
    throw new Error(`R2.1: ${file} holds ${got} allocated bytes, less than its size ${sizeBytes}`);
}

/**
 * A new VPS disk: the image's root filesystem copied (holes kept: only its data is written),
 * then reserved to the plan's full size. The guest grows its filesystem to the disk at boot.
 */
export async function createDiskFromImage(rootfs: string, file: string, sizeBytes: number): Promise<void> {
  const src = await stat(rootfs);
  if (src.size > sizeBytes)
    throw new Error(`image root filesystem (${src.size} bytes) is larger than the disk (${sizeBytes})`);
  try {
    // cp skips the image's holes (SEEK_DATA) and clones when the filesystem can.
    await run(['cp', '--sparse=always', '--reflink=auto', '--', rootfs, file], { timeoutMs: 300_000 });
  } catch {
    await copyFile(rootfs, file, fsc.COPYFILE_EXCL);
  }
  await reserve(file, sizeBytes);
}

/** Grows a disk file and its reservation (R2.1); never shrinks. */
export async function growDisk(file: string, sizeBytes: number): Promise<void> {
  const s = await stat(file);
  if (sizeBytes < s.size) throw new Error(`refusing to shrink ${file} from ${s.size} to ${sizeBytes}`);
  await reserve(file, sizeBytes);
}

export type WipeMode = 'overwrite' | 'discard';

/**
 * R12.4: makes a disk's content unreadable before the file goes away.
 * - overwrite: zeros over every byte, flushed to the device.
 * - discard: zeros over the metadata areas (first and last 64 MiB: superblock, group
 *   descriptors, inode tables, journal of a fresh ext4), flushed, then every block released
 *   with FALLOC_FL_PUNCH_HOLE (the device is told to discard them when it supports it).
 * Then the file is removed (unless keepFile, for tests).
 */
export async function wipeFile(
  file: string,
  mode: WipeMode,
  opts: { keepFile?: boolean } = {},
): Promise<void> {
  const size = (await stat(file)).size;
  const fh = await open(file, 'r+');
  try {
    const chunk = Buffer.alloc(4 * MiB);
    const zero = async (from: number, to: number) => {
      for (let pos = from; pos < to; pos += chunk.length) {
        const n = Math.min(chunk.length, to - pos);
        await fh.write(chunk, 0, n, pos);
      }
    };
    if (mode === 'overwrite') {
      await zero(0, size);
    } else {
      const meta = 64 * MiB;
      await zero(0, Math.min(size, meta));
      if (size > meta) await zero(Math.max(meta, size - meta), size);
    }
    await fh.datasync();
  } finally {
    await fh.close();
  }
  if (mode === 'discard' && size > 0) {
    await run(['fallocate', '--punch-hole', '--offset', '0', '--length', String(size), file], {
      timeoutMs: 120_000,
    });
  }
  if (!opts.keepFile) await unlink(file);
}
