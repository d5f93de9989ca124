// Deadlines: the contract's 72 h, 48 h, 26 h, 15 days... are rows in `deadlines` (so they
// survive restarts), acted on by a tick that takes `now` from the injected clock. Modules
// register a handler per kind (`on`) and work for every tick (`onTick`, e.g. the mail sweep).
// Several control-plane processes may tick: rows are claimed with SKIP LOCKED (claims in
// repositories/deadlines.ts) and each is handled in its own transaction.
import type { Logger } from 'pino';
import { MINUTE } from '../../domain/clock.ts';
import type { Clock } from '../../domain/clock.ts';
import type { Db } from '../db/database.ts';
import type { Deadline } from '../db/schema.ts';
import {
  cancelDeadline,
  claimDueDeadline,
  markDeadlineDone,
  markDeadlineFailed,
  pendingDeadlines,
  scheduleDeadline,
  type DeadlineSpec,
} from '../repositories/deadlines.ts';
import { inSavepoint, inTransaction } from '../repositories/transactions.ts';

export type DeadlineHandler = (d: Deadline, ctx: { db: Db; now: Date }) => Promise<void>;
export type TickHook = (now: Date) => Promise<unknown>;

export type { DeadlineSpec };

const MAX_ATTEMPTS = 10;

export class Scheduler {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #handlers = new Map<string, DeadlineHandler>();
  readonly #tickHooks: { name: string; run: TickHook }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(db: Db, clock: Clock, log: Logger) {
    this.#db = db;
    this.#clock = clock;
    this.#log = log;
  }

  /**
   * Work run on every tick, after the deadlines due, with the tick's `now` (e.g. the mail
   * outbox sweep, jobs/registry.ts). A hook's error is logged; the next hooks still run.
   */
  onTick(name: string, run: TickHook): void {
    this.#tickHooks.push({ name, run });
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
      const done = await inTransaction(this.#db, async (tx) => {
        const d = await claimDueDeadline(tx, now);
        if (!d) return null;
        const handler = this.#handlers.get(d.kind);
        if (!handler) {
          await markDeadlineFailed(tx, d.id, {
            attempts: d.attempts,
            error: `no handler for kind ${d.kind}`,
            retryAt: null,
          });
          this.#log.error({ deadline: d.id, kind: d.kind }, 'deadline without handler');
          return d;
        }
        try {
          // Done before the handler runs, so the handler may schedule the next deadline of the
          // same kind for the same subject (a new pending row, not this one moved then closed);
          // a failure rolls this back with the handler's writes.
          await inSavepoint(tx, 'deadline', async () => {
            await markDeadlineDone(tx, d.id, now, d.attempts + 1);
            await handler(d, { db: tx, now });
          });
        } catch (e) {
          const attempts = d.attempts + 1;
          // Retry later with backoff, measured on the injected clock.
          await markDeadlineFailed(tx, d.id, {
            attempts,
            error: (e as Error).message,
            retryAt:
              attempts >= MAX_ATTEMPTS
                ? null
                : new Date(now.getTime() + Math.min(60, 2 ** attempts) * MINUTE),
          });
          this.#log.error({ deadline: d.id, kind: d.kind, err: e }, 'deadline handler failed');
        }
        return d;
      });
      if (!done) break;
      handled++;
    }
    // The tick's other work (the mail outbox sweep…), each on its own: one failing stops no other.
    for (const hook of this.#tickHooks) {
      try {
        await hook.run(now);
      } catch (e) {
        this.#log.error({ err: e, hook: hook.name }, 'scheduler tick hook failed');
      }
    }
    return handled;
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
