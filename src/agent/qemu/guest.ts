// Guest-agent operations (exec, filesystems, fsfreeze) and balloon statistics, and how the
// agents' errors become DomainErrors.
// R3.3/R3.4: root in the guest is the provider's, through this channel only: a unix socket in
// the VM's 0700 directory on the host, never reachable from the client's side.
import { conflict, invalidData, unexpectedState } from '../../domain/errors.ts';
import type { ExecResult, GuestFilesystem, GuestMemory } from '../driver.ts';
import type { QemuHost, Vm } from './context.ts';
import { getVm, newGuestAgent } from './context.ts';
import type { GuestAgentClient } from './guest-agent.ts';
import { GuestAgentError } from './guest-agent.ts';
import { watchGuestAgent } from './monitor.ts';
import { QmpError } from './qmp.ts';

async function agentOf(host: QemuHost, id: string, op: string): Promise<{ vm: Vm; ga: GuestAgentClient }> {
  const vm = getVm(host, id);
  if (vm.rec.state !== 'running')
    throw conflict('vm.wrong_state', `VM ${id} is ${vm.rec.state}; ${op} needs running`, {
      id,
      state: vm.rec.state,
    });
  if (!vm.ga) vm.ga = newGuestAgent(host, vm);
  if (!vm.gaUp) {
    if (!(await vm.ga.ping(1_500)))
      throw conflict(
        'vm.guest_agent_down',
        `The guest agent of VM ${id} does not answer (booting, or stopped in the guest)`,
        { id },
      );
    vm.gaUp = true;
  }
  return { vm, ga: vm.ga };
}

/** Runs a guest-agent call; its failures become DomainErrors carrying the command and timeout. */
async function withGuest<T>(
  host: QemuHost,
  id: string,
  op: string,
  fn: (ga: GuestAgentClient, vm: Vm) => Promise<T>,
): Promise<T> {
  const { vm, ga } = await agentOf(host, id, op);
  try {
    return await fn(ga, vm);
  } catch (e) {
    throw translate(host, vm, e);
  }
}

/** Awaits a QMP or guest-agent call, its failure as a DomainError. */
export async function q<T>(host: QemuHost, vm: Vm, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw translate(host, vm, e);
  }
}

/** Agent errors as DomainErrors: the command, whether it timed out, QEMU's error class. */
export function translate(host: QemuHost, vm: Vm, e: unknown): unknown {
  const id = vm.rec.spec.id;
  if (e instanceof GuestAgentError) {
    if (e.command === 'guest-sync-delimited' || e.command === 'connect' || e.errorClass === 'Closed') {
      // The agent stopped answering: watch for it again, and say so as a state problem.
      if (vm.gaUp) {
        vm.gaUp = false;
        watchGuestAgent(host, vm, vm.gen);
      }
      return conflict('vm.guest_agent_down', `The guest agent of VM ${id} stopped answering (${e.message})`, {
        id,
        command: e.command,
        timedOut: e.timedOut,
      });
    }
    return unexpectedState('vm.guest_agent_error', e.message, {
      id,
      command: e.command,
      timedOut: e.timedOut,
      errorClass: e.errorClass,
    });
  }
  if (e instanceof QmpError)
    return unexpectedState('vm.qmp_error', e.message, {
      id,
      command: e.command,
      timedOut: e.timedOut,
      errorClass: e.errorClass,
    });
  return e;
}

export async function guestExec(
  host: QemuHost,
  id: string,
  argv: string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string') || !argv[0])
    throw invalidData('vm.exec_argv', 'guestExec takes an argv array of strings (never a shell string)');
  const execOpts: { timeoutMs?: number; input?: string } = { timeoutMs: opts.timeoutMs ?? 60_000 };
  if (opts.input !== undefined) execOpts.input = opts.input;
  const r = await withGuest(host, id, 'guest exec', (ga) => ga.exec(argv, execOpts));
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
}

export async function guestFilesystems(host: QemuHost, id: string): Promise<GuestFilesystem[]> {
  const fs = await withGuest(host, id, 'filesystem usage', (ga) =>
    ga.execute<
      {
        name: string;
        mountpoint: string;
        type: string;
        'used-bytes'?: number;
        'total-bytes'?: number;
        disk?: { dev?: string }[];
      }[]
    >('guest-get-fsinfo'),
  );
  return fs.map((f) => ({
    mountpoint: f.mountpoint,
    type: f.type,
    device: f.disk?.[0]?.dev ?? f.name,
    usedBytes: f['used-bytes'] ?? null,
    totalBytes: f['total-bytes'] ?? null,
  }));
}

export async function guestMemory(host: QemuHost, id: string): Promise<GuestMemory> {
  const vm = getVm(host, id);
  if (vm.rec.state !== 'running' && vm.rec.state !== 'paused')
    throw conflict('vm.wrong_state', `VM ${id} is ${vm.rec.state}; memory statistics need it running`, {
      id,
      state: vm.rec.state,
    });
  if (!vm.qmp) throw unexpectedState('vm.no_qmp', `No QMP connection to VM ${id}`);
  const bal = await q(host, vm, vm.qmp.execute<{ actual: number }>('query-balloon'));
  const st = await q(
    host,
    vm,
    vm.qmp.execute<{ stats: Record<string, number>; 'last-update': number }>('qom-get', {
      path: '/machine/peripheral/balloon0',
      property: 'guest-stats',
    }),
  );
  const v = (k: string) => {
    const n = st.stats[k];
    return n === undefined || n < 0 ? null : n;
  };
  return {
    actualBytes: bal.actual,
    totalBytes: v('stat-total-memory'),
    freeBytes: v('stat-free-memory'),
    availableBytes: v('stat-available-memory'),
    lastUpdate: st['last-update'] > 0 ? new Date(st['last-update'] * 1000).toISOString() : null,
  };
}

export async function fsfreeze(host: QemuHost, id: string): Promise<{ id: string; frozen: number }> {
  return {
    id,
    frozen: await withGuest(host, id, 'fsfreeze', (ga) => ga.execute<number>('guest-fsfreeze-freeze')),
  };
}

export async function fsthaw(host: QemuHost, id: string): Promise<{ id: string; thawed: number }> {
  return {
    id,
    thawed: await withGuest(host, id, 'fsthaw', (ga) => ga.execute<number>('guest-fsfreeze-thaw')),
  };
}
