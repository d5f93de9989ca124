import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
before(async () => (t = await freshDatabase()));
after(async () => t?.drop());

it('a fresh test database has the migrated schema and an append-only audit log', async () => {
  const tables = await sql<{
    table_name: string;
  }>`SELECT table_name FROM information_schema.tables WHERE table_schema='public'`.execute(t.db);
  const names = tables.rows.map((r) => r.table_name);
  for (const n of [
    'users',
    'accounts',
    'sessions',
    'audit_log',
    'deadlines',
    'mail_outbox',
    'kysely_migration',
  ])
    assert.ok(names.includes(n), `missing table ${n}`);
  await t.db
    .insertInto('audit_log')
    .values({ at: new Date(), actor: 'test', action: 'x', details: '{}', prev_hash: '0', hash: '1' })
    .execute();
  await assert.rejects(t.db.updateTable('audit_log').set({ action: 'y' }).execute(), /append-only/);
  await assert.rejects(t.db.deleteFrom('audit_log').execute(), /append-only/);
});

it('a migration merged after later ones were applied still runs (modules developed side by side)', async () => {
  const { Migrator } = await import('kysely/migration');
  const { migrations, migrateToLatest } = await import('../../src/control/db/migrate.ts');
  const pg = (await import('pg')).default;
  const { createDb, withDatabaseName } = await import('../../src/control/db/database.ts');
  const name = `t_${process.env.TEST_RUN_ID ?? 'x'}_unordered`;
  const admin = new pg.Client({ connectionString: process.env.TEST_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const { db } = createDb(withDatabaseName(process.env.TEST_ADMIN_URL!, name), { max: 2 });
  try {
    const names = Object.keys(migrations).sort();
    const skipped = names[names.length - 2]!; // one that sorts before the last
    const partial = Object.fromEntries(Object.entries(migrations).filter(([k]) => k !== skipped));
    const r = await new Migrator({
      db: db as never,
      provider: { getMigrations: async () => partial },
    }).migrateToLatest();
    assert.equal(r.error, undefined);
    assert.deepEqual(await migrateToLatest(db as never), [skipped]);
  } finally {
    await db.destroy();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
});

it('a database that applied a renamed migration under its old name does not run it again', async () => {
  const { Migrator } = await import('kysely/migration');
  const { migrations, migrateToLatest, renamedMigrations } = await import('../../src/control/db/migrate.ts');
  const pg = (await import('pg')).default;
  const { createDb, withDatabaseName } = await import('../../src/control/db/database.ts');
  const name = `t_${process.env.TEST_RUN_ID ?? 'x'}_renamed`;
  const admin = new pg.Client({ connectionString: process.env.TEST_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const { db } = createDb(withDatabaseName(process.env.TEST_ADMIN_URL!, name), { max: 2 });
  try {
    const oldNames = Object.keys(renamedMigrations);
    assert.ok(oldNames.length > 0);
    // The list as an older build had it: each renamed migration under its old name.
    const newToOld = new Map(Object.entries(renamedMigrations).map(([from, to]) => [to, from]));
    const old = Object.fromEntries(Object.entries(migrations).map(([k, m]) => [newToOld.get(k) ?? k, m]));
    const r = await new Migrator({
      db: db as never,
      provider: { getMigrations: async () => old },
      allowUnorderedMigrations: true,
    }).migrateToLatest();
    assert.equal(r.error, undefined);
    const applied = async () =>
      (await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db)).rows.map(
        (x) => x.name,
      );
    for (const n of oldNames) assert.ok((await applied()).includes(n), `${n} applied under its old name`);
    // A migration that ran twice would fail (its tables exist) or be listed here.
    assert.deepEqual(await migrateToLatest(db as never), []);
    assert.deepEqual(await applied(), Object.keys(migrations).sort());
    assert.deepEqual(await migrateToLatest(db as never), []);
  } finally {
    await db.destroy();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
});
