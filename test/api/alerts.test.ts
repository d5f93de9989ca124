// Staff alerts (R4.1) at the service level, without HTTP: raised in the caller's transaction
// (no alert when it rolls back), listed newest first, acknowledged once (audited once). The
// routes and their roles are test/api/vps-power.test.ts and test/api/roles.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { MINUTE } from '../../src/domain/clock.ts';
import { isDomainError } from '../../src/domain/errors.ts';
import { raiseAlert } from '../../src/control/services/alerts.ts';
import { testApp } from '../helpers/app.ts';

const actor = { userId: null, label: 'ops@example.test', ip: '198.51.100.7' };

describe('staff alerts service (R4.1)', () => {
  it('R4.1: an alert raised in a transaction exists only if it commits; the list is newest first, open ones apart', async () => {
    const t = await testApp();
    try {
      const vpsId = randomUUID();
      await assert.rejects(
        t.database.db.transaction().execute(async (tx) => {
          await raiseAlert(tx, {
            at: t.clock.now(),
            kind: 'vm_crashed',
            subject_type: 'vps',
            subject_id: vpsId,
            message: 'rolled back',
          });
          throw new Error('cause rolled back');
        }),
      );
      assert.deepEqual(await t.services.alerts.list(), []);
      await t.services.alerts.raise({
        kind: 'power_failed',
        subject_type: 'vps',
        subject_id: vpsId,
        message: 'first',
      });
      t.clock.advance(MINUTE);
      await t.services.alerts.raise({
        kind: 'vm_crashed',
        subject_type: 'vps',
        subject_id: vpsId,
        message: 'second',
      });
      const all = await t.services.alerts.list();
      assert.deepEqual(
        all.map((a) => a.message),
        ['second', 'first'],
      );
      assert.equal(all[0]!.at.toISOString(), t.clock.now().toISOString(), 'stamped by the injected clock');
      assert.equal(await t.services.alerts.countOpen(), 2);
      assert.equal((await t.services.alerts.list({ limit: 1 })).length, 1);
    } finally {
      await t.close();
    }
  });

  it('R4.1: acknowledging is idempotent, audited once, and an unknown alert is alert.not_found', async () => {
    const t = await testApp();
    try {
      await t.services.alerts.raise({
        kind: 'power_failed',
        subject_type: 'vps',
        subject_id: randomUUID(),
        message: 'x',
      });
      const [alert] = await t.services.alerts.list({ open: true });
      assert.ok(alert);
      const first = await t.services.alerts.acknowledge(alert.id, actor);
      assert.equal(first.acknowledged_by, actor.label);
      const again = await t.services.alerts.acknowledge(alert.id, actor);
      assert.equal(again.acknowledged_at?.toISOString(), first.acknowledged_at?.toISOString());
      assert.deepEqual(await t.services.alerts.list({ open: true }), []);
      assert.equal(await t.services.alerts.countOpen(), 0);
      const audited = await t.database.db
        .selectFrom('audit_log')
        .select('action')
        .where('action', '=', 'alert.acknowledge')
        .execute();
      assert.equal(audited.length, 1);
      await assert.rejects(t.services.alerts.acknowledge(randomUUID(), actor), (e) => {
        assert.ok(isDomainError(e));
        assert.equal(e.code, 'alert.not_found');
        return true;
      });
    } finally {
      await t.close();
    }
  });
});
