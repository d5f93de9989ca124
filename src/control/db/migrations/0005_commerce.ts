import { sql, type Kysely } from 'kysely';

// Catalogue, orders, invoices (gap-free numbering), payments, webhook events, contracts
// (R11.1, R11.2; ready for R11.3 and R3.12).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('plans')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('code', 'text', (c) =>
      c
        .notNull()
        .unique()
        .check(sql`code ~ '^[A-Z0-9-]{2,32}$'`),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('vcpus', 'integer', (c) => c.notNull().check(sql`vcpus BETWEEN 1 AND 256`))
    .addColumn('memory_mib', 'integer', (c) => c.notNull().check(sql`memory_mib >= 128`))
    .addColumn('disk_gib', 'integer', (c) => c.notNull().check(sql`disk_gib > 0`))
    .addColumn('monthly_price_cents', 'integer', (c) => c.notNull().check(sql`monthly_price_cents >= 0`))
    .addColumn('vat_rate_bp', 'integer', (c) => c.notNull().check(sql`vat_rate_bp BETWEEN 0 AND 10000`))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('plan_datacenters')
    .addColumn('plan_id', 'uuid', (c) => c.notNull().references('plans.id').onDelete('cascade'))
    .addColumn('datacenter_id', 'uuid', (c) => c.notNull().references('datacenters.id'))
    .addPrimaryKeyConstraint('plan_datacenters_pk', ['plan_id', 'datacenter_id'])
    .execute();

  await db.schema
    .createTable('orders')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('user_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('plan_id', 'uuid', (c) => c.notNull().references('plans.id'))
    .addColumn('datacenter_id', 'uuid', (c) => c.notNull().references('datacenters.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('fixed','subscription')`))
    .addColumn('term_months', 'integer')
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('client_username', 'text', (c) => c.notNull().check(sql`client_username <> 'root'`))
    .addColumn('plan_code', 'text', (c) => c.notNull())
    .addColumn('plan_name', 'text', (c) => c.notNull())
    .addColumn('vcpus', 'integer', (c) => c.notNull())
    .addColumn('memory_mib', 'integer', (c) => c.notNull())
    .addColumn('disk_gib', 'integer', (c) => c.notNull())
    .addColumn('monthly_price_cents', 'integer', (c) => c.notNull().check(sql`monthly_price_cents >= 0`))
    .addColumn('vat_rate_bp', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state IN ('awaiting_payment','paid','validated','cancelled')`),
    )
    .addColumn('state_changed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('paid_at', 'timestamptz')
    .addColumn('validated_at', 'timestamptz')
    .addColumn('validated_by', 'text')
    .addColumn('cancelled_at', 'timestamptz')
    .addColumn('cancelled_by', 'text')
    .addColumn('cancel_reason', 'text')
    .addCheckConstraint(
      'orders_term_shape',
      sql`(kind = 'fixed' AND term_months BETWEEN 1 AND 36) OR (kind = 'subscription' AND term_months IS NULL)`,
    )
    .execute();
  await db.schema.createIndex('orders_account').on('orders').columns(['account_id', 'created_at']).execute();
  await sql`CREATE INDEX orders_open ON orders (state, created_at) WHERE state IN ('awaiting_payment','paid')`.execute(
    db,
  );

  await db.schema
    .createTable('invoice_counters')
    .addColumn('year', 'integer', (c) => c.primaryKey())
    .addColumn('last_seq', 'integer', (c) => c.notNull().check(sql`last_seq >= 0`))
    .execute();

  await db.schema
    .createTable('invoices')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull().check(sql`seq > 0`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('order_id', 'uuid', (c) => c.references('orders.id'))
    .addColumn('contract_id', 'uuid')
    .addColumn('customer_name', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull().defaultTo('EUR'))
    .addColumn('term_kind', 'text', (c) => c.notNull().check(sql`term_kind IN ('fixed','subscription')`))
    .addColumn('term_months', 'integer')
    .addColumn('period_start', 'timestamptz')
    .addColumn('period_end', 'timestamptz')
    .addColumn('net_cents', 'integer', (c) => c.notNull().check(sql`net_cents >= 0`))
    .addColumn('vat_rate_bp', 'integer', (c) => c.notNull().check(sql`vat_rate_bp BETWEEN 0 AND 10000`))
    .addColumn('vat_cents', 'integer', (c) => c.notNull().check(sql`vat_cents >= 0`))
    .addColumn('total_cents', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('issued','paid','void')`))
    .addColumn('paid_at', 'timestamptz')
    .addColumn('voided_at', 'timestamptz')
    .addColumn('void_reason', 'text')
    .addUniqueConstraint('invoices_series', ['year', 'seq'])
    .addCheckConstraint('invoices_total', sql`total_cents = net_cents + vat_cents`)
    .addCheckConstraint('invoices_number', sql`number = year::text || '-' || lpad(seq::text, 6, '0')`)
    .execute();
  await db.schema
    .createIndex('invoices_account')
    .on('invoices')
    .columns(['account_id', 'issued_at'])
    .execute();
  // An order has one first invoice.
  await sql`CREATE UNIQUE INDEX invoices_one_per_order ON invoices (order_id) WHERE order_id IS NOT NULL`.execute(
    db,
  );
  // An invoice is never deleted, and its number, customer and amounts never change: only its
  // status moves (issued → paid | void), with the matching dates.
  await sql`
    CREATE FUNCTION invoices_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'invoices are never deleted (void them)'; END IF;
      IF NEW.number <> OLD.number OR NEW.year <> OLD.year OR NEW.seq <> OLD.seq OR NEW.account_id <> OLD.account_id
         OR NEW.net_cents <> OLD.net_cents OR NEW.vat_cents <> OLD.vat_cents OR NEW.total_cents <> OLD.total_cents
         OR NEW.vat_rate_bp <> OLD.vat_rate_bp OR NEW.issued_at <> OLD.issued_at OR NEW.customer_name <> OLD.customer_name
         OR NEW.term_kind <> OLD.term_kind OR NEW.term_months IS DISTINCT FROM OLD.term_months THEN
        RAISE EXCEPTION 'an issued invoice''s number, customer and amounts never change';
      END IF;
      IF OLD.status <> 'issued' AND NEW.status <> OLD.status THEN
        RAISE EXCEPTION 'invoice % is % for good', OLD.number, OLD.status;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER invoices_guard BEFORE UPDATE OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_guard();
  `.execute(db);

  await db.schema
    .createTable('invoice_lines')
    .addColumn('invoice_id', 'uuid', (c) => c.notNull().references('invoices.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull().check(sql`quantity > 0`))
    .addColumn('unit_cents', 'integer', (c) => c.notNull())
    .addColumn('total_cents', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('invoice_lines_pk', ['invoice_id', 'position'])
    .addCheckConstraint('invoice_lines_total', sql`total_cents = unit_cents * quantity`)
    .execute();

  await db.schema
    .createTable('payments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('invoice_id', 'uuid', (c) => c.notNull().unique().references('invoices.id'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('method', 'text', (c) =>
      c.notNull().check(sql`method IN ('transfer','card','direct_debit','check','cash','webhook')`),
    )
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('amount_cents', 'integer', (c) => c.notNull().check(sql`amount_cents > 0`))
    .addColumn('received_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source IN ('staff','webhook')`))
    .addColumn('event_id', 'text', (c) => c.unique())
    .execute();
  await db.schema.createIndex('payments_account').on('payments').column('account_id').execute();

  await db.schema
    .createTable('payment_webhook_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull())
    .addColumn('body_sha256', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();

  await db.schema
    .createTable('contracts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id'))
    .addColumn('order_id', 'uuid', (c) => c.notNull().unique().references('orders.id'))
    .addColumn('vps_id', 'uuid', (c) => c.notNull().unique().references('vps.id'))
    .addColumn('plan_id', 'uuid', (c) => c.notNull().references('plans.id'))
    .addColumn('datacenter_id', 'uuid', (c) => c.notNull().references('datacenters.id'))
    .addColumn('terms_version', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('fixed','subscription')`))
    .addColumn('term_months', 'integer')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('billing_anchor', 'timestamptz', (c) => c.notNull())
    .addColumn('renewal_anchor', 'timestamptz')
    .addColumn('periods', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`periods >= 0`),
    )
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('renewal_stopped_at', 'timestamptz')
    .addColumn('monthly_price_cents', 'integer', (c) => c.notNull())
    .addColumn('vat_rate_bp', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state IN ('active','suspended','ended','terminated')`),
    )
    .addColumn('state_changed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint(
      'contracts_kind_shape',
      sql`(kind = 'fixed' AND term_months IS NOT NULL) OR (kind = 'subscription' AND renewal_anchor IS NOT NULL)`,
    )
    .execute();
  await db.schema.createIndex('contracts_account').on('contracts').column('account_id').execute();
  await sql`CREATE INDEX contracts_expiring ON contracts (expires_at) WHERE state IN ('active','suspended')`.execute(
    db,
  );
  await sql`ALTER TABLE invoices ADD CONSTRAINT invoices_contract_fk FOREIGN KEY (contract_id) REFERENCES contracts(id)`.execute(
    db,
  );
}
