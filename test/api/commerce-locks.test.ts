// Lock order of commerce (R11.1, R11.2; services/commerce.ts, Locks): a payment and a
// cancellation of the same order take its invoice, then the order, so neither deadlocks the
// other: the one that waits sees what the other committed. Here a transaction holds the
// invoice as paying does, a cancellation starts and waits, then the payment takes the order
// and commits: the cancellation is refused (paid orders are not cancelled), nothing voided.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { makeClient, testApp, type TestApp } from '../helpers/app.ts';
import { until } from '../helpers/until.ts';

let t: TestApp;
let planId: string;
let dcId: string;

before(async () => {
  t = await testApp();
  const dc = await t.services.infra.createDatacenter(
    { code: 'LCK1', name: 'Locks 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  dcId = dc.id;
  const plan = await t.services.commerce.createPlan(
    {
      code: 'K1',
      name: 'VPS K',
      vcpus: 1,
      memoryMiB: 1024,
      diskGiB: 20,
      monthlyPriceCents: 500,
      vatRateBp: 2000,
      datacenterIds: [dcId],
    },
    SYSTEM_ACTOR,
  );
  planId = plan.id;
});
after(async () => t?.close());

describe('commerce locks: invoice, then order (R11.1, R11.2)', () => {
  it('a cancellation waiting on a payment of the same order neither deadlocks nor voids a paid invoice', async () => {
    const c = await makeClient(t);
    const scope = { kind: 'client' as const, userId: c.user.id, accountId: c.account.id };
    const { order, invoice } = await t.services.commerce.placeOrder(
      scope,
      c.user.id,
      { planId, datacenterId: dcId, kind: 'subscription', hostname: 'lock1' },
      SYSTEM_ACTOR,
    );
    const db = t.database.db;
    let cancelled: Promise<unknown> | undefined;
    // The payment's transaction: the invoice first, as payInTx's callers take it.
    await db.transaction().execute(async (tx) => {
      await tx.selectFrom('invoices').select('id').where('id', '=', invoice.id).forUpdate().execute();
      cancelled = t.services.commerce.cancelOrder(scope, order.id, 'too slow', SYSTEM_ACTOR).then(
        (r) => ({ ok: r }),
        (e: unknown) => ({ err: e }),
      );
      // The cancellation is waiting for a lock (on the invoice: it holds nothing yet). Read from
      // another connection: a transaction sees pg_stat_activity as of its first read of it.
      await until(
        'the cancellation to wait for a lock',
        async () =>
          (
            await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(db)
          ).rows[0]!.n > 0,
        10_000,
      );
      // Then the order, as paying does after the invoice: with the order held by the
      // cancellation, this would be a deadlock (one of the two aborted by PostgreSQL).
      await tx.selectFrom('orders').select('id').where('id', '=', order.id).forUpdate().execute();
      const at = t.clock.now();
      await tx
        .updateTable('invoices')
        .set({ status: 'paid', paid_at: at })
        .where('id', '=', invoice.id)
        .execute();
      await tx
        .updateTable('orders')
        .set({ state: 'paid', state_changed_at: at, paid_at: at })
        .where('id', '=', order.id)
        .execute();
    });
    const outcome = (await cancelled!) as { ok?: unknown; err?: { code?: string } };
    assert.equal(outcome.err?.code, 'order.not_cancellable', JSON.stringify(outcome));
    const inv = await db
      .selectFrom('invoices')
      .selectAll()
      .where('id', '=', invoice.id)
      .executeTakeFirstOrThrow();
    const ord = await db
      .selectFrom('orders')
      .selectAll()
      .where('id', '=', order.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual([inv.status, inv.void_reason, ord.state], ['paid', null, 'paid']);
  });

  it('a cancellation alone still voids the invoice (the order is re-read under its lock)', async () => {
    const c = await makeClient(t);
    const scope = { kind: 'client' as const, userId: c.user.id, accountId: c.account.id };
    const { order } = await t.services.commerce.placeOrder(
      scope,
      c.user.id,
      { planId, datacenterId: dcId, kind: 'subscription', hostname: 'lock2' },
      SYSTEM_ACTOR,
    );
    const r = await t.services.commerce.cancelOrder(scope, order.id, 'changed my mind', SYSTEM_ACTOR);
    assert.deepEqual(
      [r.order.state, r.invoice.status, r.invoice.void_reason],
      ['cancelled', 'void', 'changed my mind'],
    );
    // Another account's order is not found, and nothing of it is locked or changed.
    const other = await makeClient(t);
    const otherScope = { kind: 'client' as const, userId: other.user.id, accountId: other.account.id };
    const { order: o2 } = await t.services.commerce.placeOrder(
      otherScope,
      other.user.id,
      { planId, datacenterId: dcId, kind: 'subscription', hostname: 'lock3' },
      SYSTEM_ACTOR,
    );
    await assert.rejects(t.services.commerce.cancelOrder(scope, o2.id, null, SYSTEM_ACTOR), {
      code: 'order.not_found',
    });
  });
});
