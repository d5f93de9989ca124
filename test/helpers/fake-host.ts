// A host driver double for API tests of plan changes (R3.12): VMs are entries in a map, every
// call is recorded, and `resizeMode` says what resize answers (or that it refuses).
import type { HostDriver, ResizeRequest, ResizeResult, VmState, VmStatus } from '../../src/agent/driver.ts';
import type { HostAgent } from '../../src/agent/host-agent.ts';
import { conflict } from '../../src/domain/errors.ts';
import type { HostAgents } from '../../src/control/hosts/agents.ts';

/** A host whose VMs are entries in a map; `resizeMode` says what resize answers (or that it refuses). */
export function fakeHost() {
  const vms = new Map<string, VmState>();
  const calls: string[] = [];
  const resizes: ResizeRequest[] = [];
  const h = { resizeMode: 'live' as 'live' | 'next_start' | 'refuse' };
  const status = (id: string): VmStatus => ({
    id,
    state: vms.get(id) ?? 'stopped',
    pid: vms.get(id) === 'running' ? 4242 : null,
    accel: 'tcg',
    startedAt: null,
    uptimeMs: null,
    guestAgentUp: true,
    vcpus: 1,
    memoryMiB: 1024,
    diskGiB: 20,
    diskPath: `/x/${id}.raw`,
    diskAllocatedBytes: 0,
    pending: {},
    failure: null,
  });
  const op = (name: string, id: string, from: VmState[], to: VmState) => {
    calls.push(`${name} ${id}`);
    const cur = vms.get(id) ?? 'stopped';
    if (!from.includes(cur)) throw conflict('vm.wrong_state', `VM is ${cur}`);
    vms.set(id, to);
    return status(id);
  };
  const driver = {
    status: async (id: string) => status(id),
    start: async (id: string) => op('start', id, ['stopped', 'failed'], 'running'),
    reboot: async (id: string) => op('reboot', id, ['running'], 'running'),
    pause: async (id: string) => op('pause', id, ['running'], 'paused'),
    resume: async (id: string) => op('resume', id, ['paused'], 'running'),
    resize: async (id: string, req: ResizeRequest): Promise<ResizeResult> => {
      calls.push(`resize ${id}`);
      resizes.push(req);
      if (h.resizeMode === 'refuse') throw conflict('vm.resize_refused', 'not enough disk on the host');
      const running = vms.get(id) === 'running';
      const cpu = h.resizeMode === 'next_start' || !running ? 'next_start' : 'live';
      return {
        id,
        vcpus: cpu,
        memoryMiB: running ? 'live' : 'next_start',
        diskGiB: running ? 'live' : 'next_start',
      };
    },
    close: async () => {},
  } as unknown as HostDriver;
  const agent = { driver, network: {} as HostAgent['network'], close: async () => {} } as HostAgent;
  const agents: HostAgents = {
    forHost: async () => agent,
    peek: () => agent,
    opened: () => [],
    onVmEvent: () => {},
    close: async () => {},
  };
  return { vms, calls, resizes, h, agents };
}
