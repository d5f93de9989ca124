// Client for the QEMU guest agent (qemu-ga) on its virtio-serial channel, seen on the host as a
// unix socket served by QEMU. The channel has no framing of its own and may hold stale bytes
// (answers to requests made before a timeout, or sent while no agent listened), so every command
// is preceded by `guest-sync-delimited` with a random id: bytes are skipped up to the 0xFF
// delimiter the agent puts before that answer, and answers with other ids are dropped.
// The channel is the guest's to write: root in the guest can send bytes without end. What is
// held from it is capped (default 8 MiB, room for guest-exec output of a few MiB in base64):
// past the cap the bytes are dropped, the call waiting fails with `TooLarge` and the
// connection is cut; the next call reconnects and resyncs with guest-sync-delimited.
import net from 'node:net';
import { randomInt } from 'node:crypto';

export class GuestAgentError extends Error {
  readonly command: string;
  readonly timedOut: boolean;
  readonly errorClass: string;
  constructor(command: string, errorClass: string, message: string, timedOut = false) {
    super(`guest agent ${command}: ${message}`);
    this.name = 'GuestAgentError';
    this.command = command;
    this.errorClass = errorClass;
    this.timedOut = timedOut;
  }
}

export const guestAgentTimeouts: Readonly<Record<string, number>> = Object.freeze({
  default: 5_000,
  'guest-sync-delimited': 1_500,
  'guest-ping': 2_000,
  'guest-exec': 5_000,
  'guest-exec-status': 3_000,
  'guest-get-fsinfo': 10_000,
  'guest-fsfreeze-freeze': 60_000,
  'guest-fsfreeze-thaw': 30_000,
  'guest-fsfreeze-status': 3_000,
});

/** Commands whose success has no answer (the agent or the guest goes away). */
const noResponseCommands = new Set([
  'guest-shutdown',
  'guest-suspend-disk',
  'guest-suspend-ram',
  'guest-suspend-hybrid',
]);

export const DEFAULT_GUEST_AGENT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export interface ExecOutcome {
  exitCode: number;
  signal: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
}

export class GuestAgentClient {
  readonly path: string;
  #socket: net.Socket | null = null;
  #buf: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | null = null;
  #closed = false;
  #eof = false;
  #chain: Promise<unknown> = Promise.resolve();
  #timeouts: Record<string, number>;
  #maxBytes: number;
  /** The cap was hit on the current connection: the call waiting fails. */
  #overflow = false;

  constructor(path: string, opts: { timeouts?: Record<string, number>; maxMessageBytes?: number } = {}) {
    this.path = path;
    this.#timeouts = { ...guestAgentTimeouts, ...opts.timeouts };
    this.#maxBytes = opts.maxMessageBytes ?? DEFAULT_GUEST_AGENT_MAX_MESSAGE_BYTES;
  }

  /** Bytes received and not yet consumed (never more than the cap). */
  get buffered(): number {
    return this.#buf.length;
  }

  timeoutFor(command: string): number {
    return this.#timeouts[command] ?? this.#timeouts.default ?? 5_000;
  }

