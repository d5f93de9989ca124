// R4.3: the platform starts the inbound SMTP listener of the support desk when
// INFOGERE_SUPPORT_SMTP_PORT is set (on loopback by default), and stops it cleanly with itself.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { startPlatform } from '../../src/control/platform.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase | undefined;
let dataDir = '';
after(async () => {
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A port free on loopback now. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The first line the server at `port` sends, or the connection error's code. */
function greeting(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('data', (d) => {
      resolve(d.toString('utf8').split('\r\n')[0]!);
      c.destroy();
    });
    c.once('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message));
  });
}

describe('R4.3 the platform runs the support SMTP listener', () => {
  it('R4.3 listens on the configured loopback port while the platform runs, and not after', async () => {
    db = await freshDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'infogere-support-smtp-'));
    const port = await freePort();
    const platform = await startPlatform({
      listen: false,
      env: {
        INFOGERE_DATA_DIR: dataDir,
        DATABASE_URL: db.url,
        INFOGERE_SUPPORT_SMTP_PORT: String(port),
        INFOGERE_SUPPORT_MAIL_DOMAIN: 'support.example.test',
        INFOGERE_LOG_LEVEL: 'silent',
      },
    });
    try {
      assert.match(await greeting(port), /^220 support\.example\.test /);
    } finally {
      await platform.stop();
    }
    assert.equal(await greeting(port), 'ECONNREFUSED');
  });
});
