// Power actions on a VPS (start, stop, reboot, poweroff): which states allow which action, the state the VPS
// shows while the action runs, and the state it ends in. Pure: the service checks this plan
// first (a conflict names the current state), then calls the host driver.
import { conflict, notAllowed } from './errors.ts';
import { allowedActions, type VpsState } from './vps-state.ts';

export const powerActions = ['start', 'stop', 'reboot', 'poweroff'] as const;
export type PowerAction = (typeof powerActions)[number];

export interface PowerPlan {
  action: PowerAction;
  from: VpsState;
  /** Shown while the action runs (equal to `from` when the state does not change meanwhile). */
  during: VpsState;
  /** When the driver call succeeded. */
  to: VpsState;
}

const shape: Record<PowerAction, { during: VpsState | null; to: VpsState }> = {
  start: { during: 'starting', to: 'running' },
  stop: { during: 'stopping', to: 'stopped' },
  // The guest restarts in place: the VPS stays `running` (its QEMU process too, unless a vCPU or
  // RAM resize is pending, when the driver does a full stop+start).
  reboot: { during: null, to: 'running' },
  // The power cord: no polite rung, the process ends at once.
  poweroff: { during: null, to: 'stopped' },
};

/**
 * What a client may do to their own VPS. A managed VPS (R3.4): the provider administers it, the
 * client may restart it. Power off (no clean shutdown) and anything on a failed VPS (an incident
 * the provider looks at, R4.1) are staff's; a paused VPS is a suspension and never the client's.
 */
const clientAllowed: Record<PowerAction, readonly VpsState[]> = {
  start: ['stopped', 'defined'],
  stop: ['running'],
  reboot: ['running'],
  poweroff: [],
};

export function isPowerAction(s: string): s is PowerAction {
  return (powerActions as readonly string[]).includes(s);
}

/** The plan of `action` on a VPS in state `from`; a conflict naming the state otherwise. */
export function planPower(from: VpsState, action: PowerAction): PowerPlan {
  const allowed = allowedActions(from);
  if (!allowed.includes(action))
    throw conflict(
      'vps.illegal_transition',
      `The VPS is ${from}: ${action} is not possible now${allowed.length ? ` (possible: ${allowed.join(', ')})` : ''}`,
      { state: from, action },
    );
  const s = shape[action];
  return { action, from, during: s.during ?? from, to: s.to };
}

/** The actions a client sees for their VPS (the subset of `allowedActions` that is theirs). */
export function clientActions(s: VpsState): PowerAction[] {
  return allowedActions(s).filter((a) => clientAllowed[a].includes(s));
}

/**
 * A client's request, after `planPower` accepted it for staff: refused with `not_allowed` when the
 * action is staff's only (the state is legal for staff, so this is about who, not when).
 */
export function assertClientMay(s: VpsState, action: PowerAction): void {
  if (s === 'paused')
    throw conflict('vps.suspended', 'This VPS is suspended: it cannot be started, stopped or restarted', {
      state: s,
      action,
    });
  if (!clientAllowed[action].includes(s))
    throw notAllowed('vps.action_staff_only', `Only the provider can ${action} a VPS that is ${s}`, {
      state: s,
      action,
    });
}
