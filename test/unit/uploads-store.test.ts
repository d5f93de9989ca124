// The uploads store (R6.1 identity documents, R12.5 sanctions' evidence, R12.6 notices' scans) on a
// real temporary directory: where a file lands, what it records, and that a refused file leaves
// nothing behind.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../../src/domain/errors.ts';
import { createUploadsStore } from '../../src/control/storage/uploads.ts';

const PDF = Buffer.from('%PDF-1.4\n%stub\n');
const file = (bytes: Uint8Array, fileName?: string) => ({ stream: Readable.from([bytes]), fileName });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DomainError, String(e));
    return e.code;
  }
  return assert.fail('no error');
}

describe('uploads store (R6.1, R12.5, R12.6)', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'uploads-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stores a PDF under uploads/<area>/<account>/<id>, mode 0600, with its hash, and reads it back', async () => {
    const store = createUploadsStore(dataDir);
    const s = await store.store('sanctions', 'acct-1', file(PDF, '../../etc/évidence.pdf'), {
      maxBytes: 1024,
    });
    assert.equal(s.relativePath, path.join('uploads', 'sanctions', 'acct-1', s.id));
    assert.equal(s.type, 'application/pdf');
    assert.equal(s.size, PDF.length);
    assert.equal(s.fileName, 'évidence.pdf');
    assert.match(s.sha256, /^[0-9a-f]{64}$/);
    assert.equal(store.pathOf(s.relativePath), s.path);
    assert.equal(store.pathOf(s.path), s.path, 'an absolute path (older rows) is kept');
    assert.deepEqual(await readFile(s.path), PDF);
    assert.equal((await stat(s.path)).mode & 0o777, 0o600);
    await store.remove(s.relativePath);
    await assert.rejects(stat(s.path));
  });

  it('refuses too large, empty and non-document files with the area codes, leaving nothing on disk', async () => {
    const store = createUploadsStore(dataDir);
    const dir = path.join(dataDir, 'uploads', 'identity', 'acct-2');
    const errors = { tooLarge: 'x.large', empty: 'x.empty', type: 'x.type' };
    assert.equal(
      await codeOf(
        store.store('identity', 'acct-2', file(Buffer.alloc(2048, 0x25)), { maxBytes: 1024, errors }),
      ),
      'x.large',
    );
    assert.equal(
      await codeOf(store.store('identity', 'acct-2', file(new Uint8Array(0)), { maxBytes: 1024, errors })),
      'x.empty',
    );
    assert.equal(
      await codeOf(
        store.store('identity', 'acct-2', file(Buffer.from('<html>')), { maxBytes: 1024, errors }),
      ),
      'x.type',
    );
    assert.equal(
      await codeOf(store.store('identity', 'acct-2', file(Buffer.from('<html>')), { maxBytes: 1024 })),
      'upload.type',
      'generic codes by default',
    );
    assert.deepEqual(await readdir(dir), []);
  });
});
