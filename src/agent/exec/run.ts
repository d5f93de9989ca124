// The only way the agent runs programs: execFile with an argv array, never a shell string.
import { execFile, spawn } from 'node:child_process';

export class CommandError extends Error {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  constructor(p: {
    argv: readonly string[];
    exitCode: number | null;
    signal: string | null;
    stdout: string;
    stderr: string;
    timedOut: boolean;
  }) {
    const why = p.timedOut ? 'timed out' : p.signal ? `killed by ${p.signal}` : `exited ${p.exitCode}`;
    super(`${p.argv.join(' ')} ${why}: ${p.stderr.trim().slice(0, 500)}`);
    this.name = 'CommandError';
    this.argv = p.argv;
    this.exitCode = p.exitCode;
    this.signal = p.signal;
    this.stdout = p.stdout;
    this.stderr = p.stderr;
    this.timedOut = p.timedOut;
  }
}

export interface RunOptions {
  timeoutMs?: number;
  /** Written to the program's standard input. */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Exit codes that are not failures (default: [0]). */
  okCodes?: number[];
  /** Run as this user and group (supplementary groups dropped): confined programs (QEMU's probe). */
  uid?: number;
  gid?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs argv[0] with argv[1..]; rejects with a CommandError unless the exit code is allowed. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run: empty argv');
  const okCodes = opts.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 64 * 1024 * 1024,
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        encoding: 'utf8',
        ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
        ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
      },
      (err, stdout, stderr) => {
        const e = err as
          (NodeJS.ErrnoException & { code?: unknown; killed?: boolean; signal?: string }) | null;
        const exitCode = e ? (typeof e.code === 'number' ? e.code : null) : 0;
        if (e && typeof e.code === 'string') {
          // spawn failure (ENOENT...): no exit code at all
          reject(
            new CommandError({
              argv,
              exitCode: null,
              signal: null,
              stdout,
              stderr: `${e.code}: ${e.message}`,
              timedOut: false,
            }),
          );
          return;
        }
        if (exitCode !== null && okCodes.includes(exitCode)) {
          resolve({ stdout, stderr, exitCode });
          return;
        }
        reject(
          new CommandError({
            argv,
            exitCode,
            signal: e?.signal ?? null,
            stdout,
            stderr,
            timedOut: Boolean(e?.killed && e?.signal === 'SIGTERM' && opts.timeoutMs !== undefined),
          }),
        );
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

export interface DetachedOptions {
  cwd?: string;
  /** The program's stdout and stderr (default: ignored). */
  logFile?: number;
  /** Open descriptors of ours the program gets as its fds 3, 4… ('ignore': that number stays closed). */
  fds?: readonly (number | 'ignore')[];
}

/** Starts a long-running program detached from our process group (QEMU, iperf3 servers...). */
export function startDetached(argv: readonly string[], opts: DetachedOptions = {}) {
  const [file, ...args] = argv;
  if (!file) throw new Error('startDetached: empty argv');
  const out = opts.logFile ?? 'ignore';
  const child = spawn(file, args, {
    detached: true,
    stdio: ['ignore', out, out, ...(opts.fds ?? [])],
    cwd: opts.cwd,
  });
  child.unref();
  return child;
}

/**
 * Starts a long-lived program with piped stdin/stdout/stderr (a session we talk to line by
 * line: `nft -i`). Unreferenced: it never keeps our process alive, and it sees EOF on its
 * stdin when we exit.
 */
export function startPiped(argv: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  const [file, ...args] = argv;
  if (!file) throw new Error('startPiped: empty argv');
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr])
    (s as unknown as { unref?: () => void } | null)?.unref?.();
  return child;
}

export interface StreamOptions {
  env?: NodeJS.ProcessEnv;
  /** Piped into the program's standard input (then closed); none: stdin closed at once. */
  stdin?: NodeJS.ReadableStream;
  /** The program's standard output goes here instead of being collected. */
  stdout?: NodeJS.WritableStream;
  timeoutMs?: number;
}

/**
 * Runs argv with streams (restic reading a disk on stdin, writing one on stdout): argv array
 * only; rejects with a CommandError (stderr's end in the message) unless it exits 0.
 */
export function runStreaming(argv: readonly string[], opts: StreamOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('runStreaming: empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
        }, opts.timeoutMs)
      : null;
    if (opts.stdout) child.stdout.pipe(opts.stdout as NodeJS.WritableStream, { end: false });
    else child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-64 * 1024);
    });
    child.stdin.on('error', () => undefined); // the program may exit before reading everything
    if (opts.stdin) {
      opts.stdin.on('error', (e) => child.stdin.destroy(e));
      opts.stdin.pipe(child.stdin);
    } else child.stdin.end();
    child.once('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new CommandError({ argv, exitCode: null, signal: null, stdout, stderr: e.message, timedOut }));
    });
    child.once('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr, exitCode: 0 });
      else reject(new CommandError({ argv, exitCode: code, signal: sig, stdout, stderr, timedOut }));
    });
  });
}
