// The provisioning workflow (issue 5, R3.1, R3.2, R3.4, R2.1): a pg-boss job whose steps are
// idempotent and resumable. The last completed step is stored on the VPS, so a platform killed
// at any point resumes where it stopped, with no duplicate VM, address, disk or email: each
// step first looks whether its effect already exists.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { conflict, isDomainError } from '../../domain/errors.ts';
import { choosePlacement } from '../../domain/placement.ts';
import {
  firstFreeSlot,
  percentAfter,
  remainingSteps,
  type ProvisioningStep,
} from '../../domain/provisioning.ts';
import { hashPassword as cryptPassword } from '../../agent/image/config-drive.ts';
import type { HostAgent } from '../../agent/host-agent.ts';
import type { VmSpec } from '../../agent/driver.ts';
import { getHost, hostLoads } from '../repositories/hosts.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { getVps, recordVpsEvent, setVpsState, updateVps, type VpsRow } from '../repositories/vps.ts';
import { splitList } from '../hosts/agents.ts';
import { raiseAlert } from '../services/alerts.ts';
import { SYSTEM_ACTOR } from '../services/context.ts';
import type { Services } from '../services/index.ts';
import { policyFor } from '../services/net-policy.ts';
import type { JobDefinition } from './boss.ts';

export const PROVISION_JOB = 'vps.provision';
/**
 * Step errors before the VPS is declared failed for good. Counted on the VPS, not by pg-boss:
 * a job retried because the platform was killed mid-step has not failed.
 */
export const PROVISION_MAX_ERRORS = 3;
const GUEST_AGENT_TIMEOUT_MS = 180_000;

const randomPassword = () => randomBytes(15).toString('base64url');

