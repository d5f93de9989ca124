// The audit log: who, what, when, from where; hash-chained; tampering detected.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { spawnSync } from 'node:child_process';
import { appendAudit, verifyAuditChain } from '../../src/control/repositories/audit.ts';
import { login, makeClient, makeStaff, testApp, type TestApp } from '../helpers/app.ts';
import { childEnv } from '../helpers/child-env.ts';

let t: TestApp;
before(async () => (t = await testApp()));
after(async () => t?.close());

describe('audit log', () => {
  it('records logins with who, what, when and from where, and the admin reads it newest first', async () => {
    const c = await makeClient(t);
    await login(t, c.email, { ip: '192.0.2.44' });
    const adm = await makeStaff(t, 'admin');
    const s = await login(t, adm.email, { totpSecret: adm.totpSecret });
    const r = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/audit?limit=50',
      headers: { cookie: s.cookie },
    });
    assert.equal(r.statusCode, 200);
    const entries = r.json().items as {
      action: string;
      actor: string;
      ip: string;
      at: string;
      target: string;
    }[];
    const clientLogin = entries.find((e) => e.action === 'auth.login' && e.actor === c.email);
    assert.ok(clientLogin);
    assert.equal(clientLogin.ip, '192.0.2.44');
    assert.equal(clientLogin.target, `user:${c.user.id}`);
    assert.ok(!Number.isNaN(Date.parse(clientLogin.at)));
    assert.equal(entries[0]!.action, 'auth.login'); // the admin's own login is the newest
    const v = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/audit/verify',
      headers: { cookie: s.cookie },
    });
    assert.equal(v.json().ok, true);
    assert.ok(v.json().checked >= 4);
  });

  it('each row is chained to the previous one by hash, and the chain verifies', async () => {
    const rows = await t.database.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prev_hash, rows[i - 1]!.hash);
    const report = await verifyAuditChain(t.database.db);
    assert.deepEqual(report, { ok: true, checked: rows.length, firstBadId: null, reason: null });
  });

  it('a concurrent burst of appends still forms one chain', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        appendAudit(t.database.db, {
          at: t.clock.now(),
          actorUserId: null,
          actor: 'burst',
          action: `burst.${i}`,
          details: { i },
        }),
      ),
    );
    assert.equal((await verifyAuditChain(t.database.db)).ok, true);
  });

  it('a tampered row is detected at that row (the append-only trigger has to be disabled first)', async () => {
    const victim = await t.database.db
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'burst.5')
      .executeTakeFirstOrThrow();
    await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`.execute(t.database.db);
    await sql`UPDATE audit_log SET details = '{"i": 99}'::jsonb WHERE id = ${victim.id}`.execute(
      t.database.db,
    );
    const r = await verifyAuditChain(t.database.db);
    assert.equal(r.ok, false);
    assert.equal(r.firstBadId, victim.id);
    assert.match(r.reason!, /changed/);
    // A removed row breaks the link of the one after it.
    await sql`UPDATE audit_log SET details = '{"i": 5}'::jsonb WHERE id = ${victim.id}`.execute(
      t.database.db,
    );
    assert.equal((await verifyAuditChain(t.database.db)).ok, true);
    await sql`DELETE FROM audit_log WHERE id = ${victim.id}`.execute(t.database.db);
    const r2 = await verifyAuditChain(t.database.db);
    assert.equal(r2.ok, false);
    assert.match(r2.reason!, /link/);
    await sql`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change`.execute(t.database.db);
  });

  it('`infogere audit verify` exits 1 on the broken chain and says where', () => {
    const r = spawnSync(process.execPath, ['src/cli/main.ts', 'audit', 'verify'], {
      env: childEnv({ DATABASE_URL: t.database.url, INFOGERE_DATA_DIR: t.dataDir }),
      encoding: 'utf8',
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /audit chain BROKEN at entry \d+/);
  });
});
