// Contract termination (R12.1–R12.4).
//
// `terminate` records a termination (one per contract), schedules its deadline at the effective
// date, audits and emails the client — all in the caller's transaction when given one. At the
// effective date the deadline handler queues the `contract.terminate` job (jobs/terminations.ts),
// whose workflow (services/termination-workflow.ts) deletes the VPS with all its data step by
// step (R12.4) and keeps a deletion record. Queries: repositories/terminations.ts.
//
// Backups (and anything else a later module keeps for a VPS) are deleted through hooks:
// `registerTerminationHook(name, fn)` at module load; every hook runs in the `backups` step,
// must be idempotent (it may run again after a crash) and returns what it deleted.
import { isRunning, transitionContract, type ContractState } from '../../domain/contracts.ts';
import { conflict, invalidData, notFound } from '../../domain/errors.ts';
import {
  checkCancellable,
  effectiveDateFor,
  isTerminationCause,
  proposeLetterEffectiveDate,
  type TerminationCause,
} from '../../domain/terminations.ts';
import type { Db } from '../db/database.ts';
import type { Deadline, Language } from '../db/schema.ts';
import type { DeletedItem } from '../db/tables/terminations.ts';
import { mailDate, mailDay } from '../mail/format.ts';
import { recipientOf } from '../mail/recipients.ts';
import type { MailService } from './mail.ts';
import { getContract } from '../repositories/contracts.ts';
import { cancelDeadline, scheduleDeadline } from '../repositories/deadlines.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import {
  activeTerminationOfContract,
  activeTerminationOfVps,
  cancelTermination,
  getTermination,
  insertTermination,
  listDeletionRecords,
  listTerminations,
  startExecuting,
  type DeletionRecordRow,
  type TerminationRow,
} from '../repositories/terminations.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { getVps } from '../repositories/vps.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import type { NetworkBlocksService } from './network-blocks.ts';
import type { VpsService } from './vps.ts';

export const TERMINATION_DUE = 'contract.termination_due';
export const TERMINATE_JOB = 'contract.terminate';

export type { DeletionRecordRow, TerminationRow };

// ---- hooks (R12.4: backups and other per-VPS data of later modules) --------------------------

export interface TerminationHookContext {
  terminationId: string;
  contractId: string;
  vpsId: string;
  accountId: string;
  now: Date;
}
/** Deletes what its module keeps for the VPS; idempotent; returns a description of what it deleted. */
export type TerminationHook = (ctx: TerminationHookContext) => Promise<Record<string, unknown> | void>;

const hooks = new Map<string, TerminationHook>();

/** A module's deletion at termination (e.g. the backups module: its backups of the VPS). One per name. */
export function registerTerminationHook(name: string, fn: TerminationHook): void {
  if (hooks.has(name)) throw new Error(`termination hook ${name} is already registered`);
  hooks.set(name, fn);
}
/** For tests: remove a hook. */
export function unregisterTerminationHook(name: string): void {
  hooks.delete(name);
}
export const terminationHooks = (): [string, TerminationHook][] => [...hooks.entries()];

// ---- the interface other modules call ---------------------------------------------------------

export interface TerminateRequest {
  contractId: string;
  cause: TerminationCause;
  effectiveAt: Date;
  /** Who records it: an actor (staff) or a label ("system"). */
  recordedBy: AuditActor | string;
  reason: string;
  /** R12.2 only: the registered letter's receipt and the date it asks for. */
  letterReceivedAt?: Date | null;
  requestedEffectiveAt?: Date | null;
}

