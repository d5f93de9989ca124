// Readable log lines for a person at a terminal (`make up`): pino writes one JSON object per
// line; this turns each into one line of text — `12:03:04.120 GET /v1/vps 200 3.1 ms` for a
// request, `12:03:04.120 INFO  infogere is up url=…` for anything else, an error's stack
// indented below it. Not a terminal: the JSON lines are kept as they are (log collectors).
// What pino already redacted (REDACTED_PATHS) stays redacted: this only reformats its output.

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

const COLORS = { dim: 2, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36 } as const;
type Color = keyof typeof COLORS;

/** Fields shown in the line itself, or of no use to a person (pid, hostname). */
const HIDDEN = new Set([
  'time',
  'level',
  'msg',
  'pid',
  'hostname',
  'reqId',
  'req',
  'res',
  'responseTime',
  'err',
]);

export interface PrettyOptions {
  /** ANSI colours (a terminal without NO_COLOR). */
  color: boolean;
}

/** One pino JSON line → one readable line (ending with a newline). Not JSON: returned unchanged. */
export function prettyLine(json: string, opts: PrettyOptions): string {
  let o: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return json;
    o = parsed as Record<string, unknown>;
  } catch {
    return json;
  }
  const paint = (c: Color, s: string) => (opts.color ? `\u001b[${COLORS[c]}m${s}\u001b[0m` : s);
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '--:--:--.---';
  const level = typeof o.level === 'number' ? o.level : 30;
  const req = o.req as { method?: unknown; url?: unknown } | undefined;
  const res = o.res as { statusCode?: unknown } | undefined;
  let line: string;
  if (req && res && typeof res.statusCode === 'number') {
    // One line per request: method, path (query already omitted by requestForLog), status, ms.
    const status = res.statusCode;
    const statusColor: Color =
      status >= 500 ? 'red' : status >= 400 ? 'yellow' : status >= 300 ? 'cyan' : 'green';
    const ms = typeof o.responseTime === 'number' ? `${o.responseTime.toFixed(1)} ms` : '';
    line = [paint('dim', time), String(req.method), String(req.url), paint(statusColor, String(status)), ms]
      .filter(Boolean)
      .join(' ');
  } else {
    const name = LEVELS[level] ?? String(level);
    const levelColor: Color =
      level >= 50 ? 'red' : level >= 40 ? 'yellow' : level >= 30 ? 'green' : level >= 20 ? 'blue' : 'dim';
    line = `${paint('dim', time)} ${paint(levelColor, name.padEnd(5))} ${typeof o.msg === 'string' ? o.msg : ''}`;
  }
  const extras = Object.entries(o)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${showValue(v)}`);
  if (extras.length) line += ' ' + paint('dim', extras.join(' '));
  const err = o.err as { message?: unknown; stack?: unknown } | undefined;
  if (err && typeof err === 'object') {
    const text = typeof err.stack === 'string' ? err.stack : String(err.message);
    line +=
      '\n' +
      text
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n');
  }
  return line + '\n';
}

function showValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

/** A pino destination writing readable lines to `out` (process.stdout by default). */
export function prettyDestination(
  opts: PrettyOptions,
  out: { write(s: string): unknown } = process.stdout,
): { write(s: string): void } {
  return {
    write(s: string) {
      out.write(prettyLine(s, opts));
    },
  };
}

/** INFOGERE_LOG_FORMAT: `auto` is pretty on a terminal, JSON otherwise. */
export function wantsPretty(format: string, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && stdout.isTTY === true);
}
