// Sanctions on a VPS or a whole account (R3.14, R5.1, R6.4, R6.5, R12.3, R12.5): the ladder's
// suggestion (domain/sanctions.ts), staff's choice with a reason, the mechanics applied through
// the modules that own them (network blocks: block, throttle, isolate; vps.suspend pauses;
// clients.suspend for a whole account; terminations for R12.3), the client told by email
// (nature and expected duration, R5.1) unless the notice must be withheld (authority orders),
// the planned end as a deadline, and an explicit, audited lift that undoes what the sanction
// applied and only that. R5.1: after repeated serious cases the lift needs an admin's override.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { conflict, DomainError, invalidData, notAllowed, notFound } from '../../domain/errors.ts';
import {
  BREACH_KINDS,
  suggestSanction,
  windowStart,
  type BreachKind,
  type LadderDecision,
  type Rung,
  type Severity,
} from '../../domain/sanctions.ts';
import type { Db } from '../db/database.ts';
import type { Deadline } from '../db/schema.ts';
import type { SanctionApplied, SanctionParams } from '../db/tables/sanctions.ts';
import { cancelDeadline, scheduleDeadline } from '../repositories/deadlines.ts';
import {
  casesSince,
  claimSanctionLift,
  getSanction,
  giveBackEvidenceSlot,
  insertSanction,
  listSanctions,
  sanctionsInForceOnVps,
  setEvidenceFile,
  takeEvidenceSlot,
  unclaimSanctionLift,
  type SanctionRow,
} from '../repositories/sanctions.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { getAccount } from '../repositories/users.ts';
import { findVps, getVps, vpsIdsOfAccount } from '../repositories/vps.ts';
import { createUploadsStore } from '../storage/uploads.ts';
import { raiseAlert } from './alerts.ts';
import type { AuditService } from './audit.ts';
import type { ClientsService } from './clients.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import type { MailService } from './mail.ts';
import type { NetworkBlocksService } from './network-blocks.ts';
import { createSanctionMechanics, type SanctionTarget, type Terminator } from './sanction-mechanics.ts';
import { mailSanctionNotice } from './sanction-notices.ts';
import {
  clientSanctionView,
  sanctionView,
  type ClientSanctionView,
  type SanctionView,
} from './sanction-views.ts';
import type { VpsService } from './vps.ts';

export type { Terminator } from './sanction-mechanics.ts';
export type { ClientSanctionView, SanctionView } from './sanction-views.ts';

/** Deadline kind: a sanction's planned end; the sanction is lifted then (unless restoring may be refused). */
export const SANCTION_END = 'sanction.planned_end';
export const MAX_EVIDENCE_BYTES = 10 * 1024 * 1024;
/** Evidence files per sanction: replaced files stay on disk as proof, so their number is capped. */
export const MAX_EVIDENCE_UPLOADS = 5;

/** 413 for one upload too many on one object (the size cap is `upload.too_large`). */
export const tooManyUploads = (max: number, what: string) =>
  new DomainError('invalid_data', 'upload.too_many', `At most ${max} files may be uploaded for one ${what}`, {
    field: 'file',
  });

export interface ApplyInput {
  accountId?: string;
  vpsId?: string;
  breachKind: BreachKind;
  severity: Severity;
  /** Another rung than the ladder's: needs `overrideReason`. */
  rung?: Rung;
  overrideReason?: string;
  reason: string;
  evidence: string;
  protocol?: 'tcp' | 'udp' | 'icmp' | 'all';
  port?: number;
  direction?: 'in' | 'out' | 'both';
  plannedEnd?: Date;
  liftCondition?: string;
  withheld?: boolean;
  noticeId?: string;
}

