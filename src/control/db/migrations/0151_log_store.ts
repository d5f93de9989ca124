import { sql, type Kysely } from 'kysely';

// The log store (R6.2): per VPS, whether the client enabled it and its quota; per VPS and UTC
// day, one segment row (counters, then at sealing the file's sha256 chained to the previous
// segment's). The lines themselves are files (storage/log-segments.ts), never rows. A segment
// deleted after its 12 months keeps its row (hashes and counts only, no log content) with
// `deleted_at`, so the chain stays verifiable.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('log_stores')
    .addColumn('vps_id', 'uuid', (c) => c.primaryKey().references('vps.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('enabled', 'boolean', (c) => c.notNull())
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('quota_bytes', 'bigint', (c) => c.notNull())
    .addColumn('used_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('warned_at', 'timestamptz')
    .addColumn('full_at', 'timestamptz')
    .execute();
  await db.schema
    .createTable('log_segments')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('vps_id', 'uuid', (c) => c.notNull())
    .addColumn('account_id', 'uuid', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('lines', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('raw_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('stored_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('dropped', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('sha256', 'text')
    .addColumn('prev_hash', 'text')
    .addColumn('chain_hash', 'text')
    .addColumn('sealed_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .addUniqueConstraint('log_segments_vps_day', ['vps_id', 'day'])
    .execute();
  await db.schema
    .createIndex('log_segments_unsealed')
    .on('log_segments')
    .column('day')
    .where(sql.ref('sealed_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('log_segments_account')
    .on('log_segments')
    .columns(['account_id', 'day'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('log_segments').execute();
  await db.schema.dropTable('log_stores').execute();
}
