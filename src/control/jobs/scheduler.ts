// Deadlines: the contract's 72 h, 48 h, 26 h, 15 days... are rows in `deadlines` (so they
// survive restarts), acted on by a tick that takes `now` from the injected clock. Later issues
// register a handler per kind. Several control-plane processes may tick: rows are claimed with
// SKIP LOCKED and each is handled in its own transaction.
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { MINUTE } from '../../domain/clock.ts';
import type { Clock } from '../../domain/clock.ts';
import type { Db } from '../db/database.ts';
import type { Deadline } from '../db/schema.ts';
import {
  cancelDeadline,
  pendingDeadlines,
  scheduleDeadline,
  type DeadlineSpec,
} from '../repositories/deadlines.ts';

export type DeadlineHandler = (d: Deadline, ctx: { db: Db; now: Date }) => Promise<void>;

export type { DeadlineSpec };

const MAX_ATTEMPTS = 10;

export class Scheduler {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #handlers = new Map<string, DeadlineHandler>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(db: Db, clock: Clock, log: Logger) {
    this.#db = db;
    this.#clock = clock;
    this.#log = log;
  }

  on(kind: string, handler: DeadlineHandler): void {
    if (this.#handlers.has(kind)) throw new Error(`deadline kind ${kind} already has a handler`);
    this.#handlers.set(kind, handler);
  }

  /** Sets (or moves) the one pending deadline of this kind for this subject. */
  schedule(spec: DeadlineSpec, db: Db = this.#db): Promise<Deadline> {
    return scheduleDeadline(db, spec, this.#clock.now());
  }

  cancel(kind: string, subjectType: string, subjectId: string, db: Db = this.#db): Promise<boolean> {
    return cancelDeadline(db, kind, subjectType, subjectId, this.#clock.now());
  }

  pending(subjectType: string, subjectId: string): Promise<Deadline[]> {
    return pendingDeadlines(this.#db, subjectType, subjectId);
  }

  /** Acts on every deadline due at the clock's now; returns how many were handled. */
  tick(): Promise<number> {
    // One tick at a time in this process; a second call waits for the running one.
    this.#running ??= this.#tick().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #tick(): Promise<number> {
    const now = this.#clock.now();
    let handled = 0;
    for (;;) {
      const done = await this.#db.transaction().execute(async (tx) => {
        const d = await tx
          .selectFrom('deadlines')
          .selectAll()
          .where('status', '=', 'pending')
          .where('due_at', '<=', now)
          .orderBy('due_at')
          .limit(1)
          .forUpdate()
          .skipLocked()
          .executeTakeFirst();
        if (!d) return null;
        const handler = this.#handlers.get(d.kind);
        if (!handler) {
          await tx
            .updateTable('deadlines')
            .set({ status: 'failed', last_error: `no handler for kind ${d.kind}` })
            .where('id', '=', d.id)
            .execute();
          this.#log.error({ deadline: d.id, kind: d.kind }, 'deadline without handler');
          return d;
        }
        try {
          await sql`SAVEPOINT deadline`.execute(tx);
          // Done before the handler runs, so the handler may schedule the next deadline of the
          // same kind for the same subject (a new pending row, not this one moved then closed);
          // a failure rolls this back with the handler's writes.
          await tx
            .updateTable('deadlines')
            .set({ status: 'done', done_at: now, attempts: d.attempts + 1 })
            .where('id', '=', d.id)
            .execute();
          await handler(d, { db: tx, now });
        } catch (e) {
          await sql`ROLLBACK TO SAVEPOINT deadline`.execute(tx);
          const attempts = d.attempts + 1;
          const failed = attempts >= MAX_ATTEMPTS;
          // Retry later with backoff, measured on the injected clock.
          await tx
            .updateTable('deadlines')
            .set({
              attempts,
              last_error: (e as Error).message.slice(0, 1000),
              status: failed ? 'failed' : 'pending',
              due_at: failed ? d.due_at : new Date(now.getTime() + Math.min(60, 2 ** attempts) * MINUTE),
            })
            .where('id', '=', d.id)
            .execute();
          this.#log.error({ deadline: d.id, kind: d.kind, err: e }, 'deadline handler failed');
        }
        return d;
      });
      if (!done) return handled;
      handled++;
    }
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => {
      this.tick().catch((e: unknown) => this.#log.error({ err: e }, 'scheduler tick failed'));
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
