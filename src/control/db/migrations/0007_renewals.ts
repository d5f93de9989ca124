import { sql, type Kysely } from 'kysely';

// Term and renewal over time (R11.1, R11.2, R11.3). The deadlines themselves
// are rows of `deadlines` (kinds contract.*, subject the contract); here:
// - the warnings sent before the end of a contract that does not renew, once per contract,
//   expiry and point (the primary key makes "once each" a database fact);
// - which invoices are renewals, and the period each bills (other invoices of a contract, e.g.
//   plan changes, are not). At most one live (unvoided) renewal per contract and period: the
//   issuer holds the contract's row lock; a voided one may be followed by another for the same
//   period (a stop, then a resume).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('contract_term_warnings')
    .addColumn('contract_id', 'uuid', (c) => c.notNull().references('contracts.id'))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('days_before', 'integer', (c) => c.notNull().check(sql`days_before > 0`))
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull())
    .addColumn('outbox_id', 'uuid', (c) => c.notNull())
    .addPrimaryKeyConstraint('contract_term_warnings_pk', ['contract_id', 'expires_at', 'days_before'])
    .execute();
  await db.schema
    .createTable('renewal_invoices')
    .addColumn('invoice_id', 'uuid', (c) => c.primaryKey().references('invoices.id'))
    .addColumn('contract_id', 'uuid', (c) => c.notNull().references('contracts.id'))
    .addColumn('period_start', 'timestamptz', (c) => c.notNull())
    .addColumn('period_end', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('renewal_invoices_period', sql`period_end > period_start`)
    .execute();
  await db.schema
    .createIndex('renewal_invoices_period')
    .on('renewal_invoices')
    .columns(['contract_id', 'period_start'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('renewal_invoices').execute();
  await db.schema.dropTable('contract_term_warnings').execute();
}
