// QMP client over a unix socket: greeting, qmp_capabilities handshake, one command in flight at
// a time with its id checked, a timeout per command (a table with a short default), events
// emitted, clean close. A late answer to a timed-out command is recognised by its id and dropped.
// A message longer than the cap (default 1 MiB, far above any answer the driver asks for) fails
// the command in flight and closes the connection: nothing here grows without bound, and the
// driver reconnects (a new connection is the only way back into step with QMP's stream).
import net from 'node:net';
import { EventEmitter } from 'node:events';

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  /** Seconds/microseconds as QEMU sends them. */
  timestamp: { seconds: number; microseconds: number } | undefined;
}

/** Per-command timeouts (ms). Anything not listed gets `default`. */
export const qmpTimeouts: Readonly<Record<string, number>> = Object.freeze({
  default: 3_000,
  qmp_capabilities: 3_000,
  'query-status': 2_000,
  'query-version': 2_000,
  system_powerdown: 2_000,
  system_reset: 2_000,
  quit: 3_000,
  stop: 3_000,
  cont: 3_000,
  'qom-set': 2_000,
  'qom-get': 2_000,
  balloon: 3_000,
  block_resize: 30_000,
  'human-monitor-command': 10_000,
});

export class QmpError extends Error {
  readonly command: string;
  readonly timedOut: boolean;
  /** QEMU's error class (GenericError, CommandNotFound, DeviceNotFound...) or a protocol kind. */
  readonly errorClass: string;
  constructor(command: string, errorClass: string, message: string, timedOut = false) {
    super(`QMP ${command}: ${message}`);
    this.name = 'QmpError';
    this.command = command;
    this.errorClass = errorClass;
    this.timedOut = timedOut;
  }
}

