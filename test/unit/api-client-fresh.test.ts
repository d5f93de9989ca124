// The panel's committed API types (web/src/api/schema.d.ts) must be exactly what the
// generator produces from the current OpenAPI document, so they cannot drift from the API.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

const openapiModule = path.resolve(import.meta.dirname, '..', '..', 'src', 'control', 'openapi.ts');

test(
  'web/src/api/schema.d.ts is generated from the current OpenAPI document',
  { skip: existsSync(openapiModule) ? false : 'src/control/openapi.ts does not exist yet' },
  async () => {
    const { generateSchema, schemaPath } = await import('../../scripts/gen-api-client.ts');
    const expected = await generateSchema();
    const committed = await readFile(schemaPath, 'utf8');
    assert.ok(
      committed === expected,
      'web/src/api/schema.d.ts is stale: run `node scripts/gen-api-client.ts` and commit the result',
    );
  },
);
