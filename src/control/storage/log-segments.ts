// The log store's files (R6.2): one segment per VPS and UTC day under
// `<dataDir>/logstore/<vpsId>/<YYYY-MM-DD>.zst`, append-only: each batch of lines is one zstd
// frame appended to the day's file (concatenated frames decode as one stream). A segment is
// removed whole, never edited. Mode 0600 in 0700 directories.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { createZstdDecompress, zstdCompress } from 'node:zlib';
import type { Readable } from 'node:stream';

const compress = promisify(zstdCompress);
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const UUID_RE = /^[0-9a-f-]{36}$/;

export interface SegmentStore {
  readonly root: string;
  pathOf(vpsId: string, day: string): string;
  /** Compresses `lines` as one frame and appends it; returns the bytes written. */
  append(vpsId: string, day: string, lines: Uint8Array): Promise<number>;
  /** sha256 of the segment's file as stored (compressed), or null when it does not exist. */
  sha256(vpsId: string, day: string): Promise<string | null>;
  size(vpsId: string, day: string): Promise<number | null>;
  /** The compressed file, as stored (requisition exports). */
  readRaw(vpsId: string, day: string): Readable;
  /** The day's lines, decompressed as they stream. */
  readLines(vpsId: string, day: string): Readable;
  remove(vpsId: string, day: string): Promise<void>;
}

export function createSegmentStore(dataDir: string): SegmentStore {
  const root = path.join(dataDir, 'logstore');
  const pathOf = (vpsId: string, day: string) => {
    // Both come from rows and the clock, but a path is built from them: refuse anything odd.
    if (!UUID_RE.test(vpsId) || !DAY_RE.test(day)) throw new Error(`bad segment name ${vpsId}/${day}`);
    return path.join(root, vpsId, `${day}.zst`);
  };
  return {
    root,
    pathOf,
    async append(vpsId, day, lines) {
      const file = pathOf(vpsId, day);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const frame = await compress(lines);
      await appendFile(file, frame, { mode: 0o600 });
      return frame.length;
    },
    async sha256(vpsId, day) {
      const file = pathOf(vpsId, day);
      const h = createHash('sha256');
      try {
        for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return null;
        throw e;
      }
      return h.digest('hex');
    },
    async size(vpsId, day) {
      return stat(pathOf(vpsId, day)).then(
        (s) => s.size,
        () => null,
      );
    },
    readRaw(vpsId, day) {
      return createReadStream(pathOf(vpsId, day));
    },
    readLines(vpsId, day) {
      return createReadStream(pathOf(vpsId, day)).pipe(createZstdDecompress());
    },
    async remove(vpsId, day) {
      await rm(pathOf(vpsId, day), { force: true });
    },
  };
}
