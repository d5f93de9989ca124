// Syslog framing for the log store (R6.2): RFC 5425 octet counting over TLS ("MSG-LEN SP
// SYSLOG-MSG"), and a message check (RFC 5424 "<PRI>1 " header, or the older RFC 3164 "<PRI>"
// that busybox syslogd sends). Pure: bytes in, messages and counted errors out.

/** Larger frames are malformed (RFC 5425 asks receivers for 2048, allows 8192; we take 64 KiB). */
export const MAX_FRAME = 64 * 1024;

export type FrameError = 'bad_length' | 'too_large' | 'bad_message';

/** True when `msg` starts with a valid PRI (0–191), as RFC 5424 and RFC 3164 both do. */
export function isSyslogMessage(msg: Uint8Array): boolean {
  if (msg.length < 4 || msg[0] !== 0x3c) return false; // '<'
  let i = 1;
  let pri = 0;
  while (i < msg.length && i <= 4 && msg[i]! >= 0x30 && msg[i]! <= 0x39) {
    pri = pri * 10 + (msg[i]! - 0x30);
    i++;
  }
  if (i === 1 || i > 4 || msg[i] !== 0x3e) return false; // '>'
  if (i > 2 && msg[1] === 0x30) return false; // no leading zero
  return pri <= 191;
}

/**
 * An octet-counting frame reader: feed it chunks as they come, it returns whole messages and
 * counts errors. After a bad length the stream cannot be resynchronised (RFC 5425): `broken`
 * is set and the connection should be closed.
 */
export class OctetCountingReader {
  #buf: Uint8Array = new Uint8Array(0);
  broken: FrameError | null = null;
  readonly errors: Record<FrameError, number> = { bad_length: 0, too_large: 0, bad_message: 0 };

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.broken) return [];
    const buf = this.#buf.length ? concat(this.#buf, chunk) : chunk;
    const out: Uint8Array[] = [];
    let pos = 0;
    for (;;) {
      let sp = -1;
      for (let i = pos; i < buf.length && i - pos <= 6; i++)
        if (buf[i] === 0x20) {
          sp = i;
          break;
        }
      if (sp < 0) {
        if (buf.length - pos > 6) return this.#fail('bad_length', out);
        break;
      }
      let len = 0;
      for (let i = pos; i < sp; i++) {
        const c = buf[i]!;
        if (c < 0x30 || c > 0x39 || (i === pos && c === 0x30)) return this.#fail('bad_length', out);
        len = len * 10 + (c - 0x30);
      }
      if (sp === pos) return this.#fail('bad_length', out);
      if (len > MAX_FRAME) return this.#fail('too_large', out);
      if (buf.length < sp + 1 + len) break;
      const msg = buf.subarray(sp + 1, sp + 1 + len);
      pos = sp + 1 + len;
      if (isSyslogMessage(msg)) out.push(msg);
      else this.errors.bad_message++;
    }
    this.#buf = pos < buf.length ? buf.slice(pos) : new Uint8Array(0);
    return out;
  }

  /** Breaks the stream; the messages whole before the bad frame are still handed over. */
  #fail(e: FrameError, out: Uint8Array[]): Uint8Array[] {
    this.errors[e]++;
    this.broken = e;
    this.#buf = new Uint8Array(0);
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const r = new Uint8Array(a.length + b.length);
  r.set(a, 0);
  r.set(b, a.length);
  return r;
}

/** Frames a message for sending (tests, the benchmark). */
export function octetFrame(msg: string): string {
  return `${new TextEncoder().encode(msg).length} ${msg}`;
}

/** The UTC day (YYYY-MM-DD) of an instant: a segment holds what arrived that day. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The day after `day` (YYYY-MM-DD). */
export function nextDay(day: string): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000));
}

/** The hash chaining a sealed segment to the previous one of its VPS: sha256 input, in order. */
export function segmentChainInput(prev: string, vpsId: string, day: string, fileSha256: string): string {
  return `${prev}\n${vpsId}\n${day}\n${fileSha256}`;
}
