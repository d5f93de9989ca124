// The uploads store: the one place that writes and reads back files sent to the platform
// (identity documents R6.1, sanctions' evidence R12.5, authority notices' scans R12.6). Files live
// under `<dataDir>/uploads/<area>/<accountId>/<id>`, mode 0600 in 0700 directories.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError, invalidData } from '../../domain/errors.ts';
import {
  detectDocumentType,
  DOCUMENT_MAGIC_BYTES,
  safeFileName,
  type DocumentType,
} from '../../domain/identity.ts';

/** Where an upload belongs; one directory each. */
export type UploadArea = 'identity' | 'sanctions' | 'authority-notices' | 'tickets';

/** A file as the multipart parser hands it over. */
export interface IncomingFile {
  readonly stream: Readable;
  readonly fileName: string | undefined;
}

/** The error codes a refused file gets (each area keeps the codes its API documents). */
export interface UploadErrorCodes {
  readonly tooLarge: string;
  readonly empty: string;
  readonly type: string;
}

export const GENERIC_UPLOAD_ERRORS: UploadErrorCodes = Object.freeze({
  tooLarge: 'upload.too_large',
  empty: 'upload.empty',
  type: 'upload.type',
});

export interface StoredUpload {
  /** The file's own id (its name on disk); callers may reuse it as their row's id. */
  readonly id: string;
  /** Absolute path of the stored file. */
  readonly path: string;
  /** The same path relative to the data directory (what rows store). */
  readonly relativePath: string;
  /** The client's name, cleaned to be shown and put in a header. */
  readonly fileName: string;
  readonly type: DocumentType;
  readonly size: number;
  readonly sha256: string;
}

export interface UploadsStore {
  /**
   * Streams a file to its place: size capped while it streams, type by magic bytes (PDF, JPEG,
   * PNG), not the declared one. A refused file leaves nothing on disk.
   */
  store(
    area: UploadArea,
    accountId: string,
    file: IncomingFile,
    limits: { maxBytes: number; errors?: UploadErrorCodes },
  ): Promise<StoredUpload>;
  /** The absolute path of a stored file from what a row holds (relative or absolute). */
  pathOf(stored: string): string;
  /** Removes a stored file (a row that could not be written after all); missing is fine. */
  remove(stored: string): Promise<void>;
}

export function createUploadsStore(dataDir: string): UploadsStore {
  const root = path.join(dataDir, 'uploads');
  const pathOf = (stored: string) => (path.isAbsolute(stored) ? stored : path.join(dataDir, stored));
  return {
    async store(area, accountId, file, { maxBytes, errors = GENERIC_UPLOAD_ERRORS }) {
      const dir = path.join(root, area, accountId);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const id = randomUUID();
      const final = path.join(dir, id);
      const partial = `${final}.part`;
      const hash = createHash('sha256');
      let size = 0;
      let head = new Uint8Array(0);
      const tooLarge = () =>
        new DomainError(
          'invalid_data',
          errors.tooLarge,
          `A file may not exceed ${maxBytes / 1024 / 1024} MiB`,
        );
      const meter = new Transform({
        transform(chunk: Uint8Array, _enc, done) {
          size += chunk.length;
          if (size > maxBytes) {
            done(tooLarge());
            return;
          }
          if (head.length < DOCUMENT_MAGIC_BYTES)
            head = new Uint8Array([...head, ...chunk.subarray(0, DOCUMENT_MAGIC_BYTES - head.length)]);
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        try {
          await pipeline(file.stream, meter, createWriteStream(partial, { mode: 0o600, flags: 'wx' }));
        } catch (e) {
          file.stream.resume();
          if ((e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge();
          throw e;
        }
        if ((file.stream as Readable & { truncated?: boolean }).truncated) throw tooLarge();
        if (size === 0) throw invalidData(errors.empty, 'The file is empty', { field: 'file' });
        const type = detectDocumentType(head);
        if (!type)
          throw invalidData(errors.type, 'Only PDF, JPEG and PNG files are accepted', { field: 'file' });
        await rename(partial, final);
        return {
          id,
          path: final,
          relativePath: path.relative(dataDir, final),
          fileName: safeFileName(file.fileName, type),
          type,
          size,
          sha256: hash.digest('hex'),
        };
      } finally {
        await unlink(partial).catch(() => {});
      }
    },
    pathOf,
    async remove(stored) {
      await unlink(pathOf(stored)).catch(() => {});
    },
  };
}
