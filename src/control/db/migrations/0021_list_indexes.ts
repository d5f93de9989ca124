import { sql, type Kysely } from 'kysely';

// The indexes the paged lists' orders need (repositories/pagination.ts, R2.1), found with
// EXPLAIN ANALYZE on the bench data set (bench/seed-api.ts, plus a year of logs and mail): each
// keyset order is read from an index in order and stops after one page, instead of sorting the
// whole table for 51 rows (staff VPSs 22 ms, staff orders 119 ms, the outbox 157 ms before).
// Lists filtered by account or VPS get the filter column first. The append-only logs (audit,
// notices, flagged traffic) page by their primary key, already an index.
const indexes: [name: string, definition: string][] = [
  // /v1/admin/vps (newest first; destroyed VPSs are filtered out, a few rows to skip).
  ['vps_created', 'vps (created_at, id)'],
  ['vps_account_created', 'vps (account_id, created_at, id)'],
  // /v1/orders for staff, and a client's.
  ['orders_created', 'orders (created_at, id)'],
  ['orders_account_created', 'orders (account_id, created_at, id)'],
  // /v1/invoices for a client (year, number).
  ['invoices_account_number', 'invoices (account_id, year, seq)'],
  // /v1/admin/accounts (oldest first) and /v1/admin/clients's accounts without an open request.
  ['accounts_created', 'accounts (created_at, id)'],
  // /v1/admin/clients: the open proof requests, by account and deadline (a few rows).
  ['identity_requests_open', "identity_requests (account_id, due_at) WHERE state = 'open'"],
  // /v1/admin/alerts, all or the open ones.
  ['staff_alerts_at', 'staff_alerts (at, id)'],
  ['staff_alerts_open_at', 'staff_alerts (at, id) WHERE acknowledged_at IS NULL'],
  // /v1/admin/outbox, all, by account, by status.
  ['mail_outbox_created', 'mail_outbox (created_at, id)'],
  ['mail_outbox_account_created', 'mail_outbox (account_id, created_at, id)'],
  ['mail_outbox_status_created_id', 'mail_outbox (status, created_at, id)'],
  // /v1/notices (a client's) and /v1/admin/notices?accountId=.
  ['mail_notices_account_id', 'mail_notices (account_id, id)'],
  // /v1/admin/authority-notices.
  ['authority_notices_recorded', 'authority_notices (recorded_at, id)'],
  // /v1/vps/:id/events and /v1/admin/traffic/flagged?vpsId=.
  ['vps_events_vps_id', 'vps_events (vps_id, id)'],
  ['traffic_flagged_vps_id', 'traffic_flagged (vps_id, id)'],
];

// Replaced by the ones above (same leading columns, the keyset's columns after).
const replaced = ['mail_outbox_status_created'];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, definition] of indexes)
    await sql`CREATE INDEX IF NOT EXISTS ${sql.raw(name)} ON ${sql.raw(definition)}`.execute(db);
  for (const name of replaced) await sql`DROP INDEX IF EXISTS ${sql.raw(name)}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS mail_outbox_status_created ON mail_outbox (status, created_at DESC)`.execute(
    db,
  );
  for (const [name] of indexes) await sql`DROP INDEX IF EXISTS ${sql.raw(name)}`.execute(db);
}
