// The deletion at a termination's effective date (R12.4): a pg-boss job whose steps are
// idempotent and resumable, like provisioning. The last completed step is stored on the
// termination, so a platform killed at any point resumes where it stopped; each step first
// looks whether its effect already exists. What each step deleted is appended, with its time,
// to the termination's deletion record (kept after the VPS is gone; visible to staff).
import { isDomainError } from '../../domain/errors.ts';
import { remainingDeletionSteps, type DeletionStep } from '../../domain/terminations.ts';
import type { ContractState } from '../../domain/contracts.ts';
import { canTransition, isVpsState } from '../../domain/vps-state.ts';
import type { HostAgent } from '../../agent/host-agent.ts';
import type { DeletedItem } from '../db/tables/terminations.ts';
import { mailDate } from '../mail/format.ts';
import { recipientOf } from '../mail/recipients.ts';
import { raiseAlert } from '../services/alerts.ts';
import { SYSTEM_ACTOR } from '../services/context.ts';
import { getHost } from '../repositories/hosts.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { getVps, setVpsState, updateVps, type VpsRow } from '../repositories/vps.ts';
import type { Services } from '../services/index.ts';
import { causeText, TERMINATE_JOB, terminationHooks, type TerminationRow } from '../services/terminations.ts';
import type { JobDefinition } from './boss.ts';

/** Step errors before staff are alerted (the job keeps retrying: a deletion is never abandoned). */
export const TERMINATE_ALERT_ERRORS = 3;

export function terminationJob(s: Services): JobDefinition<{ terminationId: string }> {
  const { db, clock, agents, log } = s.ctx;
  const t = s.terminations;

  async function agentOf(vps: VpsRow): Promise<HostAgent | null> {
    if (!vps.host_id) return null;
    return agents.forHost(await getHost(db, vps.host_id));
  }
  const item = (what: string, details?: Record<string, unknown>): DeletedItem => ({
    what,
    at: clock.now().toISOString(),
    ...(details ? { details } : {}),
  });

  const steps: Record<DeletionStep, (term: TerminationRow, vps: VpsRow) => Promise<DeletedItem[]>> = {
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
      await s.traffic.removeVpsNetwork(agent, vps);
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
      return db.transaction().execute(async (tx) => {
        await updateVps(tx, vps.id, { root_password_enc: null, initial_password_enc: null });
        const links = await tx.deleteFrom('access_links').where('vps_id', '=', vps.id).executeTakeFirst();
        return [item('credentials', { passwords: 2, accessLinks: Number(links.numDeletedRows) })];
      });
    },
    // The IPv4 goes to quarantine before it can be given again.
    async address(_term, vps) {
      const address = await s.infra.releaseAddress(db, vps.id);
      const q = await db
        .selectFrom('ip_addresses')
        .select('quarantine_until')
        .where('vps_id', '=', vps.id)
        .where('state', '=', 'quarantined')
        .orderBy('released_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return [
        item('ipv4', {
          address: address ?? vps.ipv4?.split('/')[0] ?? null,
          quarantineUntil: q?.quarantine_until?.toISOString() ?? null,
        }),
      ];
    },
    // One transaction: the VPS destroyed, the contract ended, the record completed, the final email.
    async finish() {
      return []; // done in `finish` below, with the step mark in the same transaction
    },
  };

  async function finish(term: TerminationRow): Promise<void> {
    const to = await db.transaction().execute(async (tx) => {
      const cur = await tx
        .selectFrom('terminations')
        .selectAll()
        .where('id', '=', term.id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (cur.state === 'done') return null;
      const now = clock.now();
      await setVpsState(tx, term.vps_id, 'destroyed', now, `contract terminated (${term.cause})`);
      const contract = await tx
        .selectFrom('contracts')
        .selectAll()
        .where('id', '=', term.contract_id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      const to = t.contractEndState(term.cause, contract.state as ContractState);
      await tx
        .updateTable('contracts')
        .set({ state: to, state_changed_at: now, ended_at: now })
        .where('id', '=', contract.id)
        .execute();
      await tx
        .updateTable('terminations')
        .set({ state: 'done', done_at: now, deletion_step: 'finish', last_error: null })
        .where('id', '=', term.id)
        .execute();
      await t.noteDeleted(tx, term.id, [
        item('vps', { state: 'destroyed' }),
        item('contract', { state: to }),
      ]);
      await tx
        .updateTable('deletion_records')
        .set({ completed_at: now })
        .where('termination_id', '=', term.id)
        .execute();
      const vps = await tx
        .selectFrom('vps')
        .select('hostname')
        .where('id', '=', term.vps_id)
        .executeTakeFirstOrThrow();
      const owner = await recipientOf(tx, term.account_id);
      // Last in the transaction: the mail module holds the notices chain's lock until commit.
      await s.mail.send(tx, {
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
      await s.audit.record(
        SYSTEM_ACTOR,
        'contract.terminated',
        { type: 'contract', id: term.contract_id },
        {
          terminationId: term.id,
          cause: term.cause,
          vpsId: term.vps_id,
          contractState: to,
        },
      );
  }

  return {
    name: TERMINATE_JOB,
    retryLimit: 50,
    retryDelaySeconds: 30,
    retryBackoff: false,
    heartbeatSeconds: 10,
    expireInSeconds: 15 * 60,
    concurrency: 2,
    async handler({ terminationId }) {
      const term = await db
        .selectFrom('terminations')
        .selectAll()
        .where('id', '=', terminationId)
        .executeTakeFirst();
      if (!term || term.state !== 'executing') return; // done already, cancelled, or unknown
      let vps = await getVps(db, SYSTEM_SCOPE, term.vps_id);
      await db
        .insertInto('deletion_records')
        .values({
          termination_id: term.id,
          contract_id: term.contract_id,
          vps_id: vps.id,
          hostname: vps.hostname,
          cause: term.cause,
          started_at: clock.now(),
          deleted: JSON.stringify([]),
        })
        .onConflict((oc) => oc.column('termination_id').doNothing())
        .execute();
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
          await db.transaction().execute(async (tx) => {
            await t.noteDeleted(tx, term.id, items);
            await tx
              .updateTable('terminations')
              .set({ deletion_step: step })
              .where('id', '=', term.id)
              .execute();
          });
        } catch (e) {
          const reason = `${step}: ${e instanceof Error ? e.message : String(e)}`;
          const { deletion_errors: errors } = await db
            .updateTable('terminations')
            .set((eb) => ({
              deletion_errors: eb('deletion_errors', '+', 1),
              last_error: reason.slice(0, 1000),
            }))
            .where('id', '=', term.id)
            .returning('deletion_errors')
            .executeTakeFirstOrThrow();
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
