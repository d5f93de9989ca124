// Watching running QEMUs: QMP events and reconnects, the guest agent coming up, the process
// ending (expected, the guest powering off, or a crash), the reattach of a new agent to QEMUs
// left running, and waiting for an exit (the stop ladder's rungs).
import { rm } from 'node:fs/promises';
import type { VmRecord } from '../state/store.ts';
import type { QemuHost, Vm } from './context.ts';
import {
  background,
  connectQmp,
  consoleTail,
  emit,
  newGuestAgent,
  newVm,
  recordConsole,
  save,
  sleep,
  tail,
} from './context.ts';
import { isAlive, isQemuOf, waitGone } from './process.ts';
import type { GuestAgentClient } from './guest-agent.ts';
import type { QmpClient, QmpEvent } from './qmp.ts';

export function attachQmp(host: QemuHost, vm: Vm, qmp: QmpClient, gen: number): void {
  vm.qmp = qmp;
  qmp.on('event', (e: QmpEvent) => {
    if (vm.gen !== gen) return;
    if (e.event === 'SHUTDOWN')
      vm.lastShutdown = { guest: Boolean(e.data.guest), reason: String(e.data.reason ?? 'unknown') };
    if (e.event === 'RESET') {
      // The guest rebooted: its agent comes back later, and its boot setup runs again.
      vm.gaUp = false;
      vm.guestReady = false;
      watchGuestAgent(host, vm, gen);
    }
  });
  qmp.on('protocol_error', () => undefined);
  qmp.on('close', () => {
    if (vm.gen !== gen || host.closed) return;
    vm.qmp = null;
    background(
      (async () => {
        const pid = vm.rec.pid;
        if (pid === null) return;
        if (await waitGone(pid, 3_000)) {
          if (!vm.child) await onProcessExit(host, vm, gen, null);
          return;
        }
        // QEMU alive but the connection dropped: reconnect.
        try {
          const q = await connectQmp(host, vm);
          if (vm.gen === gen) attachQmp(host, vm, q, gen);
          else q.close();
        } catch {
          /* the process monitor takes over */
        }
      })(),
    );
  });
}

/**
 * The file the guest image's boot setup (rc.seed) creates once the NoCloud seed is applied and
 * just before SSH starts; /run is a tmpfs, so it goes with every reboot. docs/guest-image.md.
 */
export const GUEST_READY_MARKER = '/run/infogere/ready';

/** Asks the guest agent whether the boot setup is done: opening the marker (no process forked). */
export async function guestSignalledReady(ga: GuestAgentClient): Promise<boolean> {
  try {
    const handle = await ga.execute<number>(
      'guest-file-open',
      { path: GUEST_READY_MARKER, mode: 'r' },
      { timeoutMs: 2_000 },
    );
    await ga.execute('guest-file-close', { handle }).catch(() => undefined);
    return true;
  } catch {
    return false; // not there yet (GenericError: no such file), or the agent busy: asked again
  }
}

/**
 * Watches a running guest until its agent answers (`guest_agent_up`) and then until it signals
 * the end of its boot setup (`guest_ready`): what provisioning waits for before it checks the
 * accounts, instead of a guest-exec that times out while the fresh guest is still busy. One
 * watcher per process generation; a RESET or a reboot clears the flags and it carries on.
 */
export function watchGuestAgent(host: QemuHost, vm: Vm, gen: number): void {
  if (!vm.ga) vm.ga = newGuestAgent(host, vm);
  if (vm.watching === gen) return;
  vm.watching = gen;
  const ga = vm.ga;
  const id = vm.rec.spec.id;
  background(
    (async () => {
      let readyPoll = 100; // doubles to 0.5 s: prompt on a fresh boot, light on a guest that never says
      try {
        while (vm.gen === gen && !host.closed && !(vm.gaUp && vm.guestReady)) {
          if (vm.rec.state === 'running') {
            if (!vm.gaUp) {
              if (await ga.ping(1_000)) {
                if (vm.gen !== gen) return;
                if (!vm.gaUp) {
                  vm.gaUp = true;
                  emit(host, 'guest_agent_up', id);
                }
                continue; // the marker may be there already: ask at once
              }
            } else if (await guestSignalledReady(ga)) {
              if (vm.gen !== gen || vm.guestReady || !vm.gaUp) continue;
              vm.guestReady = true;
              emit(host, 'guest_ready', id);
              continue;
            } else {
              await sleep(readyPoll);
              readyPoll = Math.min(readyPoll * 2, 500);
              continue;
            }
          }
          await sleep(100);
        }
      } finally {
        if (vm.watching === gen) vm.watching = null;
      }
    })(),
  );
}

