// A real SMTP server for tests (the `smtp-server` package) on 127.0.0.1, port chosen by the
// system: it keeps every message it accepts, decoded enough to check subject, text, HTML,
// language and Message-ID. `refuse` makes it answer RCPT TO with an error (temporary by
// default); `stop`/`start` take it down and bring it back on the same port.
import { once } from 'node:events';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  raw: string;
  headers: Record<string, string>;
  messageId: string;
  subject: string;
  from: string;
  to: string[];
  language: string | undefined;
  text: string;
  html: string | undefined;
}

export interface TestSmtp {
  readonly port: number;
  readonly url: string;
  readonly received: ReceivedMail[];
  /** RCPT TO answered with this error ("451 …" by default) until set back to null. */
  refuse: { code: number; message: string } | null;
  stop(): Promise<void>;
  start(): Promise<void>;
}

function decodeWords(s: string): string {
  // RFC 2047 encoded words (=?UTF-8?Q?…?= and =?UTF-8?B?…?=); adjacent words join without space.
  return s
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _cs: string, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : Buffer.from(
            data
              .replace(/_/g, ' ')
              .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}

function parseHeaders(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split(/\r\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

function decodeBody(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable')
    return Buffer.from(
      body
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  return body;
}

function splitPart(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  return at < 0
    ? { headers: parseHeaders(raw), body: '' }
    : { headers: parseHeaders(raw.slice(0, at)), body: raw.slice(at + 4) };
}

/** Text and HTML of a message (single part or multipart/alternative or mixed). */
function bodies(part: { headers: Record<string, string>; body: string }): { text?: string; html?: string } {
  const type = part.headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.toLowerCase().startsWith('multipart/') && boundary) {
    const out: { text?: string; html?: string } = {};
    for (const chunk of part.body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      const sub = bodies(splitPart(chunk.replace(/^\r\n/, '').replace(/\r\n$/, '')));
      out.text ??= sub.text;
      out.html ??= sub.html;
    }
    return out;
  }
  const text = decodeBody(part.body, part.headers['content-transfer-encoding']).replace(/\r\n/g, '\n');
  return type.toLowerCase().startsWith('text/html') ? { html: text } : { text };
}

export function parseMail(raw: string, to: string[] = []): ReceivedMail {
  const top = splitPart(raw);
  const b = bodies(top);
  return {
    raw,
    headers: top.headers,
    messageId: top.headers['message-id'] ?? '',
    subject: decodeWords(top.headers.subject ?? ''),
    from: decodeWords(top.headers.from ?? ''),
    to,
    language: top.headers['content-language'],
    text: b.text ?? '',
    html: b.html,
  };
}

export async function startTestSmtp(): Promise<TestSmtp> {
  const received: ReceivedMail[] = [];
  let server: SMTPServer | undefined;
  let port = 0;
  const state: TestSmtp = {
    get port() {
      return port;
    },
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    received,
    refuse: null,
    async stop() {
      if (!server) return;
      const s = server;
      server = undefined;
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async start() {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        logger: false,
        onRcptTo(_addr, _session, cb) {
          if (state.refuse) {
            const e = new Error(state.refuse.message) as Error & { responseCode: number };
            e.responseCode = state.refuse.code;
            return cb(e);
          }
          cb();
        },
        onData(stream, session, cb) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            received.push(
              parseMail(
                Buffer.concat(chunks).toString('utf8'),
                session.envelope.rcptTo.map((r) => r.address),
              ),
            );
            cb(null, 'Queued as test');
          });
        },
      });
      server.listen(port, '127.0.0.1');
      await once(server.server, 'listening');
      port = (server.server.address() as { port: number }).port;
    },
  };
  await state.start();
  return state;
}
