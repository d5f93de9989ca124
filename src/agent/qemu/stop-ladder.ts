// The stop ladder: data, not code (`[{kind, timeoutMs}]`, default in ../driver.ts). Each rung
// sends its request then waits up to its timeout for QEMU to end; a rung that cannot be tried is
// `skipped`, a request that fails is `failed`, and the next rung follows. It never hangs: when
// even SIGKILL does not end QEMU the call fails with the rungs' outcomes. Time, waits and signals
// go through host.sys, so test/unit/qemu-stop-ladder.test.ts plays it against a fake QMP and a
// fake process in moved time.
import { unexpectedState } from '../../domain/errors.ts';
import type { StopResult, StopRung, StopRungOutcome } from '../driver.ts';
import type { QemuHost, Vm } from './context.ts';
import { emit, errMsg, newGuestAgent, save } from './context.ts';
import { waitExit } from './monitor.ts';

/** What destroy and powerOff use: no polite request, QEMU ends at once (SIGTERM), SIGKILL after 5 s. */
export const KILL_LADDER: readonly StopRung[] = [
  { kind: 'sigterm', timeoutMs: 5_000 },
  { kind: 'sigkill', timeoutMs: 5_000 },
];

export async function stopByLadder(
  host: QemuHost,
  vm: Vm,
  ladder: readonly StopRung[],
  why: string | null,
): Promise<StopResult> {
  const { sys } = host;
  const id = vm.rec.spec.id;
  const t0 = sys.nowMs();
  const rungs: StopRungOutcome[] = [];
  const pid = vm.rec.pid;
  vm.expectingExit = why ?? 'shutdown';
  const before = vm.rec.state;
  vm.rec.state = 'stopping';
  await save(host, vm);
  if (before === 'paused' && vm.qmp && ladder.some((r) => r.kind === 'guest_agent' || r.kind === 'acpi')) {
    // A paused (suspended) guest cannot hear a polite request: let it run first (briefly bounded).
    await vm.qmp.execute('cont', undefined, { timeoutMs: 1_000 }).catch(() => undefined);
  }
  let endedBy: StopRung['kind'] | null = null;
  for (const rung of ladder) {
    const r0 = sys.nowMs();
    let outcome: StopRungOutcome['outcome'] = 'sent';
    let error: string | undefined;
    if (pid === null || vm.rec.pid === null) {
      endedBy = rung.kind;
      break;
    }
    try {
      switch (rung.kind) {
        case 'guest_agent': {
          const ga = vm.ga ?? newGuestAgent(host, vm);
          vm.ga = ga;
          // Bounded by the rung's own timeout, even when a watcher's ping is queued first.
          const bound = <T>(p: Promise<T>, fallback: T) =>
            Promise.race([
              p,
              sys.sleep(Math.max(0, rung.timeoutMs - (sys.nowMs() - r0))).then(() => fallback),
            ]);
          if (await bound(ga.ping(Math.min(1_500, rung.timeoutMs)), false)) {
            const sent = await bound(
              ga.execute('guest-shutdown', { mode: 'powerdown' }).then(() => true),
              false,
            );
            if (!sent) throw new Error('guest-shutdown not delivered within the rung timeout');
          } else outcome = 'skipped';
          break;
        }
        case 'acpi':
          if (!vm.qmp) throw new Error('no QMP connection');
          await vm.qmp.execute('system_powerdown', undefined, {
            timeoutMs: Math.min(rung.timeoutMs, vm.qmp.timeoutFor('system_powerdown')),
          });
          break;
        case 'sigterm':
          if (!sys.signal(pid, 'SIGTERM')) outcome = 'failed';
          break;
        case 'sigkill':
          if (!sys.signal(pid, 'SIGKILL')) outcome = 'failed';
          break;
      }
    } catch (e) {
      outcome = 'failed';
      error = errMsg(e);
    }
    const left = rung.timeoutMs - (sys.nowMs() - r0);
    const ended =
      outcome === 'skipped'
        ? !(await sys.isAlive(pid)) && (await waitExit(host, vm, 1_000))
        : await waitExit(host, vm, Math.max(0, left));
    const o: StopRungOutcome = { kind: rung.kind, outcome, ended, elapsedMs: sys.nowMs() - r0 };
    if (error) o.error = error;
    rungs.push(o);
    if (ended) {
      endedBy = rung.kind;
      break;
    }
  }
  if (!endedBy) {
    // Even SIGKILL did not end it within its timeout (uninterruptible I/O...): report, never hang.
    vm.expectingExit = null;
    vm.rec.state = (await sys.isAlive(pid ?? -1)) ? 'failed' : 'stopped';
    vm.rec.failure = `stop ladder exhausted after ${sys.nowMs() - t0} ms; QEMU pid ${pid} still present`;
    await save(host, vm);
    throw unexpectedState('vm.stop_failed', vm.rec.failure, { id, rungs });
  }
  vm.expectingExit = null;
  emit(host, 'stopped', id, why ? `${why} (${endedBy})` : `stop ladder ended by ${endedBy}`);
  return { id, endedBy, elapsedMs: sys.nowMs() - t0, rungs };
}