export interface TerminationView {
  id: string;
  contractId: string;
  accountId: string;
  vpsId: string;
  cause: TerminationCause;
  state: TerminationRow['state'];
  effectiveAt: string;
  reason: string;
  recordedBy: string;
  recordedAt: string;
  letterReceivedAt: string | null;
  requestedEffectiveAt: string | null;
  proposedEffectiveAt: string | null;
  cancelledAt: string | null;
  cancelledBy: string | null;
  cancelReason: string | null;
  deletionStep: string | null;
  lastError: string | null;
  doneAt: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const terminationOut = (t: TerminationRow): TerminationView => ({
  id: t.id,
  contractId: t.contract_id,
  accountId: t.account_id,
  vpsId: t.vps_id,
  cause: t.cause,
  state: t.state,
  effectiveAt: t.effective_at.toISOString(),
  reason: t.reason,
  recordedBy: t.recorded_by,
  recordedAt: t.recorded_at.toISOString(),
  letterReceivedAt: iso(t.letter_received_at),
  requestedEffectiveAt: iso(t.requested_effective_at),
  proposedEffectiveAt: iso(t.proposed_effective_at),
  cancelledAt: iso(t.cancelled_at),
  cancelledBy: t.cancelled_by,
  cancelReason: t.cancel_reason,
  deletionStep: t.deletion_step,
  lastError: t.last_error,
  doneAt: iso(t.done_at),
});

export interface DeletionRecordView {
  id: string;
  terminationId: string;
  contractId: string;
  vpsId: string;
  hostname: string;
  cause: string;
  startedAt: string;
  completedAt: string | null;
  deleted: DeletedItem[];
}
export const deletionRecordOut = (r: DeletionRecordRow): DeletionRecordView => ({
  id: r.id,
  terminationId: r.termination_id,
  contractId: r.contract_id,
  vpsId: r.vps_id,
  hostname: r.hostname,
  cause: r.cause,
  startedAt: r.started_at.toISOString(),
  completedAt: iso(r.completed_at),
  deleted: r.deleted,
});

/** The cause as the client reads it in its emails. */
export function causeText(cause: TerminationCause, lang: Language, letterReceivedAt: Date | null): string {
  const rx = letterReceivedAt ? mailDay(letterReceivedAt, lang) : '';
  switch (cause) {
    case 'term_end':
      return lang === 'fr' ? 'fin de la durée du contrat' : 'end of the contract term';
    case 'client_letter':
      return lang === 'fr'
        ? `votre lettre recommandée reçue le ${rx}`
        : `your registered letter received on ${rx}`;
    case 'force_majeure_client':
      return lang === 'fr' ? 'force majeure invoquée par vous' : 'force majeure invoked by you';
    case 'force_majeure_provider':
      return lang === 'fr' ? 'force majeure invoquée par infogere' : 'force majeure invoked by infogere';
    case 'provider_breach':
      return lang === 'fr'
        ? 'manquement aux obligations du contrat (article 6)'
        : 'breach of the contract’s obligations (article 6)';
  }
}

const labelOf = (by: AuditActor | string): AuditActor =>
  typeof by === 'string' ? { userId: null, label: by, ip: null } : by;

export function createTerminationsService(
  ctx: ServiceContext,
  audit: AuditService,
  deps: { mail: MailService; vps: VpsService; networkBlocks: NetworkBlocksService },
) {
  const { db, clock, log } = ctx;
  const { mail } = deps;

  async function terminate(exec: Db, p: TerminateRequest): Promise<TerminationView> {
    if (!isTerminationCause(p.cause))
      throw invalidData('validation.cause', `Unknown termination cause ${String(p.cause)}`, {
        field: 'cause',
      });
    const reason = p.reason.trim();
    if (!reason) throw invalidData('validation.reason', 'A termination needs a reason', { field: 'reason' });
    const actor = labelOf(p.recordedBy);
    return inTransaction(exec, async (tx) => {
      const now = clock.now();
      const contract = await getContract(tx, SYSTEM_SCOPE, p.contractId, { forUpdate: true });
      const existing = await activeTerminationOfContract(tx, contract.id);
      if (existing)
        throw conflict('termination.exists', 'This contract already has a termination', {
          terminationId: existing.id,
          effectiveAt: existing.effective_at.toISOString(),
        });
      if (!isRunning(contract.state as ContractState))
        throw conflict('termination.contract_not_running', `This contract is ${contract.state}`, {
          state: contract.state,
        });
      const effectiveAt = effectiveDateFor(p.cause, p.effectiveAt, now);
      let proposed: Date | null = null;
      if (p.cause === 'client_letter') {
        if (!p.letterReceivedAt)
          throw invalidData('validation.letterReceivedAt', 'A registered letter needs its date of receipt', {
            field: 'letterReceivedAt',
          });
        proposed = proposeLetterEffectiveDate({
          letterReceivedAt: p.letterReceivedAt,
          requestedEffectiveAt: p.requestedEffectiveAt ?? null,
          paidUntil: contract.expires_at,
          now,
        }).effectiveAt;
      }
      const row = await insertTermination(tx, {
        contract_id: contract.id,
        account_id: contract.account_id,
        vps_id: contract.vps_id,
        cause: p.cause,
        state: 'scheduled',
        effective_at: effectiveAt,
        reason,
        recorded_by: actor.label,
        recorded_at: now,
        letter_received_at: p.letterReceivedAt ?? null,
        requested_effective_at: p.requestedEffectiveAt ?? null,
        proposed_effective_at: proposed,
      });
      await scheduleDeadline(
        tx,
        {
          kind: TERMINATION_DUE,
          subjectType: 'termination',
          subjectId: row.id,
          dueAt: effectiveAt,
          payload: { contractId: contract.id },
        },
        now,
      );
      // On its own connection: the audit chain's lock is never held across the caller's transaction.
      await audit.record(
        actor,
        'contract.termination_recorded',
        { type: 'contract', id: contract.id },
        {
          terminationId: row.id,
          cause: p.cause,
          effectiveAt: effectiveAt.toISOString(),
          reason,
          letterReceivedAt: iso(p.letterReceivedAt ?? null),
          requestedEffectiveAt: iso(p.requestedEffectiveAt ?? null),
          proposedEffectiveAt: iso(proposed),
        },
      );
      const vps = await getVps(tx, SYSTEM_SCOPE, contract.vps_id);
      const owner = await recipientOf(tx, contract.account_id);
      // Last in the transaction: the mail module holds the notices chain's lock until commit.
      await mail.send(tx, {
        to: owner.to,
        template: 'contract.termination_scheduled',
        language: owner.language,
        vars: {
          name: owner.name,
          hostname: vps.hostname,
          cause: causeText(p.cause, owner.language, p.letterReceivedAt ?? null),
          effectiveAt: mailDate(effectiveAt, owner.language),
          reason,
        },
        accountId: contract.account_id,
        reason: `R12 termination of contract ${contract.id} (${p.cause})`,
      });
      return terminationOut(row);
    });
  }

  return {
    terminate,

    /** R12.2: the effective date the product proposes for a registered letter (docs/contract.md). */
    async proposeLetter(
      contractId: string,
      p: { letterReceivedAt: Date; requestedEffectiveAt: Date | null },
    ) {
      const contract = await getContract(db, SYSTEM_SCOPE, contractId);
      const r = proposeLetterEffectiveDate({ ...p, paidUntil: contract.expires_at, now: clock.now() });
      return {
        effectiveAt: r.effectiveAt.toISOString(),
        rule: r.rule,
        paidUntil: contract.expires_at.toISOString(),
      };
    },

    /** R12.2: staff record a client's registered letter; the effective date defaults to the proposal. */
    async recordLetter(
      actor: AuditActor,
      contractId: string,
      p: {
        letterReceivedAt: Date;
        requestedEffectiveAt: Date | null;
        effectiveAt?: Date | null;
        reason?: string;
      },
    ): Promise<TerminationView> {
      const contract = await getContract(db, SYSTEM_SCOPE, contractId);
      const proposal = proposeLetterEffectiveDate({ ...p, paidUntil: contract.expires_at, now: clock.now() });
      return terminate(db, {
        contractId,
        cause: 'client_letter',
        effectiveAt: p.effectiveAt ?? proposal.effectiveAt,
        recordedBy: actor,
        reason: p.reason?.trim() || 'Registered letter from the client (R12.2)',
        letterReceivedAt: p.letterReceivedAt,
        requestedEffectiveAt: p.requestedEffectiveAt,
      });
    },

    /** R12.1: force majeure invoked by either side. */
    forceMajeure(
      actor: AuditActor,
      contractId: string,
      p: { side: 'client' | 'provider'; effectiveAt: Date; reason: string },
    ): Promise<TerminationView> {
      return terminate(db, {
        contractId,
        cause: p.side === 'client' ? 'force_majeure_client' : 'force_majeure_provider',
        effectiveAt: p.effectiveAt,
        recordedBy: actor,
        reason: p.reason,
      });
    },

    /**
     * R12.3: a breach of article 6: terminated now, and the service cut at once (the VM paused
     * and the VPS isolated) until the deletion job runs.
     */
    async breach(actor: AuditActor, contractId: string, p: { reason: string }) {
      const t = await terminate(db, {
        contractId,
        cause: 'provider_breach',
        effectiveAt: clock.now(),
        recordedBy: actor,
        reason: p.reason,
      });
      let cut = { paused: false, isolated: false };
      try {
        // Held apart from the power state: a VPS cut while stopped is not started again.
        await deps.vps.hold(
          t.vpsId,
          { type: 'termination', id: t.id },
          `R12.3 breach: ${p.reason.trim()}`,
          actor,
        );
        cut.paused = await deps.vps.suspend(db, t.vpsId, `R12.3 breach: ${p.reason.trim()}`);
      } catch (e) {
        log.error({ err: e, vps: t.vpsId }, 'breach: pausing the VM failed (the deletion follows anyway)');
      }
      try {
        const m = await deps.networkBlocks.add(actor, t.vpsId, {
          kind: 'isolate',
          reason: `R12.3 breach: ${p.reason.trim()}`,
        });
        cut = { ...cut, isolated: m.applied };
      } catch (e) {
        log.error({ err: e, vps: t.vpsId }, 'breach: isolating the VPS failed (the deletion follows anyway)');
      }
      return { termination: t, cut };
    },

    /** Staff cancel a scheduled termination before its effective date (audited). */
    async cancel(actor: AuditActor, id: string, reason: string): Promise<TerminationView> {
      const why = reason.trim();
      if (!why)
        throw invalidData('validation.reason', 'Cancelling a termination needs a reason', {
          field: 'reason',
        });
      return inTransaction(db, async (tx) => {
        const now = clock.now();
        const t = await getTermination(tx, id, { forUpdate: true });
        checkCancellable(t.state, t.effective_at, now);
        const row = await cancelTermination(tx, id, { at: now, by: actor.label, reason: why });
        await cancelDeadline(tx, TERMINATION_DUE, 'termination', id, now);
        const vps = await getVps(tx, SYSTEM_SCOPE, t.vps_id);
        const owner = await recipientOf(tx, t.account_id);
        // Last in the transaction: the mail module holds the notices chain's lock until commit.
        await mail.send(tx, {
          to: owner.to,
          template: 'contract.termination_cancelled',
          language: owner.language,
          vars: {
            name: owner.name,
            hostname: vps.hostname,
            effectiveAt: mailDate(t.effective_at, owner.language),
            reason: why,
          },
          accountId: t.account_id,
          reason: `R12 termination of contract ${t.contract_id} cancelled`,
        });
        return row;
      }).then(async (row) => {
        await audit.record(
          actor,
          'contract.termination_cancelled',
          { type: 'contract', id: row.contract_id },
          {
            terminationId: id,
            reason: why,
            effectiveAt: row.effective_at.toISOString(),
          },
        );
        return terminationOut(row);
      });
    },

    async get(scope: Scope, id: string): Promise<TerminationView> {
      const t = await getTermination(db, id);
      if (scope.kind === 'client' && t.account_id !== scope.accountId)
        throw notFound('termination.not_found', 'No such termination');
      return terminationOut(t);
    },

    /** The contract's termination in force (not cancelled), or null; scoped (another account's contract → 404). */
    async ofContract(scope: Scope, contractId: string): Promise<TerminationView | null> {
      await getContract(db, scope, contractId);
      const t = await activeTerminationOfContract(db, contractId);
      return t ? terminationOut(t) : null;
    },

    /** The termination in force of a VPS's contract, or null; scoped (another account's VPS → 404). */
    async ofVps(scope: Scope, vpsId: string): Promise<TerminationView | null> {
      await getVps(db, scope, vpsId);
      const t = await activeTerminationOfVps(db, scope, vpsId);
      return t ? terminationOut(t) : null;
    },

    async list(filter: { states?: TerminationRow['state'][] } = {}): Promise<TerminationView[]> {
      return (await listTerminations(db, filter)).map(terminationOut);
    },

    async deletionRecords(filter: { contractId?: string } = {}): Promise<DeletionRecordView[]> {
      return (await listDeletionRecords(db, filter)).map(deletionRecordOut);
    },

    /** Deadline handler: the effective date came; the deletion job is queued in the same transaction. */
    async onDue(d: Deadline, c: { db: Db; now: Date }): Promise<void> {
      const id = await startExecuting(c.db, d.subject_id);
      if (!id) return; // cancelled meanwhile, or already executing
      await ctx.queue.send(
        TERMINATE_JOB,
        { terminationId: id },
        { db: c.db, singletonKey: `terminate:${id}` },
      );
      await audit.record(SYSTEM_ACTOR, 'contract.termination_due', { type: 'termination', id });
    },

    /** The contract's state after its termination: `ended` at its term (R11.1), else `terminated`. */
    contractEndState(cause: TerminationCause, from: ContractState): ContractState {
      return transitionContract(from, cause === 'term_end' ? 'ended' : 'terminated');
    },
  };
}
export type TerminationsService = ReturnType<typeof createTerminationsService>;
