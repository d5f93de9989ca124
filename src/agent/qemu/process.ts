// QEMU processes seen through /proc: alive?, ours?, which VM? No shell-outs.
import { readdir, readFile } from 'node:fs/promises';
import { QEMU_NAME_PREFIX } from './argv.ts';

export async function readCmdline(pid: number): Promise<string[] | null> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (!raw) return null; // zombie or kernel thread
    return raw.split('\0').slice(0, -1);
  } catch {
    return null;
  }
}

/** Alive and not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The VM id of a QEMU command line (`-name guest=infogere-<id>,...`), or null. */
export function vmIdOfCmdline(argv: readonly string[]): string | null {
  const exe = argv[0] ?? '';
  if (!/qemu-system-/.test(exe)) return null;
  const i = argv.indexOf('-name');
  const v = i >= 0 ? argv[i + 1] : undefined;
  if (!v) return null;
  const m = /^(?:guest=)?([^,]+)/.exec(v);
  const name = m?.[1] ?? '';
  return name.startsWith(QEMU_NAME_PREFIX) ? name.slice(QEMU_NAME_PREFIX.length) : null;
}

/** True when `pid` is a live QEMU of VM `id` (guards against a reused pid after a reboot). */
export async function isQemuOf(pid: number, id: string): Promise<boolean> {
  const argv = await readCmdline(pid);
  return argv !== null && vmIdOfCmdline(argv) === id && (await isAlive(pid));
}

/** Every live QEMU named `infogere-…`. */
export async function listInfogereQemus(): Promise<{ pid: number; vmId: string; cmdline: string[] }[]> {
  const out: { pid: number; vmId: string; cmdline: string[] }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const argv = await readCmdline(pid);
    if (!argv) continue;
    const vmId = vmIdOfCmdline(argv);
    if (vmId !== null) out.push({ pid, vmId, cmdline: argv });
  }
  return out;
}

/** Signals a process; false when it no longer exists. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Polls until the process is gone or the time is up; true when gone. */
export async function waitGone(pid: number, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isAlive(pid))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
