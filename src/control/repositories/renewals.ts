// Term and renewal (R11.1, R11.2, R11.3): the warnings sent, the renewal invoices of a contract,
// the contracts due for renewal or end. Client-reachable reads go through contracts.ts (scoped).
import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { Deadline } from '../db/schema.ts';
import type { ContractTermWarningsTable, RenewalInvoicesTable } from '../db/tables/renewals.ts';
import type { ContractRow } from './contracts.ts';
import type { InvoiceRow } from './invoices.ts';

export type TermWarningRow = Selectable<ContractTermWarningsTable>;
export type RenewalInvoiceLink = Selectable<RenewalInvoicesTable>;

/** Locks a contract without waiting: a deadline handler already holds its deadline row, so it never queues on another lock. */
export async function lockContractNoWait(db: Db, id: string): Promise<ContractRow> {
  try {
    const c = await db
      .selectFrom('contracts')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .noWait()
      .executeTakeFirst();
    if (!c) throw notFound('contract.not_found', 'No such contract');
    return c;
  } catch (e) {
    throw busy(e, `contract ${id}`);
  }
}

/** PostgreSQL's lock_not_available (NOWAIT) becomes a plain error: the deadline is retried later. */
function busy(e: unknown, what: string): unknown {
  return (e as { code?: string }).code === '55P03'
    ? new Error(`${what} is locked by another transaction; retried later`)
    : e;
}

/** The warnings sent for this contract and expiry, oldest first. */
export function warningsOf(db: Db, contractId: string, expiresAt: Date): Promise<TermWarningRow[]> {
  return db
    .selectFrom('contract_term_warnings')
    .selectAll()
    .where('contract_id', '=', contractId)
    .where('expires_at', '=', expiresAt)
    .orderBy('sent_at')
    .execute();
}

/** Records a warning; false when that point was already sent for that expiry (then nothing is sent). */
export async function recordWarning(
  db: Db,
  w: { contractId: string; expiresAt: Date; daysBefore: number; sentAt: Date; outboxId: string },
): Promise<boolean> {
  const r = await db
    .insertInto('contract_term_warnings')
    .values({
      contract_id: w.contractId,
      expires_at: w.expiresAt,
      days_before: w.daysBefore,
      sent_at: w.sentAt,
      outbox_id: w.outboxId,
    })
    .onConflict((oc) => oc.columns(['contract_id', 'expires_at', 'days_before']).doNothing())
    .returning('contract_id')
    .executeTakeFirst();
  return r !== undefined;
}

/** A renewal invoice with the period it bills. */
export type RenewalInvoice = InvoiceRow & { renewal_period_start: Date; renewal_period_end: Date };

/** Records that an invoice renews a contract for a period (in the issuing transaction). */
export async function insertRenewalInvoice(
  db: Db,
  r: { invoiceId: string; contractId: string; periodStart: Date; periodEnd: Date },
): Promise<void> {
  await db
    .insertInto('renewal_invoices')
    .values({
      invoice_id: r.invoiceId,
      contract_id: r.contractId,
      period_start: r.periodStart,
      period_end: r.periodEnd,
    })
    .execute();
}

/** The renewal that an invoice is, if it is one. */
export function renewalOfInvoice(db: Db, invoiceId: string): Promise<RenewalInvoiceLink | undefined> {
  return db.selectFrom('renewal_invoices').selectAll().where('invoice_id', '=', invoiceId).executeTakeFirst();
}

function renewals(db: Db) {
  return db
    .selectFrom('renewal_invoices as r')
    .innerJoin('invoices as i', 'i.id', 'r.invoice_id')
    .selectAll('i')
    .select(['r.period_start as renewal_period_start', 'r.period_end as renewal_period_end']);
}

/** The live (issued or paid) renewal invoice of a contract's period starting at `periodStart`. */
export async function renewalInvoiceFor(
  db: Db,
  contractId: string,
  periodStart: Date,
  opts: { lock?: 'wait' | 'nowait' } = {},
): Promise<RenewalInvoice | undefined> {
  let q = renewals(db)
    .where('r.contract_id', '=', contractId)
    .where('r.period_start', '=', periodStart)
    .where('i.status', '!=', 'void');
  if (opts.lock) q = q.forUpdate('i');
  if (opts.lock === 'nowait') q = q.noWait();
  try {
    return await q.executeTakeFirst();
  } catch (e) {
    throw busy(e, `the renewal invoice of contract ${contractId}`);
  }
}

