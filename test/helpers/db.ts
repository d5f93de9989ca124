// A fresh database per test file, cloned from the migrated template that scripts/run-tests.ts
// prepares (CREATE DATABASE … TEMPLATE is a file copy: milliseconds).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, withDatabaseName, type Db } from '../../src/control/db/database.ts';

export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.TEST_ADMIN_URL;
  if (!url)
    throw new Error(
      'TEST_ADMIN_URL is unset: run the tests with `make test` or `node scripts/run-tests.ts FILE`',
    );
  return url;
}

export async function freshDatabase(): Promise<TestDatabase> {
  const admin = adminUrl();
  const template = process.env.TEST_TEMPLATE_DB;
  if (!template)
    throw new Error(
      'TEST_TEMPLATE_DB is unset: run the tests with `make test` or `node scripts/run-tests.ts FILE`',
    );
  const name = `t_${process.env.TEST_RUN_ID ?? 'x'}_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await c.end();
  }
  const url = withDatabaseName(admin, name);
  const { db } = createDb(url, { max: 5 });
  return {
    url,
    db,
    async drop() {
      await db.destroy();
      const c2 = new pg.Client({ connectionString: admin });
      await c2.connect();
      try {
        await c2.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c2.end();
      }
    },
  };
}
