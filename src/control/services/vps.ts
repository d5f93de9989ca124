// VPS operations of the control plane: power actions through the host driver
// under the state machine, suspension (pause/resume), the serial console, hosts' live figures
// and orphans; its failed actions raise staff alerts (services/alerts.ts).
//
// A power action is checked and recorded in one transaction under the VPS's row lock (legal
// transition first: a conflict names the current state; one action in flight per VPS), its
// `vps.power` job queued in that transaction; the job calls the driver and settles the state.
// The HTTP request never waits for the driver (the stop ladder can take ~105 s).
//
// Suspension: `suspend(db, vpsId, reason)` pauses a running VPS (QMP stop) and records `paused`;
// `resume` lets it run again. A VPS-level suspension is also recorded apart from the power state,
// as a hold (`hold`/`releaseHolds`, repositories/vps-holds.ts): while one is in force nobody
// starts or reboots the VPS (a client may do nothing to it), whatever state it was suspended in,
// and a start already in flight ends paused. The network cut of a suspension is the sanctions module's. An
// account suspension (R6.1, services/suspensions.ts) pauses every running VPS of the account, its
// lifting resumes the ones it paused; `reconcileSuspensions()` does the same at start.
import { conflict, isDomainError, notAllowed } from '../../domain/errors.ts';
import { assertClientMay, clientActions, planPower, type PowerAction } from '../../domain/vps-power.ts';
import { allowedActions, canTransition, isVpsState, type VpsState } from '../../domain/vps-state.ts';
import type { HostAgent } from '../../agent/host-agent.ts';
import type { VmState } from '../../agent/driver.ts';
import type { Db } from '../db/database.ts';
import { getHost, hostLoads } from '../repositories/hosts.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { inTransaction } from '../repositories/transactions.ts';
import {
  getVps,
  getVpsForUpdate,
  lockVps,
  recordVpsEvent,
  setVpsState,
  vpsInStates,
  type VpsRow,
} from '../repositories/vps.ts';
import {
  actionInFlight,
  getVpsAction,
  insertVpsAction,
  updateVpsAction,
  type VpsActionRow,
} from '../repositories/vps-actions.ts';
import {
  activeHold,
  insertHold,
  liftHolds,
  type HoldOwner,
  type VpsHoldRow,
} from '../repositories/vps-holds.ts';
import { raiseAlert, type AlertKind } from './alerts.ts';
import type { AuditService } from './audit.ts';
import type { ClientsService, SuspensionChange } from './clients.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import { createVpsViews } from './vps-views.ts';

export type { VpsActionRow, VpsRow };
export type { VpsSuspension, VpsView } from './vps-views.ts';

export const POWER_JOB = 'vps.power';
/** `state_reason` of a VPS paused because its account is suspended (so lifting resumes only those). */
export const ACCOUNT_SUSPENDED_REASON = 'account suspended';