interface Pending {
  id: string;
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Queued {
  command: string;
  args: Record<string, unknown> | undefined;
  timeoutMs: number;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export const DEFAULT_QMP_MAX_MESSAGE_BYTES = 1024 * 1024;

export interface QmpConnectOptions {
  /** Time to get the greeting and finish the handshake. */
  timeoutMs?: number;
  /** Override the per-command table (tests). */
  timeouts?: Record<string, number>;
  /** Longest message accepted, bytes (default 1 MiB). */
  maxMessageBytes?: number;
}

/**
 * Events: 'event' (QmpEvent), 'close' (hadError: boolean) once the connection is gone,
 * 'protocol_error' (Error) when QEMU sends something we cannot match.
 */
export class QmpClient extends EventEmitter {
  readonly path: string;
  greeting: Record<string, unknown> | null = null;
  #socket: net.Socket;
  #buf: Buffer = Buffer.alloc(0);
  #maxBytes: number;
  #inflight: Pending | null = null;
  #queue: Queued[] = [];
  #abandoned = new Set<string>();
  #seq = 0;
  #prefix = `c${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}-`;
  #closed = false;
  #timeouts: Record<string, number>;
  #greetingWaiter: ((g: Record<string, unknown>) => void) | null = null;

  private constructor(path: string, socket: net.Socket, timeouts: Record<string, number>, maxBytes: number) {
    super();
    this.path = path;
    this.#socket = socket;
    this.#timeouts = timeouts;
    this.#maxBytes = maxBytes;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {
      /* 'close' follows */
    });
    socket.on('close', (hadError: boolean) => this.#onClose(hadError));
  }

  /** Connects, reads the greeting and negotiates capabilities. */
  static async connect(path: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? 5_000;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection({ path });
      const t = setTimeout(() => {
        s.destroy();
        reject(new QmpError('connect', 'Timeout', `no connection to ${path} within ${timeoutMs} ms`, true));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(new QmpError('connect', 'ConnectFailed', `${path}: ${e.message}`));
      });
    });
    const c = new QmpClient(
      path,
      socket,
      { ...qmpTimeouts, ...opts.timeouts },
      opts.maxMessageBytes ?? DEFAULT_QMP_MAX_MESSAGE_BYTES,
    );
    try {
      c.greeting = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new QmpError('greeting', 'Timeout', `no greeting within ${timeoutMs} ms`, true)),
          timeoutMs,
        );
        c.#greetingWaiter = (g) => {
          clearTimeout(t);
          resolve(g);
        };
        c.once('close', () => {
          clearTimeout(t);
          reject(new QmpError('greeting', 'Closed', 'connection closed before the greeting'));
        });
      });
      await c.execute('qmp_capabilities');
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  get closed(): boolean {
    return this.#closed;
  }

  timeoutFor(command: string): number {
    return this.#timeouts[command] ?? this.#timeouts.default ?? 3_000;
  }

  /** Runs one command; rejects with a QmpError (QEMU's error, timeout, id mismatch, closed). */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    opts: { timeoutMs?: number } = {},
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new QmpError(command, 'Closed', 'connection closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        command,
        args,
        timeoutMs: opts.timeoutMs ?? this.timeoutFor(command),
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.#pump();
    });
  }

  /** Closes the connection; pending commands fail with `Closed`. QEMU keeps running. */
  close(): void {
    if (this.#closed) return;
    this.#socket.end();
    this.#socket.destroy();
    this.#onClose(false);
  }

  #pump(): void {
    if (this.#inflight || this.#closed) return;
    const q = this.#queue.shift();
    if (!q) return;
    const id = `${this.#prefix}${++this.#seq}`;
    const timer = setTimeout(() => {
      if (this.#inflight?.id !== id) return;
      this.#inflight = null;
      this.#abandoned.add(id);
      q.reject(new QmpError(q.command, 'Timeout', `no answer within ${q.timeoutMs} ms`, true));
      this.#pump();
    }, q.timeoutMs);
    this.#inflight = { id, command: q.command, resolve: q.resolve, reject: q.reject, timer };
    const msg: Record<string, unknown> = { execute: q.command, id };
    if (q.args) msg.arguments = q.args;
    this.#socket.write(JSON.stringify(msg) + '\n');
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    let nl: number;
    while ((nl = this.#buf.indexOf(0x0a)) >= 0) {
      if (nl > this.#maxBytes) break;
      const line = this.#buf.subarray(0, nl).toString('utf8').trim();
      this.#buf = this.#buf.subarray(nl + 1);
      if (line) this.#onMessage(line);
      if (this.#closed) return;
    }
    const pending = nl >= 0 ? nl : this.#buf.length;
    if (pending > this.#maxBytes) {
      this.#buf = Buffer.alloc(0);
      this.#fail(
        'TooLarge',
        `a message from QEMU exceeds ${this.#maxBytes} bytes: dropped, connection closed (a new one resyncs)`,
      );
    }
  }

  #onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.#protocolError(`unparsable message: ${line.slice(0, 200)}`);
      return;
    }
    if ('QMP' in msg) {
      this.#greetingWaiter?.(msg.QMP as Record<string, unknown>);
      this.#greetingWaiter = null;
      return;
    }
    if (typeof msg.event === 'string') {
      this.emit('event', {
        event: msg.event,
        data: (msg.data as Record<string, unknown>) ?? {},
        timestamp: msg.timestamp as QmpEvent['timestamp'],
      } satisfies QmpEvent);
      return;
    }
    if ('return' in msg || 'error' in msg) {
      const id = typeof msg.id === 'string' ? msg.id : JSON.stringify(msg.id);
      if (this.#abandoned.delete(id)) return; // late answer to a command that timed out
      const p = this.#inflight;
      if (!p || p.id !== id) {
        // An answer we did not ask for: the stream cannot be trusted any more.
        this.#protocolError(
          `answer with id ${id} while ${p ? `waiting for ${p.id} (${p.command})` : 'nothing was asked'}`,
        );
        return;
      }
      clearTimeout(p.timer);
      this.#inflight = null;
      if ('error' in msg) {
        const err = (msg.error ?? {}) as { class?: string; desc?: string };
        p.reject(new QmpError(p.command, err.class ?? 'GenericError', err.desc ?? 'error'));
      } else {
        p.resolve(msg.return);
      }
      this.#pump();
      return;
    }
    this.#protocolError(`unexpected message: ${line.slice(0, 200)}`);
  }

  #protocolError(message: string): void {
    this.#fail('ProtocolError', message);
  }

  /** The stream cannot be trusted any more: the command in flight fails, the connection closes. */
  #fail(errorClass: string, message: string): void {
    const p = this.#inflight;
    const err = new QmpError(p?.command ?? 'none', errorClass, message);
    if (p) {
      clearTimeout(p.timer);
      this.#inflight = null;
      p.reject(err);
    }
    if (this.listenerCount('protocol_error') > 0) this.emit('protocol_error', err);
    this.close();
  }

  #onClose(hadError: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    const p = this.#inflight;
    this.#inflight = null;
    if (p) {
      clearTimeout(p.timer);
      p.reject(new QmpError(p.command, 'Closed', 'connection closed before the answer'));
    }
    for (const q of this.#queue.splice(0)) q.reject(new QmpError(q.command, 'Closed', 'connection closed'));
    this.emit('close', hadError);
  }
}
