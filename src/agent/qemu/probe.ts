// KVM or TCG? /dev/kvm opening is not enough (on these machines KVM opens but guests hang), so
// a real boot probe decides: the image's kernel with no root disk and `panic=-1` under
// `-no-reboot` must print its panic and make QEMU exit within the timeout. The answer is cached
// in the data dir, keyed by the QEMU version and the kernel file.
import { constants as fsc } from 'node:fs';
import { open, readFile, stat, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { run, CommandError } from '../exec/run.ts';
import { QEMU_SANDBOX } from './argv.ts';

export interface AccelDecision {
  accel: 'kvm' | 'tcg';
  reason: string;
  qemuVersion: string;
  kernel: string;
  kernelSize: number;
  kernelMtimeMs: number;
  /** ISO 8601 */
  probedAt: string;
  probeMs: number;
  /** The uid the probe's QEMU ran as (the VMs' range: KVM must work for them, not for root). */
  uid?: number;
}

export async function qemuVersion(qemuBinary = 'qemu-system-x86_64'): Promise<string> {
  const { stdout } = await run([qemuBinary, '--version'], { timeoutMs: 10_000 });
  return /version ([^\s]+)/.exec(stdout)?.[1] ?? stdout.split('\n')[0] ?? 'unknown';
}

async function kvmOpens(): Promise<string | null> {
  try {
    const fh = await open('/dev/kvm', fsc.O_RDWR);
    await fh.close();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The boot probe itself (no cache). */
export async function probeKvm(
  kernel: string,
  opts: {
    timeoutMs?: number;
    qemuBinary?: string;
    cpu?: string;
    /** tests: the same probe under TCG */ accel?: 'kvm' | 'tcg';
    /** Run QEMU as this user and group, like the VMs (R3.3). */
    runAs?: { uid: number; gid: number };
  } = {},
): Promise<{ ok: boolean; reason: string }> {
  const accel = opts.accel ?? 'kvm';
  const denied = accel === 'kvm' ? await kvmOpens() : null;
  if (denied) return { ok: false, reason: `/dev/kvm does not open: ${denied}` };
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const argv = [
    opts.qemuBinary ?? 'qemu-system-x86_64',
    '-machine',
    `pc,accel=${accel}`,
    '-cpu',
    opts.cpu ?? (accel === 'kvm' ? 'host' : 'qemu64'),
    '-m',
    '128',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-sandbox',
    QEMU_SANDBOX,
    '-kernel',
    kernel,
    '-append',
    'console=ttyS0 panic=-1 root=/dev/infogere-probe-none',
    '-serial',
    'stdio',
  ];
  const t0 = Date.now();
  try {
    const r = await run(argv, { timeoutMs, ...(opts.runAs ?? {}) });
    // QEMU exits cleanly on the SIGTERM of the timeout: only a panic in the output counts.
    if (/Kernel panic|VFS: Unable to mount root/.test(r.stdout))
      return { ok: true, reason: `a guest booted to its probe panic in ${Date.now() - t0} ms` };
    if (Date.now() - t0 >= timeoutMs - 100)
      return { ok: false, reason: `a KVM guest made no progress within ${timeoutMs} ms` };
    return {
      ok: false,
      reason: `KVM guest exited without reaching its kernel: ${(r.stdout.slice(-200) || r.stderr.slice(-200)).trim()}`,
    };
  } catch (e) {
    if (e instanceof CommandError) {
      if (e.timedOut) return { ok: false, reason: `a KVM guest made no progress within ${timeoutMs} ms` };
      return {
        ok: false,
        reason: `QEMU with KVM failed (${e.signal ?? `exit ${e.exitCode}`}): ${e.stderr.trim().split('\n')[0]?.slice(0, 300) ?? ''}`,
      };
    }
    throw e;
  }
}

/** Cached decision (per QEMU version and kernel file), probing when needed. */
export async function decideAccel(p: {
  dataDir: string;
  kernel: string;
  qemuBinary?: string;
  timeoutMs?: number;
  now: () => Date;
  runAs?: { uid: number; gid: number };
}): Promise<AccelDecision> {
  const cacheFile = path.join(p.dataDir, 'accel-probe.json');
  const version = await qemuVersion(p.qemuBinary);
  const k = await stat(p.kernel);
  try {
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as AccelDecision;
    if (
      cached.qemuVersion === version &&
      cached.kernel === p.kernel &&
      cached.kernelSize === k.size &&
      cached.kernelMtimeMs === k.mtimeMs &&
      cached.uid === p.runAs?.uid
    )
      return cached;
  } catch {
    /* no cache yet */
  }
  const t0 = Date.now();
  const r = await probeKvm(p.kernel, {
    timeoutMs: p.timeoutMs,
    qemuBinary: p.qemuBinary,
    ...(p.runAs ? { runAs: p.runAs } : {}),
  });
  const decision: AccelDecision = {
    accel: r.ok ? 'kvm' : 'tcg',
    reason: r.ok ? r.reason : `TCG: ${r.reason}`,
    qemuVersion: version,
    kernel: p.kernel,
    kernelSize: k.size,
    kernelMtimeMs: k.mtimeMs,
    probedAt: p.now().toISOString(),
    probeMs: Date.now() - t0,
  };
  if (p.runAs) decision.uid = p.runAs.uid;
  await writeFile(`${cacheFile}.tmp`, JSON.stringify(decision, null, 2) + '\n');
  await rename(`${cacheFile}.tmp`, cacheFile);
  return decision;
}
