// Cut-off states (R5.1, R6.4, and the mechanics R7/R9/R12 use): isolating a VPS, blocking a
// port or protocol, lifting either. Each is a row of `network_blocks` (listed, audited,
// shown to the client with its reason), and the host applies the VPS's whole policy at once
// (`applyPolicy(policyFor(...))`), never a stray rule. A reconcile compares every host's live
// rules with the policies the database gives and repairs drift (audited).
import { conflict, invalidData, notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import { getHost } from '../repositories/hosts.ts';
import {
  blockOwnerSanction,
  insertNetworkBlock,
  listNetworkBlocks,
  markNetworkBlockLifted,
  networkBlockForUpdate,
  networkBlocksInForce,
  networkedVpss,
  type NetworkBlockRow,
} from '../repositories/network-blocks.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { getVps, type VpsRow } from '../repositories/vps.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import { policyFor } from './net-policy.ts';
import { NETWORKED_STATES } from './traffic.ts';

export const RECONCILE_JOB = 'net.reconcile';

export interface NewNetworkBlock {
  /** `throttle`: the after-quota rate (R3.13) set by staff, the sanctions module's limitation (R12.5). */
  kind: 'isolate' | 'block' | 'throttle';
  protocol?: 'tcp' | 'udp' | 'icmp' | 'all';
  port?: number;
  direction?: 'in' | 'out' | 'both';
  reason: string;
  /** Expected end, told to the client (R5.1: "expected duration"); lifting stays explicit. */
  expectedUntil?: Date;
}

/** Who a network block belongs to: only that owner lifts it (a sanction, perhaps ordered by an authority notice). */
export interface BlockOwner {
  type: 'sanction' | 'spam_block';
  id: string;
}

export interface NetworkBlockView {
  id: string;
  kind: 'isolate' | 'block' | 'throttle';
  protocol: string | null;
  port: number | null;
  direction: string | null;
  reason: string;
  createdBy: string;
  createdAt: string;
  until: string | null;
  liftedAt: string | null;
  liftedBy: string | null;
  /** Staff only (clients never see it): the sanction it belongs to, lifted only through it. */
  owner?: BlockOwner | null;
}

export const networkBlockOut = (m: NetworkBlockRow): NetworkBlockView => ({
  id: m.id,
  kind: m.kind,
  protocol: m.protocol,
  port: m.port,
  direction: m.direction,
  reason: m.reason,
  createdBy: m.created_by,
  createdAt: m.created_at.toISOString(),
  until: m.until?.toISOString() ?? null,
  liftedAt: m.lifted_at?.toISOString() ?? null,
  liftedBy: m.lifted_by,
  owner: m.owner_type && m.owner_id ? { type: m.owner_type, id: m.owner_id } : null,
});

/** What a client sees of a network block (R5.1): who took it is "provider", never a staff member. */
export const clientNetworkBlockOut = (m: NetworkBlockView): NetworkBlockView => {
  const { owner: _owner, ...rest } = m;
  return { ...rest, createdBy: 'provider', liftedBy: m.liftedBy === null ? null : 'provider' };
};

export function createNetworkBlocksService(ctx: ServiceContext, audit: AuditService) {
  const { db, clock, log } = ctx;

  /** The VPS's whole policy, applied on its host now; false when it has no port yet (provisioning applies it later). */
  async function applyNow(vps: VpsRow): Promise<boolean> {
    if (
      !vps.host_id ||
      vps.net_slot === null ||
      !vps.ipv4 ||
      !vps.mac ||
      !(NETWORKED_STATES as readonly string[]).includes(vps.state)
    )
      return false;
    const agent = await ctx.agents.forHost(await getHost(db, vps.host_id));
    await agent.network.applyPolicy(await policyFor(db, vps, agent.network.portName(vps.id)));
    return true;
  }

  /** The 409 naming the sanction (and its authority notice) that owns a network block. */
  async function ownedError(exec: Db, kind: string, sanctionId: string) {
    const owner = await blockOwnerSanction(exec, sanctionId);
    const notice = owner?.notice_id
      ? ` ordered by the authority notice ${owner.notice_id} (${owner.authority}, ${owner.reference})`
      : '';
    return conflict(
      'network_block.owned',
      `This ${kind} belongs to the sanction ${sanctionId}${owner ? ` (${owner.rung})` : ''}${notice}: lift that sanction (POST /v1/admin/sanctions/${sanctionId}/lift), not its network rule`,
      { ownerType: 'sanction', ownerId: sanctionId, noticeId: owner?.notice_id ?? null },
    );
  }

  function check(p: NewNetworkBlock): void {
    const reason = p.reason.trim();
    if (reason.length < 3)
      throw invalidData('validation.reason', 'Say why (the client is shown it: R5.1)', { field: 'reason' });
    if (p.kind !== 'block') {
      if (p.protocol || p.port || p.direction)
        throw invalidData(
          'validation.kind',
          'An isolation or a throttle takes no protocol, port or direction',
          {
            field: 'kind',
          },
        );
      return;
    }
    if (!p.protocol)
      throw invalidData('validation.protocol', 'A block needs a protocol (tcp, udp, icmp or all)', {
        field: 'protocol',
      });
    if (!p.direction)
      throw invalidData('validation.direction', 'A block needs a direction (in, out or both)', {
        field: 'direction',
      });
    if (p.port !== undefined && p.protocol !== 'tcp' && p.protocol !== 'udp')
      throw invalidData('validation.port', 'A port goes with tcp or udp', { field: 'port' });
    if (p.port !== undefined && (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535))
      throw invalidData('validation.port', 'A port is 1 to 65535', { field: 'port' });
  }

  return {
    /**
     * Staff: isolate a VPS, or block a port/protocol for it; applied on the host at once. With an
     * owner (a sanction), only that owner lifts it.
     */
    async add(
      actor: AuditActor,
      vpsId: string,
      p: NewNetworkBlock,
      opts: { owner?: BlockOwner } = {},
    ): Promise<NetworkBlockView & { applied: boolean }> {
      check(p);
      const vps = await getVps(db, SYSTEM_SCOPE, vpsId);
      if (vps.state === 'destroyed') throw conflict('vps.destroyed', 'This VPS is destroyed');
      const now = clock.now();
      if (p.expectedUntil && p.expectedUntil.getTime() <= now.getTime())
        throw invalidData('validation.expectedUntil', 'The expected end is in the past', {
          field: 'expectedUntil',
        });
      const row = await insertNetworkBlock(db, {
        vps_id: vps.id,
        kind: p.kind,
        protocol: p.kind === 'block' ? p.protocol! : null,
        port: p.kind === 'block' ? (p.port ?? null) : null,
        direction: p.kind === 'block' ? p.direction! : null,
        reason: p.reason.trim(),
        created_by: actor.label,
        created_at: now,
        until: p.expectedUntil ?? null,
        owner_type: opts.owner?.type ?? null,
        owner_id: opts.owner?.id ?? null,
      });
      await audit.record(
        actor,
        `vps.net_${p.kind}`,
        { type: 'vps', id: vps.id },
        {
          blockId: row.id,
          protocol: row.protocol,
          port: row.port,
          direction: row.direction,
          reason: row.reason,
        },
      );
      let applied = false;
      try {
        applied = await applyNow(vps);
      } catch (e) {
        // Recorded: the reconcile applies it; staff see `applied: false`.
        log.error({ err: e, vps: vps.id }, 'network block not applied on the host yet');
      }
      return { ...networkBlockOut(row), applied };
    },

    /**
     * Staff: lift a network block in force (409 when it is not), applied on the host at once. A block
     * with an owner is lifted only by that owner (`by`), whoever asks: R5.1's refusal to restore
     * and an authority's order (R12.6) are decided on the sanction, never bypassed here.
     */
    async lift(
      actor: AuditActor,
      vpsId: string,
      blockId: string,
      by?: BlockOwner,
    ): Promise<NetworkBlockView & { applied: boolean }> {
      const vps = await getVps(db, SYSTEM_SCOPE, vpsId);
      const now = clock.now();
      const row = await inTransaction(db, async (tx) => {
        const m = await networkBlockForUpdate(tx, blockId, vps.id);
        if (!m) throw notFound('network_block.not_found', 'No such network block on this VPS');
        if (m.lifted_at)
          throw conflict('network_block.not_in_force', 'This network block was already lifted', {
            liftedAt: m.lifted_at.toISOString(),
          });
        if (m.owner_type && m.owner_id && !(by?.type === m.owner_type && by.id === m.owner_id))
          throw m.owner_type === 'spam_block'
            ? conflict(
                'network_block.owned',
                `This port-25 block belongs to the spam block ${m.owner_id} (R7.2): lift it through the anti-spam queue (POST /v1/admin/spam/blocks/${m.owner_id}/lift)`,
                { ownerType: 'spam_block', ownerId: m.owner_id },
              )
            : await ownedError(tx, m.kind, m.owner_id);
        return markNetworkBlockLifted(tx, m.id, actor.label, now);
      });
      await audit.record(
        actor,
        'vps.net_lift',
        { type: 'vps', id: vps.id },
        { blockId: row.id, kind: row.kind },
      );
      let applied = false;
      try {
        applied = await applyNow(vps);
      } catch (e) {
        log.error({ err: e, vps: vps.id }, 'lift not applied on the host yet');
      }
      return { ...networkBlockOut(row), applied };
    },

    /**
     * Applies the VPS's whole policy on its host now (after another module changed its blocks
     * in its own transaction, e.g. a port-25 block, R7.2); false when not applied (logged: the
     * reconcile applies it).
     */
    async reapply(vpsId: string): Promise<boolean> {
      try {
        return await applyNow(await getVps(db, SYSTEM_SCOPE, vpsId));
      } catch (e) {
        log.error({ err: e, vps: vpsId }, 'network policy not applied on the host yet');
        return false;
      }
    },

    /** Network blocks of a VPS (clients: their own VPS's; in force only unless `all`). */
    async list(scope: Scope, vpsId: string, opts: { all?: boolean } = {}): Promise<NetworkBlockView[]> {
      const vps = await getVps(db, scope, vpsId);
      const out = (await listNetworkBlocks(db, vps.id, opts)).map(networkBlockOut);
      return scope.kind === 'client' ? out.map(clientNetworkBlockOut) : out;
    },

    /** Staff: every network block in force, with its VPS. */
    async inForce(): Promise<(NetworkBlockView & { vpsId: string; hostname: string; accountId: string })[]> {
      const rows = await networkBlocksInForce(db);
      return rows.map((r) => ({
        ...networkBlockOut(r),
        vpsId: r.vps_id,
        hostname: r.hostname,
        accountId: r.account_id,
      }));
    },

    /** Every host with VPSs: its live rules against the database's policies; fixes are audited. */
    async reconcile(
      dbOrTx: Db = db,
    ): Promise<{ hostId: string; fixes: { kind: string; detail: string }[] }[]> {
      const vpss = await networkedVpss(dbOrTx);
      const byHost = new Map<string, VpsRow[]>();
      for (const v of vpss) byHost.set(v.host_id!, [...(byHost.get(v.host_id!) ?? []), v]);
      const out: { hostId: string; fixes: { kind: string; detail: string }[] }[] = [];
      for (const [hostId, list] of byHost) {
        try {
          const agent = await ctx.agents.forHost(await getHost(dbOrTx, hostId));
          const policies = await Promise.all(
            list.map((v) => policyFor(dbOrTx, v, agent.network.portName(v.id))),
          );
          const fixes = await agent.network.reconcile(policies);
          if (fixes.length)
            await audit.record(SYSTEM_ACTOR, 'host.net_reconcile', { type: 'host', id: hostId }, { fixes });
          out.push({ hostId, fixes });
        } catch (e) {
          log.error({ err: e, host: hostId }, 'network reconcile failed');
        }
      }
      return out;
    },
  };
}
export type NetworkBlocksService = ReturnType<typeof createNetworkBlocksService>;
