// A long-lived `nft -j -i` per table (R9.1, R9.3: a mitigation must be in force within a
// second on a host of 1,000 VPSs). Each batch is one line of JSON, run as one transaction, as
// `nft -j -f` would; what it saves is starting a program (and `ip netns exec`) for every
// change. Completion is detected with a sync line: nft answers an unparsable line with a syntax
// error on stderr echoing it, and it answers lines in order, so whatever stderr holds before the
// echo of our sync line is the batch's own error (a successful batch prints nothing).
// The session is closed after a quiet period and after MAX_COMMANDS lines (nft's line editor
// keeps a history in memory), and restarted on the next batch.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { CommandError, startPiped } from '../exec/run.ts';
import type { NftBatch } from './nft-render.ts';

const MAX_COMMANDS = 500;
const IDLE_MS = 30_000;
const TIMEOUT_MS = 30_000;

interface Pending {
  sync: string;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class NftSession {
  private child: ChildProcessWithoutNullStreams | null = null;
  private stderr = '';
  private pending: Pending | null = null;
  private queue: Promise<void> = Promise.resolve();
  private commands = 0;
  private seq = 0;
  private idle: NodeJS.Timeout | null = null;
  private readonly argv: readonly string[];

  constructor(nftArgv: readonly string[]) {
    this.argv = [...nftArgv, '-j', '-i'];
  }

  /** Runs one batch atomically; rejects with a CommandError carrying nft's message. */
  apply(batch: NftBatch): Promise<void> {
    const line = JSON.stringify(batch);
    const next = this.queue.then(() => this.send(line));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Runs nft text commands (no newline inside) as one transaction: joined by `;` on one line
   * (nft reads a line that is not JSON as text).
   */
  applyText(commands: readonly string[]): Promise<void> {
    const line = commands.join('; ');
    if (line.includes('\n')) throw new Error('nft text commands must not contain a newline');
    const next = this.queue.then(() => this.send(line));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ends the nft process (the next batch starts another). */
  close(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const c = this.child;
    this.child = null;
    if (c) {
      c.stdin.end();
      c.kill();
    }
  }

  private start(): ChildProcessWithoutNullStreams {
    // HOME points nowhere: nft's line editor would write its history there at exit.
    const child = startPiped(this.argv, { env: { ...process.env, HOME: '/nonexistent' } });
    this.stderr = '';
    this.commands = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      this.stderr += d;
      this.check();
    });
    child.stdout.resume();
    child.on('error', (e) => this.fail(child, e.message));
    child.on('exit', (code, signal) => this.fail(child, `nft exited (${code ?? signal})`));
    child.stdin.on('error', () => undefined);
    return child;
  }

  private fail(child: ChildProcessWithoutNullStreams, why: string): void {
    if (this.child === child) this.child = null;
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.reject(this.error(`${why}: ${this.stderr.trim()}`));
  }

  private error(stderr: string): CommandError {
    return new CommandError({
      argv: this.argv,
      exitCode: 1,
      signal: null,
      stdout: '',
      stderr,
      timedOut: false,
    });
  }

  private send(line: string): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    if (this.child && this.commands >= MAX_COMMANDS) this.close();
    const child = (this.child ??= this.start());
    this.commands++;
    const sync = `infogere_sync_${++this.seq}`;
    return new Promise<void>((resolve, reject) => {
      ref(child, true);
      const done = (e?: Error) => {
        ref(child, false);
        this.idle = setTimeout(() => this.close(), IDLE_MS);
        this.idle.unref();
        if (e) reject(e);
        else resolve();
      };
      const timer = setTimeout(() => {
        this.pending = null;
        this.close();
        done(this.error(`no answer from nft in ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      this.pending = { sync, resolve: () => done(), reject: (e) => done(e), timer };
      child.stdin.write(`${line}\n${sync}\n`);
    });
  }

  /** Settles the pending batch once the echo of its sync line (and its caret line) arrived. */
  private check(): void {
    const p = this.pending;
    if (!p) return;
    const at = this.stderr.indexOf(`\n${p.sync}\n`);
    if (at < 0) return;
    const caretEnd = this.stderr.indexOf('\n', at + p.sync.length + 2);
    if (caretEnd < 0) return;
    // The line before the echo is nft's "Error: syntax error…" about the sync line itself.
    const errorLine = this.stderr.lastIndexOf('Error:', at);
    const own = this.stderr.slice(0, Math.max(0, errorLine)).trim();
    this.stderr = this.stderr.slice(caretEnd + 1);
    this.pending = null;
    clearTimeout(p.timer);
    if (own) p.reject(this.error(own));
    else p.resolve();
  }
}

function ref(child: ChildProcessWithoutNullStreams, on: boolean): void {
  for (const x of [child, child.stdin, child.stdout, child.stderr] as unknown as {
    ref?: () => void;
    unref?: () => void;
  }[])
    if (on) x.ref?.();
    else x.unref?.();
}
