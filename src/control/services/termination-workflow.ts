// The deletion at a termination's effective date (R12.4): steps that are idempotent and
// resumable, like provisioning. The last completed step is stored on the termination, so a
// platform killed at any point resumes where it stopped; each step first looks whether its
// effect already exists. What each step deleted is appended, with its time, to the termination's
// deletion record (kept after the VPS is gone; visible to staff). `jobs/terminations.ts` is the
// pg-boss adapter of `contract.terminate` that calls `run`.
import { isDomainError } from '../../domain/errors.ts';
import { remainingDeletionSteps, type DeletionStep } from '../../domain/terminations.ts';
import { retainedAfterEnd } from '../../domain/retention.ts';
import type { ContractState } from '../../domain/contracts.ts';
import { canTransition, isVpsState } from '../../domain/vps-state.ts';
import type { HostAgent } from '../../agent/host-agent.ts';
import type { DeletedItem } from '../db/tables/terminations.ts';
import { mailDate } from '../mail/format.ts';
import { recipientOf } from '../mail/recipients.ts';
import { deleteAccessLinksOf } from '../repositories/access-links.ts';
import { getContract, updateContract } from '../repositories/contracts.ts';
import { getHost } from '../repositories/hosts.ts';
import { quarantineEndOf } from '../repositories/ip-addresses.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import {
  appendDeleted,
  completeTermination,
  countDeletionError,
  findTermination,
  getTermination,
  setDeletionStep,
  startDeletionRecord,
  type TerminationRow,
} from '../repositories/terminations.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { getVps, setVpsState, updateVps, type VpsRow } from '../repositories/vps.ts';
import { raiseAlert } from './alerts.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type ServiceContext } from './context.ts';
import type { InfraService } from './infra.ts';
import type { MailService } from './mail.ts';
import type { TrafficService } from './traffic.ts';
import { causeText, terminationHooks, type TerminationsService } from './terminations.ts';

/** Step errors before staff are alerted (the job keeps retrying: a deletion is never abandoned). */
export const TERMINATE_ALERT_ERRORS = 3;

export interface TerminationWorkflowDeps {
  terminations: TerminationsService;
  traffic: TrafficService;
  infra: InfraService;
  mail: MailService;
}

