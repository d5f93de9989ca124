// Deadlines are stored rows acted on by a tick that reads the injected clock: tests move the
// clock instead of sleeping, and a new Scheduler (a restarted platform) still finds them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { HOUR, ManualClock } from '../../src/domain/clock.ts';
import { Scheduler } from '../../src/control/jobs/scheduler.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
before(async () => (t = await freshDatabase()));
after(async () => t?.drop());
const log = pino({ level: 'silent' });

describe('deadline scheduler', () => {
  it('acts on a deadline only once it falls due, once, and a restarted scheduler still has it', async () => {
    const clock = new ManualClock('2026-05-01T10:00:00Z');
    const s1 = new Scheduler(t.db, clock, log);
    await s1.schedule({
      kind: 'test.due',
      subjectType: 'thing',
      subjectId: 'a',
      dueAt: new Date(clock.now().getTime() + 72 * HOUR),
    });
    // "Restart": a new scheduler over the same database.
    const seen: string[] = [];
    const s2 = new Scheduler(t.db, clock, log);
    s2.on('test.due', async (d) => void seen.push(d.subject_id));
    clock.advance(71 * HOUR);
    assert.equal(await s2.tick(), 0);
    clock.advance(HOUR);
    assert.equal(await s2.tick(), 1);
    assert.equal(await s2.tick(), 0);
    assert.deepEqual(seen, ['a']);
    const row = await t.db
      .selectFrom('deadlines')
      .selectAll()
      .where('subject_id', '=', 'a')
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'done');
  });

  it('scheduling again moves the one pending deadline instead of adding a second', async () => {
    const clock = new ManualClock('2026-05-01T10:00:00Z');
    const s = new Scheduler(t.db, clock, log);
    await s.schedule({
      kind: 'test.move',
      subjectType: 'thing',
      subjectId: 'b',
      dueAt: new Date('2026-05-02T00:00:00Z'),
    });
    await s.schedule({
      kind: 'test.move',
      subjectType: 'thing',
      subjectId: 'b',
      dueAt: new Date('2026-05-03T00:00:00Z'),
    });
    const p = await s.pending('thing', 'b');
    assert.equal(p.length, 1);
    assert.equal(p[0]!.due_at.toISOString(), '2026-05-03T00:00:00.000Z');
    assert.equal(await s.cancel('test.move', 'thing', 'b'), true);
    assert.equal((await s.pending('thing', 'b')).length, 0);
  });

  it('a failing handler rolls back its own writes and retries later with backoff', async () => {
    const clock = new ManualClock('2026-05-01T10:00:00Z');
    const s = new Scheduler(t.db, clock, log);
    let calls = 0;
    s.on('test.flaky', async (d, { db }) => {
      calls++;
      await db
        .insertInto('audit_log')
        .values({
          at: clock.now(),
          actor: 'x',
          action: `flaky.${calls}`,
          details: '{}',
          prev_hash: '0',
          hash: String(calls),
        })
        .execute();
      if (calls === 1) throw new Error('host unreachable');
      void d;
    });
    await s.schedule({ kind: 'test.flaky', subjectType: 'thing', subjectId: 'c', dueAt: clock.now() });
    assert.equal(await s.tick(), 1);
    const row = await t.db
      .selectFrom('deadlines')
      .selectAll()
      .where('subject_id', '=', 'c')
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending');
    assert.equal(row.attempts, 1);
    assert.equal(row.last_error, 'host unreachable');
    assert.ok(row.due_at > clock.now());
    const rolledBack = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'flaky.1')
      .execute();
    assert.equal(rolledBack.length, 0);
    assert.equal(await s.tick(), 0); // not yet
    clock.advance(HOUR);
    assert.equal(await s.tick(), 1);
    assert.equal(
      (
        await t.db
          .selectFrom('deadlines')
          .select('status')
          .where('subject_id', '=', 'c')
          .executeTakeFirstOrThrow()
      ).status,
      'done',
    );
  });

  it('a handler may schedule the next deadline of its own kind for the same subject (a chain of reminders)', async () => {
    const clock = new ManualClock('2026-05-01T10:00:00Z');
    const s = new Scheduler(t.db, clock, log);
    const seen: string[] = [];
    s.on('test.chain', async (d, { db, now }) => {
      const n = Number((d.payload as { n: number }).n);
      seen.push(`${n}@${now.toISOString()}`);
      if (n < 3)
        await s.schedule(
          {
            kind: 'test.chain',
            subjectType: 'thing',
            subjectId: 'e',
            dueAt: new Date(now.getTime() + HOUR),
            payload: { n: n + 1 },
          },
          db,
        );
    });
    await s.schedule({
      kind: 'test.chain',
      subjectType: 'thing',
      subjectId: 'e',
      dueAt: clock.now(),
      payload: { n: 1 },
    });
    for (let i = 0; i < 4; i++) {
      await s.tick();
      clock.advance(HOUR);
    }
    assert.deepEqual(seen, [
      '1@2026-05-01T10:00:00.000Z',
      '2@2026-05-01T11:00:00.000Z',
      '3@2026-05-01T12:00:00.000Z',
    ]);
    const rows = await t.db.selectFrom('deadlines').select('status').where('subject_id', '=', 'e').execute();
    assert.deepEqual(
      rows.map((r) => r.status),
      ['done', 'done', 'done'],
    );
  });

  it("runs its onTick hooks after the deadlines due, with the tick's now; a failing hook stops no other", async () => {
    const clock = new ManualClock('2026-05-01T10:00:00Z');
    const s = new Scheduler(t.db, clock, log);
    const order: string[] = [];
    s.on('test.hooked', async (d) => void order.push(`deadline ${d.subject_id}`));
    s.onTick('first', async (now) => {
      order.push(`first ${now.toISOString()}`);
      throw new Error('relay down');
    });
    s.onTick('second', async (now) => void order.push(`second ${now.toISOString()}`));
    await s.schedule({ kind: 'test.hooked', subjectType: 'thing', subjectId: 'h', dueAt: clock.now() });
    assert.equal(await s.tick(), 1);
    clock.advance(HOUR);
    assert.equal(await s.tick(), 0);
    assert.deepEqual(order, [
      'deadline h',
      'first 2026-05-01T10:00:00.000Z',
      'second 2026-05-01T10:00:00.000Z',
      'first 2026-05-01T11:00:00.000Z',
      'second 2026-05-01T11:00:00.000Z',
    ]);
  });
});
