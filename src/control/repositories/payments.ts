// Payments (one per invoice) and the webhook's event log (replay protection).
import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { PaymentsTable } from '../db/tables/commerce.ts';
import type { Scope } from './scope.ts';

export type PaymentRow = Selectable<PaymentsTable>;

export function insertPayment(db: Db, p: Insertable<PaymentsTable>): Promise<PaymentRow> {
  return db.insertInto('payments').values(p).returningAll().executeTakeFirstOrThrow();
}

export function listPayments(db: Db, scope: Scope, filter: { accountId?: string; invoiceId?: string } = {}) {
  let q = db
    .selectFrom('payments as p')
    .innerJoin('invoices as i', 'i.id', 'p.invoice_id')
    .selectAll('p')
    .select('i.number as invoice_number')
    .orderBy('p.recorded_at', 'desc')
    .orderBy('p.id');
  if (scope.kind === 'client') q = q.where('p.account_id', '=', scope.accountId);
  else if (filter.accountId) q = q.where('p.account_id', '=', filter.accountId);
  if (filter.invoiceId) q = q.where('p.invoice_id', '=', filter.invoiceId);
  return q.limit(1000).execute();
}

/**
 * Records a webhook event id once. Returns false when it was already seen (a replay): the
 * caller then changes nothing. Inside the caller's transaction, so a failed handling can be
 * retried by the sender with the same id.
 */
export async function claimWebhookEvent(
  db: Db,
  e: { eventId: string; at: Date; bodySha256: string },
): Promise<boolean> {
  const r = await db
    .insertInto('payment_webhook_events')
    .values({
      event_id: e.eventId,
      received_at: e.at,
      body_sha256: e.bodySha256,
      outcome: 'received',
      details: '{}',
    })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .returning('event_id')
    .executeTakeFirst();
  return r !== undefined;
}

export async function setWebhookOutcome(
  db: Db,
  eventId: string,
  outcome: string,
  details: Record<string, unknown>,
): Promise<void> {
  await db
    .updateTable('payment_webhook_events')
    .set({ outcome, details: JSON.stringify(details) })
    .where('event_id', '=', eventId)
    .execute();
}

export function getWebhookEvent(db: Db, eventId: string) {
  return db
    .selectFrom('payment_webhook_events')
    .selectAll()
    .where('event_id', '=', eventId)
    .executeTakeFirst();
}
