// Secrets the platform must read back (TOTP seeds, VPS root passwords) are stored encrypted
// with AES-256-GCM under the master key (INFOGERE_MASTER_KEY, or a key file generated once).
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class SecretBox {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox: the key must be 32 bytes');
    this.#key = key;
  }
  /** "v1.<iv>.<tag>.<ciphertext>", base64url parts. */
  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return [
      'v1',
      iv.toString('base64url'),
      c.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  }
  open(sealed: string): string {
    const [v, iv, tag, body] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('SecretBox: not a sealed value');
    const d = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
  }
  /**
   * HMAC-SHA256 (hex) of `data` under a key derived from the master key for `purpose` (HKDF), so
   * each use (e.g. tickets' signed reply addresses, R4.3) has its own key and the master key
   * never signs anything directly.
   */
  mac(purpose: string, data: string): string {
    const key = Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), `infogere:${purpose}`, 32));
    return createHmac('sha256', key).update(data).digest('hex');
  }
  // Never print the key.
  toJSON() {
    return '[SecretBox]';
  }
}

export async function loadMasterKey(configured: string | undefined, dataDir: string): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'base64');
  const file = path.join(dataDir, 'secrets', 'master.key');
  try {
    const k = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (k.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return k;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const k = randomBytes(32);
    await writeFile(file, k.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return k;
  }
}
