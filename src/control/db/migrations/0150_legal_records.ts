import { sql, type Kysely } from 'kysely';

// The provider's own legal records (R12.4, R12.6; domain/retention.ts):
// - connection_records: each panel login, and each TCP connection a session or an API token is
//   used on, with its source address and port
//   (décret 2021-1362: technical data identifying a connection's source, kept 1 year);
// - ip_assignments: which VPS (and so which account) held an IPv4 and when, written by a
//   trigger on vps so no path that sets or clears an address can forget it (requisitions by
//   address and period need it after the VPS is gone).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('connection_records')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('account_id', 'uuid', (c) => c.references('accounts.id').onDelete('set null'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('login', 'session', 'api_token')`))
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('port', 'integer')
    .execute();
  await db.schema.createIndex('connection_records_at').on('connection_records').column('at').execute();
  await db.schema
    .createIndex('connection_records_account')
    .on('connection_records')
    .columns(['account_id', 'at'])
    .execute();

  await db.schema
    .createTable('ip_assignments')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('vps_id', 'uuid', (c) => c.notNull())
    .addColumn('account_id', 'uuid', (c) => c.notNull())
    .addColumn('from_at', 'timestamptz', (c) => c.notNull())
    .addColumn('until_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('ip_assignments_address')
    .on('ip_assignments')
    .columns(['address', 'from_at'])
    .execute();
  await db.schema.createIndex('ip_assignments_account').on('ip_assignments').column('account_id').execute();
  await sql`CREATE UNIQUE INDEX ip_assignments_open ON ip_assignments (vps_id) WHERE until_at IS NULL`.execute(
    db,
  );
  // The address is vps.ipv4 (inet) without its prefix length; a destroyed VPS no longer holds one. Times
  // come from the row (state_changed_at, written with the platform's injected clock), not now().
  await sql`
    CREATE FUNCTION ip_assignments_track() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      addr text := CASE WHEN NEW.ipv4 IS NULL OR NEW.state = 'destroyed' THEN NULL
                        ELSE host(NEW.ipv4) END;
      open_addr text;
      at timestamptz := GREATEST(NEW.state_changed_at, NEW.created_at);
    BEGIN
      SELECT address INTO open_addr FROM ip_assignments WHERE vps_id = NEW.id AND until_at IS NULL;
      IF open_addr IS NOT DISTINCT FROM addr THEN RETURN NEW; END IF;
      IF open_addr IS NOT NULL THEN
        UPDATE ip_assignments SET until_at = at WHERE vps_id = NEW.id AND until_at IS NULL;
      END IF;
      IF addr IS NOT NULL THEN
        INSERT INTO ip_assignments (address, vps_id, account_id, from_at) VALUES (addr, NEW.id, NEW.account_id, at);
      END IF;
      RETURN NEW;
    END $$`.execute(db);
  await sql`CREATE TRIGGER vps_ip_assignments AFTER INSERT OR UPDATE OF ipv4, state ON vps
            FOR EACH ROW EXECUTE FUNCTION ip_assignments_track()`.execute(db);
  await sql`INSERT INTO ip_assignments (address, vps_id, account_id, from_at)
            SELECT host(ipv4), id, account_id, created_at FROM vps
            WHERE ipv4 IS NOT NULL AND state <> 'destroyed'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS vps_ip_assignments ON vps`.execute(db);
  await sql`DROP FUNCTION IF EXISTS ip_assignments_track()`.execute(db);
  await db.schema.dropTable('ip_assignments').execute();
  await db.schema.dropTable('connection_records').execute();
}
