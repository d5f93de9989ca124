// Starting a VM's QEMU: the launch spec, confinement (R3.3: its own uid, descriptors not paths),
// the spawn, the QMP handshake; then the monitor (monitor.ts) watches it.
import type { ChildProcess } from 'node:child_process';
import { constants as fsc, existsSync, readFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { unexpectedState } from '../../domain/errors.ts';
import { startDetached } from '../exec/run.ts';
import type { VmRecord } from '../state/store.ts';
import { optValue, QEMU_FD, renderQemuArgv } from './argv.ts';
import type { LaunchSpec } from './argv.ts';
import { closeFd, kvmGid, listenUnix, openFd, readableByOthers, renderLaunchArgv } from './confine.ts';
import type { QemuHost, Vm } from './context.ts';
import {
  background,
  connectQmp,
  emit,
  errMsg,
  image,
  recordConsole,
  save,
  sleep,
  tail,
  uidFor,
} from './context.ts';
import { backupOverlayPath, mergeLeftOverlay } from './backup.ts';
import { attachQmp, onProcessExit, watchGuestAgent } from './monitor.ts';
import { listInfogereQemus, signal, waitGone } from './process.ts';
import type { QmpClient } from './qmp.ts';

const GUEST_STATS_INTERVAL_S = 2;

export function launchSpec(host: QemuHost, rec: VmRecord): LaunchSpec {
  const img = image(host, rec.spec.image);
  let cmdline = 'console=ttyS0 panic=-1';
  try {
    cmdline = readFileSync(img.cmdlineFile, 'utf8').trim() || cmdline;
  } catch {
    /* default */
  }
  const ls: LaunchSpec = {
    id: rec.spec.id,
    accel: host.caps.accel,
    vcpus: rec.spec.vcpus,
    memoryMiB: rec.spec.memoryMiB,
    ...(img.boot === 'kernel' ? { kernel: img.kernel, initrd: img.initrd, cmdline } : {}),
    disk: rec.paths.disk,
    seed: rec.paths.seed,
    scratch: backupOverlayPath(rec),
  };
  if (rec.spec.network) ls.network = { mac: rec.spec.network.mac };
  // The configured firmware (e.g. qboot) is for direct kernel boot; a disk boots with SeaBIOS.
  if (host.config.bios && img.boot === 'kernel') ls.bios = host.config.bios;
  if (host.config.qemuBinary) ls.qemuBinary = host.config.qemuBinary;
  if (host.config.startPaused) ls.startPaused = true;
  return ls;
}

export async function launch(host: QemuHost, vm: Vm): Promise<void> {
  const r = vm.rec;
  const p = r.paths;
  // An agent killed between spawning QEMU and saving its pid leaves a QEMU this state does
  // not know: it owns this VM's sockets and disk. Stop it first, so one VM never has two
  // processes on one disk (its command line names the disk: the fd set's label, or the
  // file of a QEMU started before confinement).
  for (const q of await listInfogereQemus()) {
    if (q.vmId === r.spec.id && q.cmdline.some((a) => a.includes(optValue(p.disk)))) {
      signal(q.pid, 'SIGKILL');
      await waitGone(q.pid, 10_000);
    }
  }
  for (const f of [p.qmpSocket, p.guestAgentSocket, p.consoleSocket, p.pidFile]) await rm(f, { force: true });
  if (existsSync(p.consoleLog)) await rename(p.consoleLog, `${p.consoleLog}.1`); // previous boot kept
  r.consoleRotated = false;
  await mergeLeftOverlay(host, vm); // R3.6: a backup's overlay left by a dead QEMU holds guest writes
  const ls = launchSpec(host, r);
  // R3.3: QEMU never runs as root: its own uid, no supplementary group (the kvm group as its
  // group when KVM is used), no capability, QEMU's seccomp sandbox (argv.ts). It reads the
  // image by path (world-readable) and gets everything of the platform's as descriptors.
  const uid = (r.uid = uidFor(host, r)); // taken at once: no other launch may pick it meanwhile
  const gid = host.caps.accel === 'kvm' ? ((await kvmGid()) ?? uid) : uid;
  const net = r.spec.network;
  const argv = renderLaunchArgv(
    { uid, gid, ...(net ? { tap: net.tap, ...(net.netns ? { netns: net.netns } : {}) } : {}) },
    renderQemuArgv(ls),
  );
  for (const f of [ls.kernel, ls.initrd, ls.bios].filter((f) => f !== undefined))
    if (!(await readableByOthers(f)))
      throw unexpectedState(
        'vm.image_unreadable',
        `QEMU runs unprivileged and cannot read ${f}: images must be readable by all (o+r, directories o+x)`,
        { id: r.spec.id, file: f },
      );
  const fds: (number | 'ignore')[] = [];
  const give = (n: number, fd: number) => {
    while (fds.length < n - 3) fds.push('ignore');
    fds[n - 3] = fd;
  };
  const opened: number[] = [];
  const listening: { close(): void }[] = [];
  let child: ChildProcess;
  let spawnError: Error | null = null;
  try {
    const disk = await openFd(p.disk, fsc.O_RDWR);
    opened.push(disk);
    give(QEMU_FD.disk, disk);
    if (ls.scratch) {
      // R3.6: the backup overlay, empty at each start (a left-over overlay was merged before: backup.ts).
      const scratch = await openFd(ls.scratch, fsc.O_RDWR | fsc.O_CREAT | fsc.O_TRUNC);
      opened.push(scratch);
      give(QEMU_FD.scratch, scratch);
    }
    if (ls.seed) {
      const seed = await openFd(p.seed, fsc.O_RDONLY);
      opened.push(seed);
      give(QEMU_FD.seed, seed);
    }
    for (const [n, file] of [
      [QEMU_FD.qmp, p.qmpSocket],
      [QEMU_FD.guestAgent, p.guestAgentSocket],
      [QEMU_FD.console, p.consoleSocket],
    ] as const) {
      const l = await listenUnix(file);
      listening.push(l);
      give(n, l.fd);
    }
    // The tap (QEMU_FD.tap) is opened by the launcher, in the tap's namespace (confine.ts).
    const log = await open(p.qemuLog, 'w', 0o600);
    try {
      child = startDetached(argv, { logFile: log.fd, fds });
      child.once('error', (e) => (spawnError = e));
    } finally {
      await log.close();
    }
  } catch (e) {
    throw unexpectedState('vm.start_failed', `VM ${r.spec.id} did not start: ${errMsg(e)}`, {
      id: r.spec.id,
    });
  } finally {
    // QEMU has its copies now; ours go (the sockets' paths stay: QEMU listens on them).
    for (const l of listening) l.close();
    for (const fd of opened) await closeFd(fd);
  }
  if (!child.pid) {
    await new Promise((res) => setImmediate(res));
    throw unexpectedState(
      'vm.start_failed',
      `QEMU did not start for ${r.spec.id}: ${(spawnError as Error | null)?.message ?? 'no process'}`,
      { id: r.spec.id },
    );
  }
  vm.gen++;
  const gen = vm.gen;
  vm.child = child;
  vm.lastShutdown = null;
  vm.expectingExit = null;
  vm.gaUp = false;
  vm.guestReady = false;
  // Connected at once: QEMU accepts it before the guest prints anything (the socket exists).
  recordConsole(host, vm, gen);
  r.state = 'starting';
  r.pid = child.pid;
  r.argv = argv;
  r.accel = host.caps.accel;
  r.startedAt = host.clock.now().toISOString();
  r.bootVcpus = r.spec.vcpus;
  r.bootMemoryMiB = r.spec.memoryMiB;
  r.failure = null;
  await save(host, vm);
  let exited: { code: number | null; signal: string | null } | null = null;
  child.once('exit', (code, sig) => {
    exited = { code, signal: sig };
    background(onProcessExit(host, vm, gen, { code, signal: sig }));
  });
  // QMP: the socket is there already (ours); QEMU greets once it is up.
  const deadline = Date.now() + (host.config.startTimeoutMs ?? 30_000);
  let qmp: QmpClient | null = null;
  while (!qmp) {
    if (exited) break;
    if (existsSync(p.qmpSocket)) {
      try {
        qmp = await connectQmp(host, vm);
        break;
      } catch {
        /* not ready yet */
      }
    }
    if (Date.now() > deadline) break;
    await sleep(10);
  }
  if (!qmp) {
    if (!exited) {
      signal(child.pid, 'SIGKILL');
      await waitGone(child.pid, 5_000);
    }
    const why = (await tail(p.qemuLog, 5)).join(' | ');
    r.state = 'failed';
    r.failure = `QEMU did not come up: ${why || 'no QMP socket'}`;
    r.pid = null;
    await save(host, vm);
    throw unexpectedState('vm.start_failed', `VM ${r.spec.id} did not start: ${why || 'no QMP socket'}`, {
      id: r.spec.id,
    });
  }
  attachQmp(host, vm, qmp, gen);
  try {
    await qmp.execute('qom-set', {
      path: '/machine/peripheral/balloon0',
      property: 'guest-stats-polling-interval',
      value: GUEST_STATS_INTERVAL_S,
    });
  } catch {
    /* statistics are optional */
  }
  r.state = host.config.startPaused ? 'paused' : 'running';
  await save(host, vm);
  emit(host, 'started', r.spec.id);
  if (!host.config.startPaused) watchGuestAgent(host, vm, gen);
}