/**
 * Locks the unpaid renewal invoices of a contract (before the contract: the paying
 * transaction's order); `nowait` for deadline handlers, which never queue on a lock.
 */
export async function lockUnpaidRenewals(
  db: Db,
  contractId: string,
  opts: { nowait?: boolean } = {},
): Promise<RenewalInvoice[]> {
  let q = renewals(db)
    .where('r.contract_id', '=', contractId)
    .where('i.status', '=', 'issued')
    .forUpdate('i');
  if (opts.nowait) q = q.noWait();
  try {
    return await q.execute();
  } catch (e) {
    throw busy(e, `the renewal invoices of contract ${contractId}`);
  }
}

/** Running contracts none of whose renewal deadlines was ever written (opened before this module). */
export function contractsNeverPlanned(db: Db, kinds: readonly string[]): Promise<ContractRow[]> {
  return db
    .selectFrom('contracts as c')
    .selectAll('c')
    .where('c.state', 'in', ['active', 'suspended'])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('deadlines as d')
            .select(sql`1`.as('one'))
            .where('d.subject_type', '=', 'contract')
            .whereRef('d.subject_id', '=', sql<string>`c.id::text`)
            .where('d.kind', 'in', kinds),
        ),
      ),
    )
    .execute();
}

/** A termination recorded for the contract and not cancelled (R12.1–R12.3, or the term end itself). */
export function openTermination(db: Db, contractId: string) {
  return db
    .selectFrom('terminations')
    .select(['id', 'cause', 'effective_at', 'state'])
    .where('contract_id', '=', contractId)
    .where('state', '!=', 'cancelled')
    .executeTakeFirst();
}

/** The console's "renewals due": running contracts expiring by `until` (or already past it, in grace), soonest first. */
export function renewalsDue(db: Db, until: Date) {
  return db
    .selectFrom('contracts as c')
    .innerJoin('accounts as a', 'a.id', 'c.account_id')
    .innerJoin('vps as v', 'v.id', 'c.vps_id')
    .select([
      'c.id',
      'c.account_id',
      'a.name as account_name',
      'c.vps_id',
      'v.hostname',
      'c.kind',
      'c.term_months',
      'c.state',
      'c.expires_at',
      'c.renewal_stopped_at',
      'c.monthly_price_cents',
    ])
    .where('c.state', 'in', ['active', 'suspended'])
    .where('c.expires_at', '<=', until)
    .orderBy('c.expires_at')
    .orderBy('c.id')
    .limit(1000)
    .execute();
}

/** The live renewal invoices of these contracts (issued or paid), to match with their expiry. */
export function liveRenewalsOf(db: Db, contractIds: readonly string[]): Promise<RenewalInvoice[]> {
  if (contractIds.length === 0) return Promise.resolve([]);
  return renewals(db).where('r.contract_id', 'in', contractIds).where('i.status', '!=', 'void').execute();
}

/**
 * The configuration a contract's VPS gets from a plan change paid and not applied yet (R3.12):
 * from the payment the contract bills that plan, so its renewal invoice describes it.
 */
export function paidPlanChangeOf(db: Db, contractId: string) {
  return db
    .selectFrom('plan_changes')
    .select(['to_vcpus', 'to_memory_mib', 'to_disk_gib'])
    .where('contract_id', '=', contractId)
    .where('state', '=', 'paid')
    .orderBy('paid_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The pending deadlines of one kind of these contracts (the console's grace ends). */
export function pendingContractDeadlines(
  db: Db,
  kind: string,
  contractIds: readonly string[],
): Promise<Pick<Deadline, 'subject_id' | 'due_at'>[]> {
  if (contractIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('deadlines')
    .select(['subject_id', 'due_at'])
    .where('kind', '=', kind)
    .where('subject_type', '=', 'contract')
    .where('status', '=', 'pending')
    .where('subject_id', 'in', contractIds)
    .execute();
}
