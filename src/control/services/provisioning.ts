// The provisioning workflow (R3.1, R3.2, R3.4, R2.1): steps that are idempotent and resumable.
// The last completed step is stored on the VPS, so a platform killed at any point resumes where
// it stopped, with no duplicate VM, address, disk or email: each step first looks whether its
// effect already exists. `jobs/provisioning.ts` is the pg-boss adapter that calls `run`.
import { randomBytes } from 'node:crypto';
import { conflict, isDomainError } from '../../domain/errors.ts';
import { choosePlacement } from '../../domain/placement.ts';
import {
  firstFreeSlot,
  percentAfter,
  remainingSteps,
  type ProvisioningStep,
} from '../../domain/provisioning.ts';
import type { HostAgent } from '../../agent/host-agent.ts';
import type { VmSpec } from '../../agent/driver.ts';
import { splitList } from '../config.ts';
import { recipientOf } from '../mail/recipients.ts';
import { getHost, hostLoads } from '../repositories/hosts.ts';
import {
  accessCodesSentAtForUpdate,
  countProvisionError,
  dropAllocatedAddress,
  gatewayOfVps,
  takenNetSlots,
} from '../repositories/provisioning.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { inTransaction, xactLock } from '../repositories/transactions.ts';
import { getVps, recordVpsEvent, setVpsState, updateVps, type VpsRow } from '../repositories/vps.ts';
import { guestPasswordHash } from '../security/guest-passwords.ts';
import type { AccessCodesService } from './access-codes.ts';
import { raiseAlert } from './alerts.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type ServiceContext } from './context.ts';
import type { InfraService } from './infra.ts';
import type { MailService } from './mail.ts';
import { policyFor } from './net-policy.ts';
import type { TrafficService } from './traffic.ts';

/**
 * Step errors before the VPS is declared failed for good. Counted on the VPS, not by the job
 * queue: a job retried because the platform was killed mid-step has not failed.
 */
export const PROVISION_MAX_ERRORS = 3;
const GUEST_AGENT_TIMEOUT_MS = 180_000;

const randomPassword = () => randomBytes(15).toString('base64url');

export interface ProvisioningDeps {
  infra: InfraService;
  accessCodes: AccessCodesService;
  mail: MailService;
  traffic: TrafficService;
}

export function createProvisioningService(ctx: ServiceContext, audit: AuditService, deps: ProvisioningDeps) {
  const { db, clock, secrets, agents, log } = ctx;

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
      await inTransaction(db, async (tx) => {
        await xactLock(tx, `placement:${vps.datacenter_id}`);
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
        await updateVps(tx, vps.id, {
          host_id: choice.hostId,
          net_slot: firstFreeSlot(await takenNetSlots(tx, choice.hostId)),
        });
      });
    },
    // R3.2: the fixed IPv4, from a pool of the VPS's own datacenter.
    async address(vps) {
      if (vps.ipv4) return;
      await inTransaction(db, async (tx) => {
        const a = await deps.infra.allocateAddress(tx, vps);
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
    // R2.1: the dedicated disk (fully reserved) and the NoCloud config drive. The agent gets
    // the passwords as crypt hashes only (security/guest-passwords.ts), never in clear.
    async disk(vps) {
      const agent = await agentOf(vps);
      const exists = await agent.driver.status(vps.id).then(
        () => true,
        (e: unknown) => (isDomainError(e) && e.kind === 'not_found' ? false : Promise.reject(e)),
      );
      if (exists) return;
      const gateway = await gatewayOfVps(db, vps.id);
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
          ipv4: { address: vps.ipv4!, gateway, dns: splitList(ctx.config.vpsNameservers) },
          // R3.1: the initial password (revealed once by the link) must be changed at first login.
          user: {
            name: vps.client_username,
            ...(client ? { passwordHash: guestPasswordHash(client), expirePassword: true } : {}),
          },
          rootPasswordHash: guestPasswordHash(secrets.open(vps.root_password_enc!)),
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
      // Real time on purpose: this waits for a real guest, not for a contract deadline.
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
      await inTransaction(db, async (tx) => {
        if (await accessCodesSentAtForUpdate(tx, vps.id)) return;
        const owner = await recipientOf(tx, vps.account_id);
        const link = await deps.accessCodes.createLink(tx, vps.id);
        await updateVps(tx, vps.id, { access_codes_sent_at: clock.now() });
        // Last in the transaction: the mail module holds the notices chain's lock until commit.
        await deps.mail.send(tx, {
          to: owner.to,
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
        await deps.traffic.removeVpsNetwork(agent, vps);
      } catch (e) {
        log.error({ vps: vps.id, err: e }, 'cleanup of a failed VPS on its host failed');
      }
    }
    await inTransaction(db, async (tx) => {
      // The address was never given to the client: it goes back to the pool at once.
      await dropAllocatedAddress(tx, vps.id);
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
    await audit.record(SYSTEM_ACTOR, 'vps.provisioning_failed', { type: 'vps', id: vps.id }, { reason });
  }

  return {
    /**
     * Runs the VPS's remaining steps. A step error is counted on the VPS and rethrown, so the
     * job queue tries again; at PROVISION_MAX_ERRORS the VPS fails for good and nothing is thrown.
     * `jobRetry` is the queue's attempt number, kept in the error's event for staff.
     */
    async run(vpsId: string, opts: { jobRetry: number }): Promise<void> {
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
          const errors = await countProvisionError(db, vpsId);
          await recordVpsEvent(db, vpsId, clock.now(), 'provision_error', {
            step,
            reason,
            errors,
            job_retry: opts.jobRetry,
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
      await audit.record(SYSTEM_ACTOR, 'vps.provisioned', { type: 'vps', id: vpsId });
    },
  };
}
export type ProvisioningService = ReturnType<typeof createProvisioningService>;
