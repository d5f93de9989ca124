// The serial console, bounded: QEMU serves it on a socket (the agent created it, QEMU got its
// descriptor), the agent reads it into `console.log` and, when the next bytes would take the
// file past its cap, renames it to `console.log.1` (replacing the older one) and starts a new
// one. So a guest printing without end costs the host at most two caps of disk. Reading is
// paused while a write is in progress: a guest faster than the disk is slowed down (QEMU's
// serial port waits, then drops), never buffered here.
import { constants as fsc } from 'node:fs';
import net from 'node:net';
import { open, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

export const DEFAULT_CONSOLE_LOG_BYTES = 1024 * 1024;

const APPEND = fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT | fsc.O_NOFOLLOW;

export interface ConsoleRecorderOptions {
  /** The console socket (QEMU listens on it). */
  socket: string;
  /** The log file; its previous part is `<file>.1`. */
  file: string;
  /** Cap of each file, bytes. */
  maxBytes: number;
  /** After a rotation (the console of this boot now spans both files). */
  onRotate?: () => void;
}

export class ConsoleRecorder {
  readonly opts: ConsoleRecorderOptions;
  #socket: net.Socket | null = null;
  #fh: FileHandle | null = null;
  #size = 0;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #ended: Promise<void>;
  #end!: () => void;

  private constructor(opts: ConsoleRecorderOptions) {
    if (!Number.isInteger(opts.maxBytes) || opts.maxBytes < 1)
      throw new Error(`console log cap ${opts.maxBytes}: a whole number of bytes, at least 1`);
    this.opts = opts;
    this.#ended = new Promise((r) => (this.#end = r));
  }

  /**
   * Connects and records until the socket closes (QEMU ended) or close() is called. A socket
   * that is not there (a QEMU started before consoles were recorded) ends it at once.
   */
  static start(opts: ConsoleRecorderOptions): ConsoleRecorder {
    const r = new ConsoleRecorder(opts);
    const s = net.createConnection({ path: opts.socket });
    r.#socket = s;
    s.on('data', (d: Buffer) => {
      s.pause();
      r.#chain = r.#chain
        .then(() => r.#write(d))
        .catch((e: unknown) => {
          process.emitWarning(`infogere agent: console log ${opts.file}: ${(e as Error).message}`);
        })
        .finally(() => {
          if (!r.#closed) s.resume();
        });
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      r.#closed = true;
      void r.#chain.finally(async () => {
        await r.#fh?.close().catch(() => undefined);
        r.#fh = null;
        r.#end();
      });
    });
    return r;
  }

  /** Resolves once the recorder has stopped and its file is closed. */
  get ended(): Promise<void> {
    return this.#ended;
  }

  /** Stops recording (QEMU keeps its end: a later agent connects again). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#socket?.destroy();
    await this.#ended;
  }

  /**
   * Appends as if byte by byte into files of `maxBytes`: file boundaries fall at the same
   * places in the stream however it was cut into chunks. Whole files that would be rotated
   * past console.log.1 before the chunk ends are skipped, not written.
   */
  async #write(chunk: Buffer): Promise<void> {
    const max = this.opts.maxBytes;
    if (!this.#fh) {
      this.#fh = await open(this.opts.file, APPEND, 0o600);
      this.#size = (await this.#fh.stat()).size;
    }
    let data = chunk;
    while (data.length > 0) {
      if (this.#size >= max) await this.#rotate();
      const space = max - this.#size;
      const newFiles = Math.ceil((data.length - space) / max);
      if (newFiles >= 2) {
        // Only the last two files survive: skip to the start of the next-to-last one.
        data = data.subarray(space + (newFiles - 2) * max);
        this.#size = max;
        continue;
      }
      const take = Math.min(space, data.length);
      await this.#fh!.write(data.subarray(0, take));
      this.#size += take;
      data = data.subarray(take);
    }
  }

  async #rotate(): Promise<void> {
    await this.#fh?.close();
    this.#fh = null;
    await rename(this.opts.file, `${this.opts.file}.1`);
    this.#fh = await open(this.opts.file, APPEND, 0o600);
    this.#size = 0;
    this.opts.onRotate?.();
  }
}
