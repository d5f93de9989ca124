// The VPS state machine. Every change of state goes through `transition`, which refuses
// illegal moves with a conflict (never a silent overwrite).
import { conflict } from './errors.ts';

export const vpsStates = [
  'pending', // ordered and validated, waiting for provisioning
  'provisioning', // the provisioning workflow is running
  'defined', // disk and config exist on the host, not booted
  'starting',
  'running',
  'stopping',
  'stopped',
  'paused', // suspended (R5.1, R6.1, R12.5): frozen in memory
  'failed', // crashed or provisioning failed for good; reason kept
  'destroying',
  'destroyed', // deleted with all its data (R12.4)
] as const;
export type VpsState = (typeof vpsStates)[number];

const legal: Record<VpsState, readonly VpsState[]> = {
  pending: ['provisioning', 'failed', 'destroying'],
  provisioning: ['defined', 'starting', 'running', 'failed', 'destroying'],
  defined: ['starting', 'provisioning', 'failed', 'destroying'],
  starting: ['running', 'failed', 'stopped', 'provisioning'],
  running: ['stopping', 'stopped', 'paused', 'failed', 'starting', 'destroying'],
  stopping: ['stopped', 'failed', 'running'],
  stopped: ['starting', 'failed', 'destroying', 'provisioning'],
  paused: ['running', 'stopping', 'stopped', 'failed', 'destroying'],
  failed: ['provisioning', 'starting', 'stopped', 'destroying', 'running'],
  destroying: ['destroyed', 'failed'],
  destroyed: [],
};

export function canTransition(from: VpsState, to: VpsState): boolean {
  return legal[from].includes(to);
}

export function transition(from: VpsState, to: VpsState): VpsState {
  if (!canTransition(from, to))
    throw conflict('vps.illegal_transition', `A VPS cannot go from ${from} to ${to}`, { from, to });
  return to;
}

export function isVpsState(s: string): s is VpsState {
  return (vpsStates as readonly string[]).includes(s);
}

/** Which operator actions a state allows (the panel shows only these). */
export function allowedActions(s: VpsState): ('start' | 'stop' | 'reboot' | 'poweroff')[] {
  switch (s) {
    case 'stopped':
    case 'defined':
      return ['start'];
    case 'running':
      return ['stop', 'reboot', 'poweroff'];
    case 'paused':
      return ['poweroff'];
    case 'failed':
      return ['start', 'poweroff'];
    default:
      return [];
  }
}
