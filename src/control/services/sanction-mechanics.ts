// The mechanics of a sanction (R5.1, R6.4, R12.3, R12.5): what each rung applies through the
// modules that own it — network blocks (restriction, limitation, isolation), the VPS's hold and
// pause (suspension of a VPS), the account's suspension (R6.1, a whole account), terminations
// (R12.3) — recorded as it goes so that a lift, or a failure half-way, undoes exactly that.
import { conflict } from '../../domain/errors.ts';
import type { Rung } from '../../domain/sanctions.ts';
import type { SanctionApplied, SanctionParams } from '../db/tables/sanctions.ts';
import { openContractIdsOfVpss } from '../repositories/contracts.ts';
import { findNetworkBlock } from '../repositories/network-blocks.ts';
import { otherSuspensionOfVps, setSanctionApplied, type SanctionRow } from '../repositories/sanctions.ts';
import { findVps, setPausedReason } from '../repositories/vps.ts';
import type { ClientsService } from './clients.ts';
import type { AuditActor, ServiceContext } from './context.ts';
import type { NetworkBlocksService } from './network-blocks.ts';
import { NATURE } from './sanction-notices.ts';
import { ACCOUNT_SUSPENDED_REASON, type VpsService } from './vps.ts';
import type { Db } from '../db/database.ts';

/** The terminations module's entry point (R12.3), as sanctions call it. */
export interface Terminator {
  terminate(
    db: Db,
    p: {
      contractId: string;
      cause: 'provider_breach';
      effectiveAt: Date;
      recordedBy: string;
      reason: string;
    },
  ): Promise<unknown>;
}

/** Who a sanction is applied to: the account and the VPSs concerned (`vpsId` null: the whole account). */
export interface SanctionTarget {
  accountId: string;
  vpsIds: string[];
  vpsId: string | null;
}

export function createSanctionMechanics(
  ctx: ServiceContext,
  deps: {
    networkBlocks: NetworkBlocksService;
    vps: VpsService;
    clients: ClientsService;
    terminator: () => Terminator | undefined;
  },
) {
  const { db, clock } = ctx;
  const terminator = deps.terminator;

  /** Applies the mechanics of a rung on the target; returns what it applied. */
  async function apply(
    actor: AuditActor,
    sanctionId: string,
    rung: Rung,
    target: { accountId: string; vpsIds: string[]; vpsId: string | null },
    params: SanctionParams,
    reason: string,
    plannedEnd: Date | undefined,
    /** Filled as it goes, so a failure half-way can be undone. */
    applied: SanctionApplied,
  ): Promise<SanctionApplied> {
    const netReason = `${NATURE[rung].en}: ${reason}`;
    const net = async (kind: 'block' | 'throttle' | 'isolate') => {
      for (const v of target.vpsIds) {
        const r = await deps.networkBlocks.add(
          actor,
          v,
          {
            kind,
            ...(kind === 'block' ? { protocol: params.protocol!, direction: params.direction! } : {}),
            ...(kind === 'block' && params.port !== undefined ? { port: params.port } : {}),
            reason: netReason,
            ...(plannedEnd ? { expectedUntil: plannedEnd } : {}),
          },
          // Owned: only this sanction's lift removes it (R5.1's refusal, R12.6's order hold).
          { owner: { type: 'sanction', id: sanctionId } },
        );
        applied.networkBlockIds!.push(r.id);
      }
    };
    switch (rung) {
      case 'warning':
        break;
      case 'restriction':
        await net('block');
        break;
      case 'limitation':
        await net('throttle');
        break;
      case 'suspension':
        if (!target.vpsId) {
          // A whole account: the clients module's suspension pauses every VPS (R6.1 listener).
          const s = await deps.clients.suspend(
            { accountId: target.accountId, cause: 'sanction', referenceId: sanctionId, reason },
            actor,
          );
          if (s) applied.accountSuspensionId = s.id;
        } else {
          for (const v of target.vpsIds) {
            const why = `sanction ${sanctionId}: ${reason}`;
            // Recorded apart from the power state first: a VPS suspended while stopped stays
            // suspended (no start by its client, nor by staff, until this sanction is lifted).
            await deps.vps.hold(v, { type: 'sanction', id: sanctionId }, reason, actor);
            if (await deps.vps.suspend(db, v, why)) applied.pausedVpsIds!.push(v);
            else {
              // Already paused (an account suspension, another sanction): this sanction holds the
              // pause now, so the other's end does not resume it while this one is in force.
              if (await setPausedReason(db, v, why)) applied.pausedVpsIds!.push(v);
            }
          }
        }
        await net('isolate');
        break;
      case 'isolation':
        await net('isolate');
        break;
      case 'termination': {
        const t = terminator();
        if (!t) throw conflict('sanction.termination_unavailable', 'Terminations are not available');
        applied.terminatedContractIds = [];
        for (const contractId of await openContractIdsOfVpss(db, target.vpsIds)) {
          await t.terminate(db, {
            contractId,
            cause: 'provider_breach',
            effectiveAt: clock.now(),
            recordedBy: actor.label,
            reason,
          });
          applied.terminatedContractIds.push(contractId);
        }
        break;
      }
    }
    return applied;
  }

  /** Undoes what a sanction applied (and only that). */
  async function undo(
    actor: AuditActor,
    m: Pick<SanctionRow, 'id' | 'account_id' | 'applied'>,
    reason: string,
  ): Promise<void> {
    for (const id of m.applied.networkBlockIds ?? []) {
      const nm = await findNetworkBlock(db, id);
      if (nm && !nm.lifted_at)
        await deps.networkBlocks.lift(actor, nm.vps_id, id, { type: 'sanction', id: m.id });
    }
    if (m.applied.accountSuspensionId)
      await deps.clients.lift(
        { accountId: m.account_id, cause: 'sanction', referenceId: m.id },
        reason,
        actor,
      );
    // Its VPS-level holds first, so the VPSs it held may run again (unless another suspension
    // holds them); one it held but did not pause itself (a start in flight re-paused) counts too.
    const released = await deps.vps.releaseHolds({ type: 'sanction', id: m.id }, actor);
    for (const v of new Set([...(m.applied.pausedVpsIds ?? []), ...released])) {
      const row = await findVps(db, v);
      // Only a VPS still paused by this sanction (not by an account suspension since).
      if (row?.state !== 'paused' || !row.state_reason?.startsWith(`sanction ${m.id}`)) continue;
      // Another suspension still in force on this VPS keeps it paused: it takes the pause over.
      const other = await otherSuspensionOfVps(db, v, m.id);
      if (other) {
        await setSanctionApplied(db, other.id, {
          ...other.applied,
          pausedVpsIds: [...(other.applied.pausedVpsIds ?? []), v],
        });
        await setPausedReason(db, v, `sanction ${other.id}: ${other.reason}`);
        continue;
      }
      // An account suspension still in force keeps it paused (its lifting resumes it).
      if (await deps.clients.isSuspended(db, m.account_id)) {
        await setPausedReason(db, v, `${ACCOUNT_SUSPENDED_REASON} (sanction ${m.id} lifted)`);
        continue;
      }
      await deps.vps.resume(db, v, `sanction ${m.id} lifted`);
    }
  }

  return { apply, undo };
}
export type SanctionMechanics = ReturnType<typeof createSanctionMechanics>;