const driverToVps: Record<VmState, VpsState> = {
  stopped: 'stopped',
  starting: 'starting',
  running: 'running',
  paused: 'paused',
  stopping: 'stopping',
  failed: 'failed',
};

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** `state_reason` of a VPS paused by a hold (a sanction's reads `sanction <id>: …`, as its lift expects). */
export const holdReason = (h: Pick<VpsHoldRow, 'owner_type' | 'owner_id' | 'reason'>) =>
  h.owner_type === 'sanction' ? `sanction ${h.owner_id}: ${h.reason}` : h.reason;

/** What the caller may ask for, given the VPS's state and its suspensions. */
export function powerActionsFor(
  scope: Scope,
  state: string,
  s: { held: boolean; accountSuspended: boolean },
): PowerAction[] {
  if (!isVpsState(state)) return [];
  if (scope.kind === 'client') return s.held || s.accountSuspended ? [] : clientActions(state);
  return s.held
    ? allowedActions(state).filter((a) => a !== 'start' && a !== 'reboot')
    : allowedActions(state);
}

export function createVpsService(ctx: ServiceContext, audit: AuditService, clients: ClientsService) {
  const { db, clock, agents, log } = ctx;

  async function agentOf(vps: Pick<VpsRow, 'id' | 'host_id'>): Promise<HostAgent> {
    if (!vps.host_id)
      throw conflict('vps.not_placed', 'This VPS is on no host (its provisioning did not place it)');
    return agents.forHost(await getHost(db, vps.host_id));
  }

  async function alertStaff(
    exec: Db,
    kind: AlertKind,
    vps: Pick<VpsRow, 'id' | 'hostname'>,
    text: string,
  ): Promise<void> {
    await raiseAlert(exec, {
      at: clock.now(),
      kind,
      subject_type: 'vps',
      subject_id: vps.id,
      message: `${vps.hostname}: ${text}`,
    });
  }

  const service = {
    ...createVpsViews(db),

    /**
     * Checks and records a power action, queues its job; the VPS shows the action's "during"
     * state at once (`stopping`, `starting`). Another account's VPS is not found.
     */
    async requestPower(
      scope: Scope,
      vpsId: string,
      action: PowerAction,
      actor: AuditActor,
    ): Promise<{ action: VpsActionRow; vps: VpsRow }> {
      const out = await inTransaction(db, async (tx) => {
        await getVps(tx, scope, vpsId); // scope first: another account's VPS is a 404, not a 409
        const v = await getVpsForUpdate(tx, vpsId);
        if (!isVpsState(v.state)) throw new Error(`VPS ${v.id} has an unknown state ${v.state}`);
        const plan = planPower(v.state, action);
        if (scope.kind === 'client') {
          assertClientMay(v.state, action);
          if (await clients.isSuspended(tx, v.account_id))
            throw notAllowed('account.suspended', 'This account is suspended');
        }
        // Checked under the row lock a hold is taken under: a suspension recorded before this
        // request wins, one recorded after it finds the action in flight (and re-pauses it).
        const hold = await activeHold(tx, v.id);
        if (hold && (scope.kind === 'client' || action === 'start' || action === 'reboot'))
          throw conflict(
            'vps.suspended',
            'This VPS is suspended: it cannot be started or restarted until the suspension is lifted',
            { state: v.state, action },
          );
        if (!v.host_id)
          throw conflict('vps.not_placed', 'This VPS is on no host (its provisioning did not place it)');
        const busy = await actionInFlight(tx, v.id);
        if (busy)
          throw conflict('vps.action_in_progress', `A ${busy.action} of this VPS is in progress`, {
            action: busy.action,
          });
        const a = await insertVpsAction(tx, {
          vps_id: v.id,
          action,
          requested_by: actor.label,
          requested_at: clock.now(),
        });
        if (plan.during !== plan.from)
          await setVpsState(tx, v.id, plan.during, clock.now(), `${action} requested by ${actor.label}`);
        await recordVpsEvent(tx, v.id, clock.now(), 'power', {
          actionId: a.id,
          action,
          phase: 'requested',
          by: actor.label,
        });
        await ctx.queue.send(POWER_JOB, { actionId: a.id }, { db: tx, singletonKey: `power:${a.id}` });
        return { action: a, vps: await getVps(tx, SYSTEM_SCOPE, v.id) };
      });
      await audit.record(
        actor,
        `vps.${action}`,
        { type: 'vps', id: vpsId },
        { actionId: out.action.id, phase: 'requested' },
      );
      return out;
    },

    /** The `vps.power` job: calls the driver, then settles the VPS's state and the action. Idempotent. */
    async runPower(actionId: string): Promise<void> {
      const a = await getVpsAction(db, actionId);
      if (a.state === 'done' || a.state === 'failed') return;
      await updateVpsAction(db, a.id, { state: 'running', started_at: a.started_at ?? clock.now() });
      const vps = await getVps(db, SYSTEM_SCOPE, a.vps_id);
      const to: VpsState = a.action === 'stop' || a.action === 'poweroff' ? 'stopped' : 'running';
      let agent: HostAgent | undefined;
      try {
        agent = await agentOf(vps);
        const driver = agent.driver;
        // A job run again after a crash finds the work perhaps done already.
        const before = await driver.status(vps.id);
        let result: Record<string, unknown>;
        if (before.state === driverToVpsInverse(to) && a.action !== 'reboot') result = { already: true };
        else if (a.action === 'start') {
          const st = await driver.start(vps.id);
          result = { pid: st.pid, accel: st.accel };
        } else if (a.action === 'stop') {
          const r = await driver.shutdown(vps.id);
          result = { endedBy: r.endedBy, elapsedMs: r.elapsedMs, rungs: r.rungs };
        } else if (a.action === 'reboot') {
          const st = await driver.reboot(vps.id);
          result = { pid: st.pid };
        } else {
          await driver.powerOff(vps.id);
          result = {};
        }
        await inTransaction(db, async (tx) => {
          await setVpsState(
            tx,
            vps.id,
            to,
            clock.now(),
            a.action === 'stop' && result.endedBy ? `stopped by the ${String(result.endedBy)} rung` : null,
          );
          await updateVpsAction(tx, a.id, { state: 'done', finished_at: clock.now(), result });
          await recordVpsEvent(tx, vps.id, clock.now(), 'power', {
            actionId: a.id,
            action: a.action,
            phase: 'done',
            ...result,
          });
        });
        await audit.record(
          SYSTEM_ACTOR,
          `vps.${a.action}.done`,
          { type: 'vps', id: vps.id },
          { actionId: a.id, ...result },
        );
        // A VPS started (or rebooted) while it is held or its account is suspended goes back to
        // paused: the suspension came while the action was in flight.
        if (to === 'running') {
          const hold = await activeHold(db, vps.id);
          if (hold) await service.suspend(db, vps.id, holdReason(hold));
          else if (await clients.isSuspended(db, vps.account_id))
            await service.suspend(db, vps.id, ACCOUNT_SUSPENDED_REASON);
        }
      } catch (e) {
        const reason = `${a.action} failed: ${message(e)}`;
        log.error({ vps: vps.id, action: a.action, err: e }, 'power action failed');
        // Whatever the host says the VM is now, if the state machine allows it; `failed` otherwise.
        const now = agent
          ? await agent.driver.status(vps.id).then(
              (st) => driverToVps[st.state],
              () => null,
            )
          : null;
        await inTransaction(db, async (tx) => {
          const cur = (await getVpsForUpdate(tx, vps.id)).state;
          const target: VpsState =
            now &&
            isVpsState(cur) &&
            (now === cur || canTransition(cur, now)) &&
            now !== 'starting' &&
            now !== 'stopping'
              ? now
              : 'failed';
          if (isVpsState(cur) && cur !== target && canTransition(cur, target))
            await setVpsState(tx, vps.id, target, clock.now(), target === 'failed' ? reason : null);
          await updateVpsAction(tx, a.id, { state: 'failed', finished_at: clock.now(), error: reason });
          await recordVpsEvent(tx, vps.id, clock.now(), 'power', {
            actionId: a.id,
            action: a.action,
            phase: 'failed',
            reason,
          });
          await alertStaff(tx, 'power_failed', vps, reason);
        });
        await audit.record(
          SYSTEM_ACTOR,
          `vps.${a.action}.failed`,
          { type: 'vps', id: vps.id },
          { actionId: a.id, reason },
        );
      }
    },

    /** Pauses a running VPS (QMP stop) and records `paused` with the reason. Returns whether it paused it. */
    async suspend(exec: Db, vpsId: string, reason: string): Promise<boolean> {
      const vps = await getVps(exec, SYSTEM_SCOPE, vpsId);
      if (vps.state !== 'running') return false;
      const agent = await agentOf(vps);
      const st = await agent.driver.status(vps.id);
      if (st.state === 'running') await agent.driver.pause(vps.id);
      else if (st.state !== 'paused') throw conflict('vps.not_running', `The VM of this VPS is ${st.state}`);
      await setVpsState(exec, vps.id, 'paused', clock.now(), reason);
      await audit.record(SYSTEM_ACTOR, 'vps.suspend', { type: 'vps', id: vps.id }, { reason });
      return true;
    },

    /**
     * Records a VPS-level suspension apart from the power state, under the VPS's row lock (power
     * requests check holds under the same lock). Returns whether it is new.
     */
    async hold(vpsId: string, owner: HoldOwner, reason: string, actor: AuditActor): Promise<boolean> {
      const added = await inTransaction(db, async (tx) => {
        await lockVps(tx, vpsId);
        const at = clock.now();
        const isNew = await insertHold(tx, { vpsId, owner, reason, by: actor.label, at });
        if (isNew)
          await recordVpsEvent(tx, vpsId, at, 'suspension', {
            phase: 'start',
            owner: owner.type,
            ownerId: owner.id,
            by: actor.label,
          });
        return isNew;
      });
      if (added)
        await audit.record(
          actor,
          'vps.hold',
          { type: 'vps', id: vpsId },
          { owner: owner.type, ownerId: owner.id, reason },
        );
      return added;
    },

    /** Lifts the holds of an owner (its lifting); returns the VPSs it held. The power state is the caller's. */
    async releaseHolds(owner: HoldOwner, actor: AuditActor): Promise<string[]> {
      const released = await inTransaction(db, async (tx) => {
        const at = clock.now();
        const ids = await liftHolds(tx, owner, at, actor.label);
        for (const id of ids)
          await recordVpsEvent(tx, id, at, 'suspension', {
            phase: 'end',
            owner: owner.type,
            ownerId: owner.id,
            by: actor.label,
          });
        return ids;
      });
      for (const id of released)
        await audit.record(
          actor,
          'vps.hold_lift',
          { type: 'vps', id },
          { owner: owner.type, ownerId: owner.id },
        );
      return released;
    },

    /** Lets a paused VPS run again. Returns whether it resumed it. */
    async resume(exec: Db, vpsId: string, reason: string): Promise<boolean> {
      const vps = await getVps(exec, SYSTEM_SCOPE, vpsId);
      if (vps.state !== 'paused') return false;
      if (await activeHold(exec, vpsId)) return false; // another suspension still holds it
      const agent = await agentOf(vps);
      const st = await agent.driver.status(vps.id);
      if (st.state === 'paused') await agent.driver.resume(vps.id);
      else if (st.state !== 'running') throw conflict('vps.not_paused', `The VM of this VPS is ${st.state}`);
      await setVpsState(exec, vps.id, 'running', clock.now(), null);
      await audit.record(SYSTEM_ACTOR, 'vps.resume', { type: 'vps', id: vps.id }, { reason });
      return true;
    },

    /** The clients module's listener (R6.1): a suspended account's VPSs pause, a lifted one's resume. */
    async onSuspensionChange(change: SuspensionChange): Promise<void> {
      const vpss = await vpsInStates(db, ['running', 'paused'], change.accountId);
      if (change.suspended) {
        for (const v of vpss.filter((x) => x.state === 'running'))
          await service
            .suspend(db, v.id, `${ACCOUNT_SUSPENDED_REASON} (${change.cause})`)
            .catch((e: unknown) =>
              log.error({ vps: v.id, err: e }, 'pause of a suspended account’s VPS failed'),
            );
        return;
      }
      if (await clients.isSuspended(db, change.accountId)) return; // another suspension still holds
      for (const v of vpss.filter(
        (x) => x.state === 'paused' && x.state_reason?.startsWith(ACCOUNT_SUSPENDED_REASON),
      ))
        await service
          .resume(db, v.id, `account suspension lifted (${change.cause})`)
          .catch((e: unknown) => log.error({ vps: v.id, err: e }, 'resume after a lifted suspension failed'));
    },

    /** At start: the listeners may have missed a change while the platform was down. */
    async reconcileSuspensions(): Promise<{ paused: number; resumed: number }> {
      const suspended = new Set((await clients.allActiveSuspensions()).map((s) => s.account_id));
      const rows = await vpsInStates(db, ['running', 'paused']);
      let paused = 0;
      let resumed = 0;
      for (const v of rows) {
        try {
          const hold = v.state === 'running' ? await activeHold(db, v.id) : undefined;
          if (hold) paused += Number(await service.suspend(db, v.id, holdReason(hold)));
          else if (v.state === 'running' && suspended.has(v.account_id))
            paused += Number(await service.suspend(db, v.id, ACCOUNT_SUSPENDED_REASON));
          else if (
            v.state === 'paused' &&
            !suspended.has(v.account_id) &&
            v.state_reason?.startsWith(ACCOUNT_SUSPENDED_REASON)
          )
            resumed += Number(await service.resume(db, v.id, 'account no longer suspended'));
        } catch (e) {
          log.error({ vps: v.id, err: e }, 'suspension reconcile of a VPS failed');
        }
      }
      return { paused, resumed };
    },

    /** The serial console's last lines (staff only: the route says so). */
    async consoleLog(vpsId: string, lines = 200): Promise<{ lines: string[]; available: boolean }> {
      const vps = await getVps(db, SYSTEM_SCOPE, vpsId);
      if (!vps.host_id) return { lines: [], available: false };
      const agent = await agentOf(vps);
      try {
        return { lines: (await agent.driver.consoleLog(vps.id, { lines })).lines, available: true };
      } catch (e) {
        if (isDomainError(e) && e.kind === 'not_found') return { lines: [], available: false };
        throw e;
      }
    },

    /** A host with what the database places on it and, when its agent is open, the driver's own figures. */
    async hostDetail(hostId: string) {
      const host = await getHost(db, hostId);
      const load = (await hostLoads(db, host.datacenter_id)).find((h) => h.id === host.id)!;
      const agent = agents.peek?.(host);
      let live = null;
      if (agent) {
        const [cap, caps] = await Promise.all([agent.driver.capacity(), agent.driver.capabilities()]);
        live = { ...cap, accel: caps.accel, accelReason: caps.accelReason, qemuVersion: caps.qemuVersion };
      }
      return { ...load, agent: host.agent, agentOpen: Boolean(agent), live };
    },

    async orphans(hostId: string) {
      const agent = await agents.forHost(await getHost(db, hostId));
      return agent.driver.orphans();
    },

    async cleanOrphans(hostId: string, actor: AuditActor) {
      const agent = await agents.forHost(await getHost(db, hostId));
      const r = await agent.driver.cleanOrphans();
      await audit.record(actor, 'host.orphans_clean', { type: 'host', id: hostId }, { ...r });
      return r;
    },
  };
  return service;
}

function driverToVpsInverse(s: VpsState): VmState | null {
  return s === 'running' || s === 'stopped' ? s : null;
}

export type VpsService = ReturnType<typeof createVpsService>;