  /** Runs one command (serialised with the others); connects on first use. */
  execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    opts: { timeoutMs?: number; syncTimeoutMs?: number } = {},
  ): Promise<T> {
    const run = this.#chain.then(() => this.#execute<T>(command, args, opts));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** True when the agent answers a sync within `timeoutMs`. */
  async ping(timeoutMs = 1_500): Promise<boolean> {
    try {
      await this.execute('guest-ping', undefined, { timeoutMs, syncTimeoutMs: timeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  /** guest-exec with argv (never a shell string), polling guest-exec-status; output base64-decoded. */
  async exec(
    argv: string[],
    opts: { timeoutMs?: number; input?: string; pollMs?: number } = {},
  ): Promise<ExecOutcome> {
    if (argv.length === 0 || !argv[0])
      throw new GuestAgentError('guest-exec', 'InvalidArgument', 'empty argv');
    const args: Record<string, unknown> = { path: argv[0], arg: argv.slice(1), 'capture-output': true };
    if (opts.input !== undefined) args['input-data'] = Buffer.from(opts.input).toString('base64');
    const { pid } = await this.execute<{ pid: number }>('guest-exec', args);
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    let poll = opts.pollMs ?? 50;
    for (;;) {
      const st = await this.execute<{
        exited: boolean;
        exitcode?: number;
        signal?: number;
        'out-data'?: string;
        'err-data'?: string;
        'out-truncated'?: boolean;
        'err-truncated'?: boolean;
      }>('guest-exec-status', { pid });
      if (st.exited) {
        return {
          exitCode: st.exitcode ?? (st.signal !== undefined ? 128 + st.signal : -1),
          signal: st.signal ?? null,
          stdout: Buffer.from(st['out-data'] ?? '', 'base64').toString('utf8'),
          stderr: Buffer.from(st['err-data'] ?? '', 'base64').toString('utf8'),
          timedOut: false,
          truncated: Boolean(st['out-truncated'] || st['err-truncated']),
        };
      }
      if (Date.now() >= deadline) {
        // Best effort: stop the command in the guest (qemu-ga has no kill of its own).
        await this.execute('guest-exec', { path: 'kill', arg: ['-9', String(pid)] }).catch(() => undefined);
        return { exitCode: -1, signal: 9, stdout: '', stderr: '', timedOut: true, truncated: false };
      }
      await new Promise((r) => setTimeout(r, poll));
      poll = Math.min(poll * 2, 500);
    }
  }

  close(): void {
    this.#closed = true;
    this.#eof = true;
    this.#socket?.destroy();
    this.#socket = null;
    this.#wake();
  }

  async #ensureSocket(timeoutMs: number): Promise<net.Socket> {
    if (this.#closed) throw new GuestAgentError('connect', 'Closed', 'client closed');
    if (this.#socket && !this.#eof) return this.#socket;
    this.#socket?.destroy();
    this.#socket = null;
    this.#buf = Buffer.alloc(0);
    this.#eof = false;
    this.#overflow = false;
    const s = await new Promise<net.Socket>((resolve, reject) => {
      const sock = net.createConnection({ path: this.path });
      const t = setTimeout(() => {
        sock.destroy();
        reject(new GuestAgentError('connect', 'Timeout', `no connection to ${this.path}`, true));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(t);
        resolve(sock);
      });
      sock.once('error', (e) => {
        clearTimeout(t);
        reject(new GuestAgentError('connect', 'ConnectFailed', e.message));
      });
    });
    s.on('data', (d: Buffer) => {
      if (this.#socket !== s) return;
      if (this.#buf.length + d.length > this.#maxBytes) {
        // More than any answer may hold: drop it and cut the connection (resync on the next call).
        this.#buf = Buffer.alloc(0);
        this.#overflow = true;
        this.#eof = true;
        s.destroy();
        this.#wake();
        return;
      }
      this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d;
      this.#wake();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.#socket !== s) return; // an older connection, replaced
      this.#eof = true;
      this.#wake();
    });
    this.#socket = s;
    return s;
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  #tooLarge(command: string): GuestAgentError {
    this.#overflow = false;
    return new GuestAgentError(
      command,
      'TooLarge',
      `the guest sent more than ${this.#maxBytes} bytes without ending its message: dropped, connection cut (the next command resyncs)`,
    );
  }

  /** Waits for more bytes, EOF or the deadline; false on deadline. */
  #waitData(deadline: number): Promise<boolean> {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#waiter = null;
        resolve(false);
      }, left);
      this.#waiter = () => {
        clearTimeout(t);
        resolve(true);
      };
    });
  }

  async #sync(timeoutMs: number): Promise<void> {
    const sock = await this.#ensureSocket(timeoutMs);
    const id = randomInt(1, 2 ** 47);
    this.#buf = Buffer.alloc(0);
    // A 0xFF first resets a half-received request in the agent's parser.
    sock.write(Buffer.from([0xff]));
    sock.write(JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } }) + '\n');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ff = this.#buf.indexOf(0xff);
      if (ff >= 0) {
        const nl = this.#buf.indexOf(0x0a, ff);
        if (nl >= 0) {
          const line = this.#buf
            .subarray(ff + 1, nl)
            .toString('utf8')
            .trim();
          this.#buf = this.#buf.subarray(nl + 1);
          try {
            const msg = JSON.parse(line) as { return?: unknown };
            if (msg.return === id) return;
          } catch {
            /* garbage: keep looking for the next delimiter */
          }
          continue;
        }
      } else if (this.#buf.length > 0) {
        this.#buf = Buffer.alloc(0); // nothing before a delimiter is ours
      }
      if (this.#overflow) throw this.#tooLarge('guest-sync-delimited');
      if (this.#eof) throw new GuestAgentError('guest-sync-delimited', 'Closed', 'channel closed');
      if (!(await this.#waitData(deadline)))
        throw new GuestAgentError(
          'guest-sync-delimited',
          'Timeout',
          `guest agent did not answer within ${timeoutMs} ms`,
          true,
        );
    }
  }

  async #execute<T>(
    command: string,
    args: Record<string, unknown> | undefined,
    opts: { timeoutMs?: number; syncTimeoutMs?: number },
  ): Promise<T> {
    await this.#sync(opts.syncTimeoutMs ?? this.timeoutFor('guest-sync-delimited'));
    const sock = this.#socket;
    if (!sock) throw new GuestAgentError(command, 'Closed', 'not connected');
    const reqId = `r${randomInt(1, 2 ** 47)}`;
    const msg: Record<string, unknown> = { execute: command, id: reqId };
    if (args) msg.arguments = args;
    sock.write(JSON.stringify(msg) + '\n');
    const timeoutMs = opts.timeoutMs ?? this.timeoutFor(command);
    const noResponse = noResponseCommands.has(command);
    // A command that ends the agent answers only on failure: a short wait for an error, then success.
    const deadline = Date.now() + (noResponse ? Math.min(timeoutMs, 1_000) : timeoutMs);
    for (;;) {
      const nl = this.#buf.indexOf(0x0a);
      if (nl >= 0) {
        const raw = this.#buf.subarray(0, nl).toString('utf8');
        this.#buf = this.#buf.subarray(nl + 1);
        const line = raw
          .replace(/^\xff/, '')
          .replace(/\uFFFD/g, '')
          .trim();
        if (!line) continue;
        let res: { return?: unknown; error?: { class?: string; desc?: string }; id?: unknown };
        try {
          res = JSON.parse(line) as typeof res;
        } catch {
          continue;
        }
        if (res.id !== undefined && res.id !== reqId) continue;
        if (res.error)
          throw new GuestAgentError(command, res.error.class ?? 'GenericError', res.error.desc ?? 'error');
        return res.return as T;
      }
      if (this.#overflow) throw this.#tooLarge(command);
      if (this.#eof) {
        if (noResponse) return undefined as T; // the channel closed: the guest is going down
        throw new GuestAgentError(command, 'Closed', 'channel closed before the answer');
      }
      if (!(await this.#waitData(deadline))) {
        if (noResponse) return undefined as T;
        throw new GuestAgentError(command, 'Timeout', `no answer within ${timeoutMs} ms`, true);
      }
    }
  }
}