export function provisioningJob(s: Services): JobDefinition<{ vpsId: string }> {
  const { db, clock, secrets, agents, log } = s.ctx;

  async function progress(vpsId: string, step: ProvisioningStep): Promise<void> {
    await updateVps(db, vpsId, { provision_step: step, provision_percent: percentAfter(step) });
    await recordVpsEvent(db, vpsId, clock.now(), 'provision', { step, percent: percentAfter(step) });
  }

  async function agentOf(vps: VpsRow): Promise<HostAgent> {
    if (!vps.host_id) throw new Error('not placed');
    return agents.forHost(await getHost(db, vps.host_id));
  }

  const steps: Record<ProvisioningStep, (vps: VpsRow) => Promise<void>> = {
    // R2.1/R2.2: a host of the VPS's datacenter with room; a slot number on it. Serialised per
    // datacenter with an advisory lock so two orders cannot both take the last room.
    async place(vps) {
      if (vps.host_id) return;
      await db.transaction().execute(async (tx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`placement:${vps.datacenter_id}`}))`.execute(tx);
        const loads = await hostLoads(tx, vps.datacenter_id);
        const choice = choosePlacement(loads, {
          datacenterId: vps.datacenter_id,
          vcpus: vps.vcpus,
          memoryMiB: vps.memory_mib,
          diskGiB: vps.disk_gib,
        });
        if ('refused' in choice)
          throw conflict(
            'placement.no_room',
            `No host in this datacenter has room (${choice.refused.map((r) => r.reason).join(', ') || 'no host'})`,
          );
        const taken = await tx
          .selectFrom('vps')
          .select('net_slot')
          .where('host_id', '=', choice.hostId)
          .where('state', '!=', 'destroyed')
          .where('net_slot', 'is not', null)
          .execute();
        await updateVps(tx, vps.id, {
          host_id: choice.hostId,
          net_slot: firstFreeSlot(taken.map((t) => t.net_slot!)),
        });
      });
    },
    // R3.2: the fixed IPv4, from a pool of the VPS's own datacenter.
    async address(vps) {
      if (vps.ipv4) return;
      await db.transaction().execute(async (tx) => {
        const a = await s.infra.allocateAddress(tx, vps);
        await updateVps(tx, vps.id, { ipv4: `${a.address}/${a.prefixLength}` });
      });
    },
    // R3.4: root's password is random, sealed, the provider's alone; the client's initial one is
    // sealed until the one-time link reveals it.
    async credentials(vps) {
      if (vps.root_password_enc) return;
      await updateVps(db, vps.id, {
        root_password_enc: secrets.seal(randomPassword()),
        initial_password_enc: secrets.seal(randomPassword()),
      });
    },
    // R6.3, R3.11, R3.13: the tap on the bridge and the VPS's whole policy, applied atomically.
    async network(vps) {
      const agent = await agentOf(vps);
      const { port, mac } = await agent.network.ensurePort(vps.id);
      if (vps.mac !== mac) await updateVps(db, vps.id, { mac });
      await agent.network.applyPolicy(await policyFor(db, { ...vps, mac }, port));
    },
    // R2.1: the dedicated disk (fully reserved) and the NoCloud config drive.
    async disk(vps) {
      const agent = await agentOf(vps);
      const exists = await agent.driver.status(vps.id).then(
        () => true,
        (e: unknown) => (isDomainError(e) && e.kind === 'not_found' ? false : Promise.reject(e)),
      );
      if (exists) return;
      const pool = await db
        .selectFrom('ip_addresses as a')
        .innerJoin('ip_pools as p', 'p.id', 'a.pool_id')
        .select(sql<string>`host(p.gateway)`.as('gateway'))
        .where('a.vps_id', '=', vps.id)
        .where('a.state', '=', 'allocated')
        .executeTakeFirstOrThrow();
      const client = vps.initial_password_enc ? secrets.open(vps.initial_password_enc) : null;
      const spec: VmSpec = {
        id: vps.id,
        vcpus: vps.vcpus,
        memoryMiB: vps.memory_mib,
        diskGiB: vps.disk_gib,
        image: vps.image,
        network: {
          tap: (await agent.network.ensurePort(vps.id)).port,
          mac: vps.mac!,
          ...(agent.netns ? { netns: agent.netns } : {}),
        },
        seed: {
          hostname: vps.hostname,
          ipv4: { address: vps.ipv4!, gateway: pool.gateway, dns: splitList(s.ctx.config.vpsNameservers) },
          // R3.1: the initial password (revealed once by the link) must be changed at first login.
          user: {
            name: vps.client_username,
            ...(client ? { passwordHash: await cryptPassword(client), expirePassword: true } : {}),
          },
          rootPasswordHash: await cryptPassword(secrets.open(vps.root_password_enc!)),
        },
      };
      await agent.driver.define(spec);
    },
    async boot(vps) {
      const agent = await agentOf(vps);
      const st = await agent.driver.status(vps.id);
      if (st.state !== 'running' && st.state !== 'starting') await agent.driver.start(vps.id);
    },
    async guest_agent(vps) {
      const agent = await agentOf(vps);
      // The guest's own signal that its boot setup is done (seed applied, accounts made), not a
      // guest-exec timing out while a fresh guest is busy; the deadline stays as the fallback.
      const end = Date.now() + GUEST_AGENT_TIMEOUT_MS;
      for (;;) {
        const st = await agent.driver.status(vps.id);
        if (st.guestReady) break;
        if (Date.now() > end)
          throw new Error(
            st.guestAgentUp
              ? `the guest agent answers but the guest did not signal the end of its boot setup within ${GUEST_AGENT_TIMEOUT_MS / 1000} s`
              : `the guest agent did not answer within ${GUEST_AGENT_TIMEOUT_MS / 1000} s`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    // R3.4: the client's account exists in the guest and is not root.
    async accounts(vps) {
      const agent = await agentOf(vps);
      const r = await agent.driver.guestExec(vps.id, ['id', '-u', vps.client_username], {
        timeoutMs: 30_000,
      });
      const uid = Number(r.stdout.trim());
      if (r.exitCode !== 0 || !Number.isInteger(uid))
        throw new Error(`the client account ${vps.client_username} is missing in the guest`);
      if (uid === 0) throw new Error('the client account has uid 0 (R3.4 forbids it)');
    },
    // R3.1: the access codes by email, once: the mail, the link and the mark commit together.
    async access_codes(vps) {
      await db.transaction().execute(async (tx) => {
        const cur = await tx
          .selectFrom('vps')
          .select('access_codes_sent_at')
          .where('id', '=', vps.id)
          .forUpdate()
          .executeTakeFirstOrThrow();
        if (cur.access_codes_sent_at) return;
        const owner = await tx
          .selectFrom('users')
          .select(['email', 'name', 'language'])
          .where('account_id', '=', vps.account_id)
          .orderBy('created_at')
          .limit(1)
          .executeTakeFirstOrThrow();
        const link = await s.accessCodes.createLink(tx, vps.id);
        await updateVps(tx, vps.id, { access_codes_sent_at: clock.now() });
        // Last in the transaction: the mail module holds the notices chain's lock until commit.
        await s.mail.send(tx, {
          to: owner.email,
          template: 'vps.access_codes',
          language: owner.language,
          vars: {
            name: owner.name,
            hostname: vps.hostname,
            ipv4: vps.ipv4!.split('/')[0]!,
            username: vps.client_username,
            revealUrl: link.url,
            expiresAt: link.expiresAt.toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
          },
          accountId: vps.account_id,
          reason: 'R3.1 access codes of a new VPS',
          // The link is sealed apart from the stored copy until delivery, erased at its expiry.
          secretsExpireAt: link.expiresAt,
        });
      });
    },
  };

  /** A step failed for good: the VPS is `failed` with the reason, its resources released, staff alerted. */
  async function failForGood(vps: VpsRow, reason: string): Promise<void> {
    log.error({ vps: vps.id, reason }, 'provisioning failed for good');
    if (vps.host_id) {
      try {
        const agent = await agentOf(vps);
        await agent.driver.destroy(vps.id).catch((e: unknown) => {
          if (!(isDomainError(e) && e.kind === 'not_found')) throw e;
        });
        // Through the traffic service: the tap's last counters are counted before it goes.
        await s.traffic.removeVpsNetwork(agent, vps);
      } catch (e) {
        log.error({ vps: vps.id, err: e }, 'cleanup of a failed VPS on its host failed');
      }
    }
    await db.transaction().execute(async (tx) => {
      // The address was never given to the client: it goes back to the pool at once.
      await tx
        .deleteFrom('ip_addresses')
        .where('vps_id', '=', vps.id)
        .where('state', '=', 'allocated')
        .execute();
      await updateVps(tx, vps.id, {
        host_id: null,
        net_slot: null,
        ipv4: null,
        root_password_enc: null,
        initial_password_enc: null,
      });
      await setVpsState(tx, vps.id, 'failed', clock.now(), reason);
      await raiseAlert(tx, {
        at: clock.now(),
        kind: 'provisioning_failed',
        subject_type: 'vps',
        subject_id: vps.id,
        message: `Provisioning of ${vps.hostname} failed: ${reason}`,
      });
    });
    await s.audit.record(SYSTEM_ACTOR, 'vps.provisioning_failed', { type: 'vps', id: vps.id }, { reason });
  }

  return {
    name: PROVISION_JOB,
    // pg-boss retries (after errors and after crashes) far more than PROVISION_MAX_ERRORS.
    retryLimit: 30,
    retryDelaySeconds: 5,
    // A step error already waits its turn; a crash should resume promptly, not after backoff.
    retryBackoff: false,
    heartbeatSeconds: 10,
    expireInSeconds: 15 * 60,
    concurrency: 2,
    async handler({ vpsId }, meta) {
      let vps = await getVps(db, SYSTEM_SCOPE, vpsId);
      if (vps.state === 'pending' || vps.state === 'failed')
        await setVpsState(db, vpsId, 'provisioning', clock.now());
      else if (vps.state !== 'provisioning') return; // done already, or destroyed meanwhile
      for (const step of remainingSteps(vps.provision_step)) {
        vps = await getVps(db, SYSTEM_SCOPE, vpsId);
        try {
          await steps[step](vps);
        } catch (e) {
          const reason = `${step}: ${e instanceof Error ? e.message : String(e)}`;
          const { provision_errors: errors } = await db
            .updateTable('vps')
            .set((eb) => ({ provision_errors: eb('provision_errors', '+', 1) }))
            .where('id', '=', vpsId)
            .returning('provision_errors')
            .executeTakeFirstOrThrow();
          await recordVpsEvent(db, vpsId, clock.now(), 'provision_error', {
            step,
            reason,
            errors,
            job_retry: meta.retryCount,
          });
          if (errors >= PROVISION_MAX_ERRORS) {
            await failForGood(vps, reason);
            return;
          }
          throw e;
        }
        await progress(vpsId, step);
      }
      await setVpsState(db, vpsId, 'running', clock.now());
      await s.audit.record(SYSTEM_ACTOR, 'vps.provisioned', { type: 'vps', id: vpsId });
    },
  };
}
