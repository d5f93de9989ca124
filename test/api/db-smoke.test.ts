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
