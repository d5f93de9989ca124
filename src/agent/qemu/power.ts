// Power operations on a running VM (the facade has checked the state and holds the VM's lock):
// power off, reboot (a full stop and start when a vCPU/RAM resize waits), pause and resume
// (suspension: QMP stop/cont).
import { unexpectedState } from '../../domain/errors.ts';
import type { VmStatus } from '../driver.ts';
import { defaultStopLadder } from '../driver.ts';
import type { QemuHost, Vm } from './context.ts';
import { emit, save, vmStatus } from './context.ts';
import { q } from './guest.ts';
import { launch } from './launch.ts';
import { watchGuestAgent } from './monitor.ts';
import { KILL_LADDER, stopByLadder } from './stop-ladder.ts';

export async function powerOff(host: QemuHost, vm: Vm): Promise<VmStatus> {
  await stopByLadder(host, vm, KILL_LADDER, 'powered off');
  return vmStatus(host, vm);
}

export async function reboot(host: QemuHost, vm: Vm): Promise<VmStatus> {
  const r = vm.rec;
  const id = r.spec.id;
  if (r.bootVcpus !== r.spec.vcpus || r.bootMemoryMiB !== r.spec.memoryMiB) {
    // Pending vCPU/RAM changes need a new QEMU process: a full stop and start.
    await stopByLadder(host, vm, [...defaultStopLadder], 'rebooting to apply a resize');
    await launch(host, vm);
    return vmStatus(host, vm);
  }
  let done = false;
  if (vm.gaUp && vm.ga) {
    try {
      await vm.ga.execute('guest-shutdown', { mode: 'reboot' });
      done = true;
    } catch {
      /* fall back to a reset */
    }
  }
  if (!done) {
    if (!vm.qmp) throw unexpectedState('vm.no_qmp', `No QMP connection to VM ${id}`);
    await q(host, vm, vm.qmp.execute('system_reset'));
  }
  vm.gaUp = false;
  vm.guestReady = false;
  watchGuestAgent(host, vm, vm.gen);
  return vmStatus(host, vm);
}

export async function pause(host: QemuHost, vm: Vm): Promise<VmStatus> {
  const id = vm.rec.spec.id;
  if (!vm.qmp) throw unexpectedState('vm.no_qmp', `No QMP connection to VM ${id}`);
  await q(host, vm, vm.qmp.execute('stop'));
  vm.rec.state = 'paused';
  await save(host, vm);
  emit(host, 'paused', id);
  return vmStatus(host, vm);
}

export async function resume(host: QemuHost, vm: Vm): Promise<VmStatus> {
  const id = vm.rec.spec.id;
  if (!vm.qmp) throw unexpectedState('vm.no_qmp', `No QMP connection to VM ${id}`);
  await q(host, vm, vm.qmp.execute('cont'));
  vm.rec.state = 'running';
  await save(host, vm);
  emit(host, 'resumed', id);
  if (!vm.gaUp) watchGuestAgent(host, vm, vm.gen);
  return vmStatus(host, vm);
}