export function createSanctionsService(
  ctx: ServiceContext,
  audit: AuditService,
  deps: {
    mail: MailService;
    networkBlocks: NetworkBlocksService;
    vps: VpsService;
    clients: ClientsService;
    /** R12.3: the terminations module, when it is built (tests pass a double). */
    terminations?: () => Terminator | undefined;
  },
) {
  const { db, clock, log } = ctx;
  const uploads = createUploadsStore(ctx.config.dataDir);
  let terminatorOverride: Terminator | undefined;
  const terminator = () => terminatorOverride ?? deps.terminations?.();

  const mechanics = createSanctionMechanics(ctx, { ...deps, terminator });

  async function historyOf(exec: Db, accountId: string, now: Date) {
    const rows = await casesSince(exec, accountId, windowStart(now));
    return rows.map((r) => ({ kind: r.breach_kind as BreachKind, severity: r.severity, at: r.applied_at }));
  }

  async function targetOf(p: { accountId?: string; vpsId?: string }): Promise<SanctionTarget> {
    if (p.vpsId) {
      const vps = await getVps(db, SYSTEM_SCOPE, p.vpsId);
      if (p.accountId && p.accountId !== vps.account_id)
        throw invalidData('validation.vpsId', 'This VPS is not of that account', { field: 'vpsId' });
      return { accountId: vps.account_id, vpsIds: [vps.id], vpsId: vps.id };
    }
    if (!p.accountId) throw invalidData('validation.target', 'Name a VPS or an account', { field: 'vpsId' });
    const acc = await getAccount(db, SYSTEM_SCOPE, p.accountId);
    return { accountId: acc.id, vpsIds: await vpsIdsOfAccount(db, acc.id), vpsId: null };
  }

  const getRow = getSanction;

  const service = {
    /** Test hook: the terminations module's double. */
    useTerminator(t: Terminator | undefined): void {
      terminatorOverride = t;
    },

    /** The ladder's suggestion for a breach of this account now (R12.5, R5.1). */
    async suggest(p: {
      accountId?: string;
      vpsId?: string;
      breachKind: BreachKind;
      severity: Severity;
    }): Promise<LadderDecision> {
      if (!(BREACH_KINDS as readonly string[]).includes(p.breachKind))
        throw invalidData('validation.breachKind', 'Unknown breach kind', { field: 'breachKind' });
      const target = await targetOf(p);
      const now = clock.now();
      return suggestSanction({
        kind: p.breachKind,
        severity: p.severity,
        now,
        history: await historyOf(db, target.accountId, now),
      });
    },

    /**
     * Staff: applies a sanction (the ladder's rung or another with a reason), tells the client
     * unless withheld. Terminating (R12.3: the data is deleted) and withholding the client's
     * notice (R5.1 says the client is told) are an admin's decisions (docs/security.md, Roles).
     */
    async apply(actor: AuditActor, p: ApplyInput, by: Scope = SYSTEM_SCOPE): Promise<SanctionView> {
      const reason = p.reason.trim();
      if (reason.length < 3)
        throw invalidData('validation.reason', 'Say why (the client is told: R5.1)', { field: 'reason' });
      const target = await targetOf(p);
      const now = clock.now();
      const decision = suggestSanction({
        kind: p.breachKind,
        severity: p.severity,
        now,
        history: await historyOf(db, target.accountId, now),
      });
      const rung = p.rung ?? decision.rung;
      const admin = by.kind === 'staff' && by.role === 'admin';
      if (rung === 'termination' && !admin)
        throw notAllowed(
          'sanction.termination_admin_only',
          'Only an admin may terminate a contract for breach (R12.3: its data is deleted); choose another rung with a reason, or ask an admin',
        );
      if (p.withheld === true && !admin)
        throw notAllowed(
          'sanction.withheld_admin_only',
          'Only an admin may withhold the client’s notice (R5.1: the client is told)',
        );
      const overrideReason = p.overrideReason?.trim() || null;
      if (rung !== decision.rung && (!overrideReason || overrideReason.length < 3))
        throw invalidData(
          'validation.overrideReason',
          `The ladder suggests ${decision.rung}: say why you choose ${rung}`,
          { field: 'overrideReason' },
        );
      if (p.plannedEnd && p.plannedEnd.getTime() <= now.getTime())
        throw invalidData('validation.plannedEnd', 'The planned end is in the past', { field: 'plannedEnd' });
      const liftCondition =
        p.liftCondition?.trim() || (rung === 'isolation' ? 'the VPS is reinstalled (R6.4)' : null);
      if (rung !== 'warning' && rung !== 'termination' && !p.plannedEnd && !liftCondition)
        throw invalidData('validation.plannedEnd', 'Give a planned end or the condition to lift it (R5.1)', {
          field: 'plannedEnd',
        });
      let params: SanctionParams = {};
      if (rung === 'restriction') {
        const protocol = p.protocol ?? decision.restriction?.protocol;
        const direction = p.direction ?? decision.restriction?.direction;
        const port = p.port ?? (p.protocol ? undefined : decision.restriction?.port);
        if (!protocol || !direction)
          throw invalidData('validation.protocol', 'A restriction names a protocol and a direction', {
            field: 'protocol',
          });
        params = { protocol, direction, ...(port !== undefined ? { port } : {}) };
        if (port !== undefined && protocol !== 'tcp' && protocol !== 'udp')
          throw invalidData('validation.port', 'A port goes with tcp or udp', { field: 'port' });
      }
      if (target.vpsIds.length === 0 && rung !== 'warning' && !(rung === 'suspension' && !target.vpsId))
        throw conflict('sanction.no_vps', 'This account has no VPS to apply it to');
      const id = randomUUID();
      const applied: SanctionApplied = { networkBlockIds: [], pausedVpsIds: [] };
      try {
        await mechanics.apply(actor, id, rung, target, params, reason, p.plannedEnd, applied);
      } catch (e) {
        // Nothing may stay owned by (or held for) a sanction that is never recorded: undo what
        // was applied before the failure, then report it.
        await mechanics
          .undo(actor, { id, account_id: target.accountId, applied }, `apply failed: ${reason}`)
          .catch((u: unknown) =>
            log.error({ err: u, sanction: id }, 'undoing a half-applied sanction failed'),
          );
        throw e;
      }
      const withheld = p.withheld === true;
      const row = await inTransaction(db, async (tx) => {
        const m = await insertSanction(tx, {
          id,
          account_id: target.accountId,
          vps_id: target.vpsId,
          rung,
          suggested_rung: decision.rung,
          override_reason: rung !== decision.rung ? overrideReason : null,
          breach_kind: p.breachKind,
          severity: p.severity,
          reason,
          evidence: p.evidence.trim(),
          params: JSON.stringify(params),
          planned_end: p.plannedEnd ?? null,
          lift_condition: liftCondition,
          withheld,
          restore_refusable: decision.restoreMayBeRefused,
          notice_id: p.noticeId ?? null,
          applied: JSON.stringify(applied),
          applied_by: actor.label,
          applied_at: now,
        });
        if (p.plannedEnd && rung !== 'warning' && rung !== 'termination')
          await scheduleDeadline(
            tx,
            { kind: SANCTION_END, subjectType: 'sanction', subjectId: id, dueAt: p.plannedEnd },
            now,
          );
        if (!withheld)
          await mailSanctionNotice(
            tx,
            deps.mail,
            'sanction.applied',
            m,
            `R5.1/R12.5 sanction ${rung} applied`,
          );
        return m;
      });
      await audit.record(
        actor,
        'sanction.apply',
        { type: target.vpsId ? 'vps' : 'account', id: target.vpsId ?? target.accountId },
        {
          sanctionId: id,
          rung,
          suggestedRung: decision.rung,
          overrideReason: row.override_reason,
          breachKind: p.breachKind,
          severity: p.severity,
          reason,
          withheld,
          noticeId: p.noticeId ?? null,
          applied,
        },
      );
      return sanctionView(row);
    },

    /** Staff: lifts a sanction in force (409 otherwise); R5.1 refusal needs an admin's override. */
    async lift(
      actor: AuditActor,
      scope: Scope,
      id: string,
      p: { reason: string; override?: boolean },
    ): Promise<SanctionView> {
      const reason = p.reason.trim();
      if (reason.length < 3) throw invalidData('validation.reason', 'Say why', { field: 'reason' });
      const m = await getRow(db, id);
      if (m.lifted_at || m.rung === 'warning' || m.rung === 'termination')
        throw conflict('sanction.not_in_force', 'This sanction is not in force');
      if (m.restore_refusable && !p.override)
        throw conflict(
          'sanction.restore_refused',
          'After repeated serious cases, restoring may be refused (R5.1): an admin may override with a reason',
        );
      if (p.override && !(scope.kind === 'staff' && scope.role === 'admin'))
        throw notAllowed('sanction.override_admin_only', 'Only an admin may override a refusal to restore');
      return service.liftNow(actor, m, reason, Boolean(p.override && m.restore_refusable));
    },

    /** Lifts now (the checks are the caller's). */
    async liftNow(
      actor: AuditActor,
      m: SanctionRow,
      reason: string,
      override: boolean,
      /** Called by the planned-end deadline itself: its row is the scheduler's (locked), not to cancel. */
      fromDeadline = false,
    ): Promise<SanctionView> {
      const now = clock.now();
      // Claim the lift first: two concurrent lifts, one wins.
      const claimed = await claimSanctionLift(db, m.id, { at: now, by: actor.label, reason, override });
      if (!claimed) throw conflict('sanction.not_in_force', 'This sanction is not in force');
      try {
        await mechanics.undo(actor, m, reason);
      } catch (e) {
        await unclaimSanctionLift(db, m.id);
        throw e;
      }
      const row = await inTransaction(db, async (tx) => {
        if (!fromDeadline) await cancelDeadline(tx, SANCTION_END, 'sanction', m.id, now);
        if (!m.withheld)
          await mailSanctionNotice(tx, deps.mail, 'sanction.lifted', claimed, `sanction ${m.rung} lifted`);
        return claimed;
      });
      await audit.record(
        actor,
        'sanction.lift',
        { type: m.vps_id ? 'vps' : 'account', id: m.vps_id ?? m.account_id },
        { sanctionId: m.id, rung: m.rung, reason, override },
      );
      return sanctionView(row);
    },

    /** Deadline handler: a sanction's planned end came; lifted unless restoring may be refused. */
    async onPlannedEnd(d: Deadline): Promise<void> {
      const m = await getRow(db, d.subject_id);
      if (m.lifted_at) return;
      if (m.restore_refusable) {
        // R5.1: restoring may be refused: staff decide (an admin's override lifts it).
        await raiseAlert(db, {
          at: clock.now(),
          kind: 'sanction.planned_end',
          subject_type: 'sanction',
          subject_id: m.id,
          message: `Planned end of a ${m.rung} reached; restoring may be refused (R5.1): lift it or keep it`,
        });
        log.info({ sanction: m.id }, 'planned end reached; restoring may be refused (R5.1): left to staff');
        return;
      }
      await service.liftNow(SYSTEM_ACTOR, m, 'planned end reached', false, true);
    },

    /** Staff: one sanction. */
    async get(id: string): Promise<SanctionView> {
      const m = await getRow(db, id);
      const h = m.vps_id ? await findVps(db, m.vps_id) : undefined;
      return sanctionView(m, h?.hostname ?? null);
    },

    /** Staff: history (filters: account, VPS, in force only, notice). */
    async list(f: { accountId?: string; vpsId?: string; inForce?: boolean; noticeId?: string } = {}) {
      const rows = await listSanctions(db, f);
      return rows.map(({ hostname, ...r }) => sanctionView(r, hostname));
    },

    /** Both sides: sanctions in force on a VPS (its own and its account's), with reason and end (R5.1). */
    async inForceOnVps(scope: Scope, vpsId: string): Promise<ClientSanctionView[]> {
      const vps = await getVps(db, scope, vpsId);
      return (await sanctionsInForceOnVps(db, vps.account_id, vps.id)).map(clientSanctionView);
    },

    /** Staff: attach an evidence file (PDF, JPEG, PNG by content) to a sanction. */
    async attachEvidence(
      actor: AuditActor,
      id: string,
      file: { stream: Readable; fileName: string | undefined },
    ) {
      const m = await getRow(db, id);
      // One slot taken atomically before the file is read (two uploads at once cannot both take
      // the last one), given back if the file is refused.
      if (!(await takeEvidenceSlot(db, id, MAX_EVIDENCE_UPLOADS))) {
        file.stream.resume();
        throw tooManyUploads(MAX_EVIDENCE_UPLOADS, 'sanction');
      }
      const stored = await uploads
        .store('sanctions', m.account_id, file, { maxBytes: MAX_EVIDENCE_BYTES })
        .catch(async (e: unknown) => {
          await giveBackEvidenceSlot(db, id);
          throw e;
        });
      await setEvidenceFile(db, id, {
        path: stored.relativePath,
        fileName: stored.fileName,
        contentType: stored.type,
        size: stored.size,
      });
      await audit.record(
        actor,
        'sanction.evidence',
        { type: 'sanction', id },
        { sha256: stored.sha256, size: stored.size },
      );
      return service.get(id);
    },

    async evidenceFile(id: string) {
      const m = await getRow(db, id);
      if (!m.evidence_path) throw notFound('sanction.no_evidence_file', 'This sanction has no evidence file');
      return {
        path: uploads.pathOf(m.evidence_path),
        contentType: m.evidence_content_type!,
        fileName: m.evidence_file_name!,
        size: m.evidence_size!,
      };
    },
  };
  return service;
}
export type SanctionsService = ReturnType<typeof createSanctionsService>;
