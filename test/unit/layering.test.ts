// The layers of docs/architecture.md are a lint rule (eslint.config.js: eslint-plugin-boundaries
// for imports, no-restricted-syntax for Kysely query building). Planted files show that each
// kind of forbidden import fails, with a message naming the import; the real tree passes; and
// every TEMPORARY exception is still needed (a file made clean must leave the list).
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const root = path.resolve(import.meta.dirname, '..', '..');
const LAYER_RULES = new Set(['boundaries/dependencies', 'no-restricted-syntax']);

interface LayeringConfig {
  TEMPORARY_IMPORTS: Record<string, string[]>;
  TEMPORARY_QUERIES: string[];
  layering(exceptions: { imports: Record<string, string[]>; queries: string[] }): object[];
}
const loadConfig = async (): Promise<LayeringConfig> =>
  (await import(pathToFileURL(path.join(root, 'eslint.config.js')).href)) as LayeringConfig;

/** What the layering rules say of `code` at `filePath` (a file that need not exist). */
async function layerMessages(eslint: ESLint, filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
  return result!.messages.filter((m) => m.ruleId && LAYER_RULES.has(m.ruleId)).map((m) => m.message);
}

describe('layering: the lint refuses an import across the layers, naming it', () => {
  const eslint = new ESLint({ cwd: root });
  const planted: [what: string, filePath: string, code: string, expected: RegExp][] = [
    [
      'a route importing a repository',
      'src/control/routes/zz-planted.ts',
      "import { getVps } from '../repositories/vps.ts';\nexport const x = getVps;\n",
      /routes may not import \.\.\/repositories\/vps\.ts \(repositories\)/,
    ],
    [
      'a route importing another routes file',
      'src/control/routes/zz-planted.ts',
      "import { infraRoutes } from './infra.ts';\nexport const x = infraRoutes;\n",
      /routes may not import \.\/infra\.ts \(routes\)/,
    ],
    [
      'a service importing a job',
      'src/control/services/zz-planted.ts',
      "import { terminationJob } from '../jobs/terminations.ts';\nexport const x = terminationJob;\n",
      /services may not import \.\.\/jobs\/terminations\.ts \(jobs\)/,
    ],
    [
      'a service importing hosts/',
      'src/control/services/zz-planted.ts',
      "import { localAgents } from '../hosts/agents.ts';\nexport const x = localAgents;\n",
      /services may not import \.\.\/hosts\/agents\.ts \(hosts\)/,
    ],
    [
      'mail importing a service (even a type)',
      'src/control/mail/zz-planted.ts',
      "import type { AuditService } from '../services/audit.ts';\nexport type X = AuditService;\n",
      /mail may not import \.\.\/services\/audit\.ts \(services\)/,
    ],
    [
      'the control plane importing the QEMU driver instead of the HostDriver interface',
      'src/control/jobs/zz-planted.ts',
      "import { QemuDriver } from '../../agent/qemu/driver.ts';\nexport const x = QemuDriver;\n",
      /jobs may not import \.\.\/\.\.\/agent\/qemu\/driver\.ts \(agent\)/,
    ],
    [
      'a repository importing a service',
      'src/control/repositories/zz-planted.ts',
      "import { createServices } from '../services/index.ts';\nexport const x = createServices;\n",
      /repositories may not import \.\.\/services\/index\.ts \(services\)/,
    ],
    [
      'the domain importing the control plane',
      'src/domain/zz-planted.ts',
      "import type { Db } from '../control/db/database.ts';\nexport type X = Db;\n",
      /domain may not import \.\.\/control\/db\/database\.ts \(db\)/,
    ],
    [
      'a service building a query',
      'src/control/services/zz-planted.ts',
      "import type { Db } from '../db/database.ts';\nexport const f = (db: Db) => db.selectFrom('vps').selectAll().execute();\n",
      /Kysely \.selectFrom\(\) outside src\/control\/repositories\//,
    ],
    [
      "a job using Kysely's sql tag",
      'src/control/jobs/zz-planted.ts',
      "import { sql } from 'kysely';\nexport const q = sql`select 1`;\n",
      /Kysely's sql tag outside src\/control\/repositories\//,
    ],
  ];
  for (const [what, filePath, code, expected] of planted)
    it(`refuses ${what}`, async () => {
      const messages = await layerMessages(eslint, filePath, code);
      assert.equal(messages.length, 1, `one layering error expected, got ${JSON.stringify(messages)}`);
      assert.match(messages[0]!, expected);
    });

  it('allows what the layers allow: a service on a repository, the HostDriver interface, mail/ and the domain', async () => {
    const code = [
      "import type { HostDriver } from '../../agent/driver.ts';",
      "import { getVps } from '../repositories/vps.ts';",
      "import { mailDate } from '../mail/format.ts';",
      "import { transition } from '../../domain/vps-state.ts';",
      'export type X = HostDriver;',
      'export const y = [getVps, mailDate, transition];',
      '',
    ].join('\n');
    assert.deepEqual(await layerMessages(eslint, 'src/control/services/zz-planted.ts', code), []);
  });
});

describe('layering: the tree as it is', () => {
  it('has no layering error in src/', async () => {
    const eslint = new ESLint({ cwd: root });
    const results = await eslint.lintFiles(['src']);
    const errors = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId && LAYER_RULES.has(m.ruleId))
        .map((m) => `${path.relative(root, r.filePath)}:${m.line} ${m.message}`),
    );
    assert.deepEqual(errors, []);
  });

  it('every TEMPORARY exception is still needed: remove a file from the list once it is clean', async () => {
    const { TEMPORARY_IMPORTS, TEMPORARY_QUERIES, layering } = await loadConfig();
    // The same rules with no exception at all: each listed file must break what it is excused from.
    const strict = new ESLint({
      cwd: root,
      overrideConfigFile: true,
      overrideConfig: [
        { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
        ...layering({ imports: {}, queries: [] }),
      ] as ESLint.Options['overrideConfig'],
    });
    const files = [...new Set([...Object.keys(TEMPORARY_IMPORTS), ...TEMPORARY_QUERIES])];
    const results = await strict.lintFiles(files);
    const stale: string[] = [];
    for (const r of results) {
      const file = path.relative(root, r.filePath);
      for (const type of TEMPORARY_IMPORTS[file] ?? [])
        if (
          !r.messages.some((m) => m.ruleId === 'boundaries/dependencies' && m.message.includes(`(${type})`))
        )
          stale.push(`${file}: no longer imports from ${type}`);
      if (TEMPORARY_QUERIES.includes(file) && !r.messages.some((m) => m.ruleId === 'no-restricted-syntax'))
        stale.push(`${file}: builds no query any more`);
    }
    assert.deepEqual(stale, [], 'clean files still listed as TEMPORARY exceptions in eslint.config.js');
  });
});