/** A new agent finds a VM's record: its QEMU still runs (reconnect), or ended meanwhile (failed). */
export async function reattach(host: QemuHost, rec: VmRecord): Promise<void> {
  const vm = newVm(rec);
  host.vms.set(rec.spec.id, vm);
  const wasLive = ['starting', 'running', 'paused', 'stopping'].includes(rec.state);
  if (rec.pid !== null && (await isQemuOf(rec.pid, rec.spec.id))) {
    vm.gen++;
    const gen = vm.gen;
    try {
      // The console first: what the guest prints from now on is recorded again.
      recordConsole(host, vm, gen);
      const qmp = await connectQmp(host, vm);
      attachQmp(host, vm, qmp, gen);
      const st = await qmp.execute<{ status: string }>('query-status');
      rec.state =
        st.status === 'paused' || st.status === 'prelaunch'
          ? 'paused'
          : st.status === 'shutdown'
            ? 'stopping'
            : 'running';
    } catch {
      rec.state = 'running'; // the process is there; the monitor watches it
    }
    await host.store.save(rec);
    if (rec.state === 'running') watchGuestAgent(host, vm, gen);
    return;
  }
  if (wasLive) {
    const lines = await consoleTail(rec, 5);
    rec.state = 'failed';
    rec.failure = `QEMU (pid ${rec.pid}) ended while the agent was away; console: ${lines.join(' | ') || '(empty)'}`;
    rec.pid = null;
    await host.store.save(rec);
    emit(host, 'crashed', rec.spec.id, rec.failure);
  } else if (rec.pid !== null) {
    rec.pid = null;
    await host.store.save(rec);
  }
}

/** Every second: a QEMU that is not this agent's child ended without telling anyone. */
export async function checkProcesses(host: QemuHost): Promise<void> {
  for (const vm of host.vms.values()) {
    const pid = vm.rec.pid;
    if (pid === null || vm.busy === 'start') continue;
    if (vm.child && vm.child.exitCode === null && vm.child.signalCode === null) continue; // its exit event reports
    if (!(await isAlive(pid))) await onProcessExit(host, vm, vm.gen, null);
  }
}

/** A QEMU process ended: expected (stop ladder), guest power-off, or a crash. */
export async function onProcessExit(
  host: QemuHost,
  vm: Vm,
  gen: number,
  exit: { code: number | null; signal: string | null } | null,
): Promise<void> {
  if (vm.gen !== gen || vm.rec.pid === null) return;
  vm.gen++;
  const r = vm.rec;
  const id = r.spec.id;
  await detach(vm); // the console recorder done: the next start may rotate its log
  for (const f of [r.paths.qmpSocket, r.paths.guestAgentSocket, r.paths.consoleSocket, r.paths.pidFile])
    await rm(f, { force: true });
  r.pid = null;
  r.startedAt = null;
  r.bootVcpus = null;
  r.bootMemoryMiB = null;
  const waiters = vm.exitWaiters.splice(0);
  if (vm.expectingExit) {
    r.state = 'stopped';
    await save(host, vm);
    waiters.forEach((w) => w());
    return; // the caller emits `stopped` with how it ended
  }
  if (vm.lastShutdown?.guest && vm.lastShutdown.reason === 'guest-shutdown') {
    r.state = 'stopped';
    await save(host, vm);
    waiters.forEach((w) => w());
    emit(host, 'stopped', id, 'the guest powered off');
    return;
  }
  const how = exit
    ? exit.signal
      ? `QEMU killed by ${exit.signal}`
      : `QEMU exited with code ${exit.code}`
    : 'QEMU ended (exit status unknown: not a child of this agent)';
  const said = vm.lastShutdown ? `; QEMU shutdown reason: ${vm.lastShutdown.reason}` : '';
  const qemuLog = (await tail(r.paths.qemuLog, 3)).join(' | ');
  const consoleLines = (await consoleTail(r, 5)).join(' | ');
  r.state = 'failed';
  r.failure = `${how}${said}${qemuLog ? `; qemu: ${qemuLog}` : ''}; console: ${consoleLines || '(empty)'}`;
  await save(host, vm);
  waiters.forEach((w) => w());
  emit(host, 'crashed', id, r.failure);
}

/** Drops the connections to a VM's QEMU; resolves once its console recorder has let go of the log. */
export function detach(vm: Vm): Promise<void> {
  vm.qmp?.removeAllListeners('close');
  vm.qmp?.close();
  vm.ga?.close();
  const recorded = vm.console?.close() ?? Promise.resolve();
  vm.qmp = null;
  vm.ga = null;
  vm.console = null;
  vm.gaUp = false;
  vm.guestReady = false;
  vm.child = null;
  return recorded;
}

/** Waits up to `timeoutMs` for the VM's QEMU to end (host.sys: a test's time, not a real sleep). */
export async function waitExit(host: QemuHost, vm: Vm, timeoutMs: number): Promise<boolean> {
  if (vm.rec.pid === null) return true;
  const { sys } = host;
  let done!: () => void;
  const exited = new Promise<void>((r) => (done = r));
  vm.exitWaiters.push(done);
  const pid = vm.rec.pid;
  const deadline = sys.nowMs() + timeoutMs;
  let ok = false;
  while (sys.nowMs() < deadline) {
    const r = await Promise.race([
      exited.then(() => true),
      sys.sleep(Math.min(100, Math.max(1, deadline - sys.nowMs()))).then(() => false),
    ]);
    if (r || vm.rec.pid === null) {
      ok = true;
      break;
    }
    if (
      !(await sys.isAlive(pid)) &&
      !(vm.child && vm.child.exitCode === null && vm.child.signalCode === null)
    ) {
      await onProcessExit(host, vm, vm.gen, null);
      ok = true;
      break;
    }
  }
  vm.exitWaiters = vm.exitWaiters.filter((w) => w !== done);
  if (!ok && vm.rec.pid !== null && vm.child && !(await sys.isAlive(pid))) {
    // exited between checks; the child's exit event is on its way
    await Promise.race([exited, sys.sleep(500)]);
    ok = vm.rec.pid === null;
  }
  return ok;
}