export function createTerminationWorkflow(
  ctx: ServiceContext,
  audit: AuditService,
  deps: TerminationWorkflowDeps,
) {
  const { db, clock, agents, log } = ctx;

  async function agentOf(vps: VpsRow): Promise<HostAgent | null> {
    if (!vps.host_id) return null;
    return agents.forHost(await getHost(db, vps.host_id));
  }
  const item = (what: string, details?: Record<string, unknown>): DeletedItem => ({
    what,
    at: clock.now().toISOString(),
    ...(details ? { details } : {}),
  });

  const steps: Record<
    Exclude<DeletionStep, 'finish'>,
    (term: TerminationRow, vps: VpsRow) => Promise<DeletedItem[]>
  > = {
    // The VM stopped and destroyed; the driver wipes the disk and removes the config drive and state dir.
    async vm(_term, vps) {
      const agent = await agentOf(vps);
      if (!agent) return [item('vm', { placed: false })];
      const r = await agent.driver.destroy(vps.id).catch((e: unknown) => {
        if (isDomainError(e) && e.kind === 'not_found') return { id: vps.id, wiped: [] as string[] };
        throw e;
      });
      return [item('vm', { wiped: r.wiped })];
    },
    // The tap, its rules and shaping; the traffic service counts the last bytes first.
    async network(_term, vps) {
      const agent = await agentOf(vps);
      if (!agent || vps.net_slot === null) return [item('network', { present: false })];
      await deps.traffic.removeVpsNetwork(agent, vps);
      return [item('network', { slot: vps.net_slot })];
    },
    // Backups and other per-VPS data of later modules, through the hooks.
    async backups(term, vps) {
      const out: DeletedItem[] = [];
      for (const [name, fn] of terminationHooks()) {
        const r = await fn({
          terminationId: term.id,
          contractId: term.contract_id,
          vpsId: vps.id,
          accountId: term.account_id,
          now: clock.now(),
        });
        out.push(item(`hook:${name}`, r ?? {}));
      }
      return out.length ? out : [item('backups', { hooks: 0 })];
    },
    // R3.4 / R12.4: the sealed root and initial passwords and the one-time access links.
    async credentials(_term, vps) {
      return inTransaction(db, async (tx) => {
        await updateVps(tx, vps.id, { root_password_enc: null, initial_password_enc: null });
        const accessLinks = await deleteAccessLinksOf(tx, vps.id);
        return [item('credentials', { passwords: 2, accessLinks })];
      });
    },
    // The IPv4 goes to quarantine before it can be given again.
    async address(_term, vps) {
      const address = await deps.infra.releaseAddress(db, vps.id);
      const until = await quarantineEndOf(db, vps.id);
      return [
        item('ipv4', {
          address: address ?? vps.ipv4?.split('/')[0] ?? null,
          quarantineUntil: until?.toISOString() ?? null,
        }),
      ];
    },
  };

  /** One transaction: the VPS destroyed, the contract ended, the record completed, the final email. */
  async function finish(term: TerminationRow): Promise<void> {
    const to = await inTransaction(db, async (tx) => {
      const cur = await getTermination(tx, term.id, { forUpdate: true });
      if (cur.state === 'done') return null;
      const now = clock.now();
      await setVpsState(tx, term.vps_id, 'destroyed', now, `contract terminated (${term.cause})`);
      const contract = await getContract(tx, SYSTEM_SCOPE, term.contract_id, { forUpdate: true });
      const to = deps.terminations.contractEndState(term.cause, contract.state as ContractState);
      await updateContract(tx, contract.id, { state: to, state_changed_at: now, ended_at: now });
      await appendDeleted(tx, term.id, [
        item('vps', { state: 'destroyed' }),
        item('contract', { state: to }),
        // R12.4: what the law makes the provider keep, and until when at the earliest.
        item('retained', { records: retainedAfterEnd(now) }),
      ]);
      await completeTermination(tx, term.id, now);
      const vps = await getVps(tx, SYSTEM_SCOPE, term.vps_id);
      const owner = await recipientOf(tx, term.account_id);
      // Last in the transaction: the mail module holds the notices chain's lock until commit.
      await deps.mail.send(tx, {
        to: owner.to,
        template: 'contract.terminated',
        language: owner.language,
        vars: {
          name: owner.name,
          hostname: vps.hostname,
          cause: causeText(term.cause, owner.language, term.letter_received_at),
          deletedAt: mailDate(now, owner.language),
        },
        accountId: term.account_id,
        reason: `R12.4 contract ${contract.id} ended: VPS deleted with all its data`,
      });
      return to;
    });
    if (to)
      await audit.record(
        SYSTEM_ACTOR,
        'contract.terminated',
        { type: 'contract', id: term.contract_id },
        { terminationId: term.id, cause: term.cause, vpsId: term.vps_id, contractState: to },
      );
  }

  return {
    /**
     * Runs the termination's remaining deletion steps. A step error is counted (staff alerted at
     * TERMINATE_ALERT_ERRORS) and rethrown, so the job queue tries again: a deletion is never
     * abandoned. A termination done, cancelled or unknown is left alone.
     */
    async run(terminationId: string): Promise<void> {
      const term = await findTermination(db, terminationId);
      if (!term || term.state !== 'executing') return;
      let vps = await getVps(db, SYSTEM_SCOPE, term.vps_id);
      await startDeletionRecord(db, {
        termination_id: term.id,
        contract_id: term.contract_id,
        vps_id: vps.id,
        hostname: vps.hostname,
        cause: term.cause,
        started_at: clock.now(),
      });
      if (isVpsState(vps.state) && vps.state !== 'destroying' && vps.state !== 'destroyed') {
        if (!canTransition(vps.state, 'destroying'))
          throw new Error(`VPS ${vps.id} is ${vps.state}: the deletion waits for it to settle`);
        await setVpsState(db, vps.id, 'destroying', clock.now(), `contract terminated (${term.cause})`);
      }
      for (const step of remainingDeletionSteps(term.deletion_step)) {
        if (step === 'finish') {
          await finish(term);
          break;
        }
        vps = await getVps(db, SYSTEM_SCOPE, term.vps_id);
        try {
          const items = await steps[step](term, vps);
          await inTransaction(db, async (tx) => {
            await appendDeleted(tx, term.id, items);
            await setDeletionStep(tx, term.id, step);
          });
        } catch (e) {
          const reason = `${step}: ${e instanceof Error ? e.message : String(e)}`;
          const errors = await countDeletionError(db, term.id, reason);
          log.error({ termination: term.id, step, err: e }, 'termination deletion step failed');
          if (errors === TERMINATE_ALERT_ERRORS)
            await raiseAlert(db, {
              at: clock.now(),
              kind: 'termination_failing',
              subject_type: 'vps',
              subject_id: vps.id,
              message: `Deletion of ${vps.hostname} keeps failing: ${reason}`,
            });
          throw e;
        }
      }
    },
  };
}
export type TerminationWorkflow = ReturnType<typeof createTerminationWorkflow>;
