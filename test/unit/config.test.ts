import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/control/config.ts';

describe('configuration', () => {
  it('has defaults for one machine: var/, 127.0.0.1:8080, embedded database', () => {
    const c = loadConfig({}, '/srv/infogere');
    assert.equal(c.dataDir, '/srv/infogere/var');
    assert.equal(c.httpHost, '127.0.0.1');
    assert.equal(c.httpPort, 8080);
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.publicUrl, 'http://127.0.0.1:8080');
    assert.ok(Object.isFrozen(c));
  });
  it('reads INFOGERE_* and DATABASE_URL with types', () => {
    const c = loadConfig(
      {
        INFOGERE_HTTP_PORT: '9000',
        INFOGERE_HTTP_HOST: '0.0.0.0',
        DATABASE_URL: 'postgres://u:p@db/x',
        INFOGERE_RAM_OVERCOMMIT: '1.25',
      },
      '/x',
    );
    assert.equal(c.httpPort, 9000);
    assert.equal(c.databaseUrl, 'postgres://u:p@db/x');
    assert.equal(c.ramOvercommit, 1.25);
    assert.equal(c.publicUrl, 'http://127.0.0.1:9000');
  });
  const refused: [Record<string, string>, string][] = [
    [{ INFOGERE_HTTP_PORT: 'eighty' }, 'INFOGERE_HTTP_PORT'],
    [{ INFOGERE_HTTP_PORT: '70000' }, 'INFOGERE_HTTP_PORT'],
    [{ INFOGERE_HTTP_PORT: '80.5' }, 'INFOGERE_HTTP_PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ INFOGERE_LOG_LEVEL: 'loud' }, 'INFOGERE_LOG_LEVEL'],
    [{ INFOGERE_MASTER_KEY: 'dG9vIHNob3J0' }, 'INFOGERE_MASTER_KEY'],
    [{ INFOGERE_HTTP_PROT: '80' }, 'INFOGERE_HTTP_PROT'],
    // Test-only variables are not settings: no INFOGERE_ name is let through unknown.
    [{ INFOGERE_TEST_ANYTHING: '1' }, 'INFOGERE_TEST_ANYTHING'],
  ];
  for (const [env, name] of refused)
    it(`refuses ${JSON.stringify(env)} naming ${name}`, () => {
      assert.throws(
        () => loadConfig(env, '/x'),
        (e: unknown) => e instanceof ConfigError && e.setting === name && e.message.startsWith(`${name}:`),
      );
    });
  it('reads an optional JSON file, overridden by the environment', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    writeFileSync(
      path.join(dir, 'infogere.json'),
      JSON.stringify({ INFOGERE_HTTP_PORT: 8181, INFOGERE_LOG_LEVEL: 'warn' }),
    );
    const c = loadConfig({ INFOGERE_CONFIG_FILE: 'infogere.json', INFOGERE_LOG_LEVEL: 'debug' }, dir);
    assert.equal(c.httpPort, 8181);
    assert.equal(c.logLevel, 'debug');
    assert.throws(() => loadConfig({ INFOGERE_CONFIG_FILE: 'missing.json' }, dir), /INFOGERE_CONFIG_FILE/);
  });
});

describe('docs/configuration.md', () => {
  it('lists every setting as the code defines it (regenerate: node src/cli/main.ts config --markdown > docs/configuration.md)', async () => {
    const { readFile } = await import('node:fs/promises');
    const { settingsMarkdown } = await import('../../src/control/config.ts');
    assert.equal(
      await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8'),
      settingsMarkdown(),
    );
  });
});
