// Each VM's state on disk, under <dataDir>/vms/<id>/state.json, written atomically (temp file,
// fsync, rename) so a killed agent leaves either the old or the new record, never half of one.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { VmSpec, VmState } from '../driver.ts';

export interface VmPaths {
  dir: string;
  state: string;
  disk: string;
  seed: string;
  qmpSocket: string;
  guestAgentSocket: string;
  /** The serial console's socket (the agent records it into consoleLog). */
  consoleSocket: string;
  consoleLog: string;
  qemuLog: string;
  /** Only QEMUs started before confinement wrote one; removed with the VM. */
  pidFile: string;
}

export interface VmRecord {
  version: 1;
  spec: VmSpec;
  paths: VmPaths;
  /** Last state we know of (reattach re-checks against the process). */
  state: VmState;
  pid: number | null;
  /** ISO 8601, when the current QEMU process started. */
  startedAt: string | null;
  /** The argv QEMU was launched with (reattach checks the process's cmdline against it). */
  argv: string[] | null;
  accel: 'kvm' | 'tcg';
  /** vCPUs and memory the running process was started with (a resize may be pending). */
  bootVcpus: number | null;
  bootMemoryMiB: number | null;
  growFilesystemPending: boolean;
  failure: string | null;
  /** The uid this VM's QEMU runs as (its own, from the host's VM range); unset in older records. */
  uid?: number;
  /** The console of the current boot outgrew its cap: its start is in console.log.1. */
  consoleRotated?: boolean;
  /** R3.6: a backup's overlay sits over the disk (guest writes go to it) until merged back. */
  backupOverlayActive?: boolean;
}

export function vmPaths(dataDir: string, diskDir: string, id: string): VmPaths {
  const dir = path.join(dataDir, 'vms', id);
  return {
    dir,
    state: path.join(dir, 'state.json'),
    disk: path.join(diskDir, `${id}.raw`),
    seed: path.join(dir, 'seed.img'),
    qmpSocket: path.join(dir, 'qmp.sock'),
    guestAgentSocket: path.join(dir, 'qga.sock'),
    consoleSocket: path.join(dir, 'console.sock'),
    consoleLog: path.join(dir, 'console.log'),
    qemuLog: path.join(dir, 'qemu.log'),
    pidFile: path.join(dir, 'qemu.pid'),
  };
}

export class StateStore {
  readonly root: string;
  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'vms');
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
  }

  /** Saves of one VM run one after the other, in call order: the last call's record wins. */
  #saving = new Map<string, Promise<void>>();

  save(rec: VmRecord): Promise<void> {
    const id = rec.spec.id;
    const prev = this.#saving.get(id) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.#write(rec));
    this.#saving.set(id, next);
    void next
      .finally(() => {
        if (this.#saving.get(id) === next) this.#saving.delete(id);
      })
      .catch(() => undefined);
    return next;
  }

  async #write(rec: VmRecord): Promise<void> {
    await mkdir(rec.paths.dir, { recursive: true, mode: 0o700 });
    // A temp file of its own, renamed over the state atomically.
    const tmp = `${rec.paths.state}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(rec, null, 2) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, rec.paths.state);
  }

  async load(id: string): Promise<VmRecord | null> {
    try {
      const rec = JSON.parse(await readFile(path.join(this.root, id, 'state.json'), 'utf8')) as VmRecord;
      if (rec.version !== 1 || rec.spec?.id !== id) return null;
      // Records written before the console had a socket.
      rec.paths.consoleSocket ??= path.join(rec.paths.dir, 'console.sock');
      return rec;
    } catch {
      return null;
    }
  }

  /** Every VM directory: with its record, or null when the record is missing or unreadable. */
  async scan(): Promise<{ id: string; dir: string; record: VmRecord | null }[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return [];
    }
    const out: { id: string; dir: string; record: VmRecord | null }[] = [];
    for (const id of names.sort())
      out.push({ id, dir: path.join(this.root, id), record: await this.load(id) });
    return out;
  }

  async remove(id: string): Promise<void> {
    await rm(path.join(this.root, id), { recursive: true, force: true });
  }
}
