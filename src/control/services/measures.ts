// Measures on a VPS or a whole account (R3.14, R5.1, R6.4, R6.5, R12.3, R12.5): the ladder's
// suggestion (domain/measures.ts), staff's choice with a reason, the mechanics applied through
// the modules that own them (net measures: block, throttle, isolate; vps.suspend pauses;
// clients.suspend for a whole account; terminations for R12.3), the client told by email
// (nature and expected duration, R5.1) unless the notice must be withheld (authority orders),
// the planned end as a deadline, and an explicit, audited lift that undoes what the measure
// applied and only that. R5.1: after repeated serious cases the lift needs an admin's override.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { conflict, DomainError, invalidData, notAllowed, notFound } from '../../domain/errors.ts';
import {
  BREACH_KINDS,
  suggestMeasure,
  windowStart,
  type BreachKind,
  type LadderDecision,
  type Rung,
  type Severity,
} from '../../domain/measures.ts';
import type { Db } from '../db/database.ts';
import type { Deadline } from '../db/schema.ts';
import type { MeasureApplied, MeasureParams } from '../db/tables/measures.ts';
import { mailDate } from '../mail/format.ts';
import { findRecipient } from '../mail/recipients.ts';
import type { MailService } from './mail.ts';
import { cancelDeadline, scheduleDeadline } from '../repositories/deadlines.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { getVps } from '../repositories/vps.ts';
import { createUploadsStore } from '../storage/uploads.ts';
import { raiseAlert } from './alerts.ts';
import type { AuditService } from './audit.ts';
import type { ClientsService } from './clients.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import type { NetMeasuresService } from './net-measures.ts';
import { ACCOUNT_SUSPENDED_REASON, type VpsService } from './vps.ts';

/** Deadline kind: a measure's planned end; the measure is lifted then (unless restoring may be refused). */
export const MEASURE_END = 'measure.planned_end';
export const MAX_EVIDENCE_BYTES = 10 * 1024 * 1024;
/** Evidence files per measure: replaced files stay on disk as proof, so their number is capped. */
export const MAX_EVIDENCE_UPLOADS = 5;

/** 413 for one upload too many on one object (the size cap is `upload.too_large`). */
export const tooManyUploads = (max: number, what: string) =>
  new DomainError('invalid_data', 'upload.too_many', `At most ${max} files may be uploaded for one ${what}`, {
    field: 'file',
  });

/** The terminations module's entry point (R12.3), as this module calls it. */
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

export interface MeasureRecordView {
  id: string;
  accountId: string;
  vpsId: string | null;
  hostname: string | null;
  rung: Rung;
  suggestedRung: Rung;
  overrideReason: string | null;
  breachKind: string;
  severity: Severity;
  reason: string;
  evidence: string;
  evidenceFile: { name: string; contentType: string; size: number } | null;
  protocol: string | null;
  port: number | null;
  direction: string | null;
  plannedEnd: string | null;
  liftCondition: string | null;
  withheld: boolean;
  restoreRefusable: boolean;
  noticeId: string | null;
  appliedBy: string;
  appliedAt: string;
  liftedAt: string | null;
  liftedBy: string | null;
  liftReason: string | null;
  liftOverride: boolean;
  inForce: boolean;
}

/** What a client sees of a measure (R5.1: nature, reason, expected end). */
export interface ClientMeasureView {
  id: string;
  vpsId: string | null;
  rung: Rung;
  reason: string;
  plannedEnd: string | null;
  liftCondition: string | null;
  appliedAt: string;
}

type MeasureRowT = {
  id: string;
  account_id: string;
  vps_id: string | null;
  rung: Rung;
  suggested_rung: string;
  override_reason: string | null;
  breach_kind: string;
  severity: Severity;
  reason: string;
  evidence: string;
  evidence_path: string | null;
  evidence_file_name: string | null;
  evidence_content_type: string | null;
  evidence_size: number | null;
  params: MeasureParams;
  planned_end: Date | null;
  lift_condition: string | null;
  withheld: boolean;
  restore_refusable: boolean;
  notice_id: string | null;
  applied: MeasureApplied;
  applied_by: string;
  applied_at: Date;
  lifted_at: Date | null;
  lifted_by: string | null;
  lift_reason: string | null;
  lift_override: boolean;
};

export function measureView(m: MeasureRowT, hostname: string | null = null): MeasureRecordView {
  return {
    id: m.id,
    accountId: m.account_id,
    vpsId: m.vps_id,
    hostname,
    rung: m.rung,
    suggestedRung: m.suggested_rung as Rung,
    overrideReason: m.override_reason,
    breachKind: m.breach_kind,
    severity: m.severity,
    reason: m.reason,
    evidence: m.evidence,
    evidenceFile:
      m.evidence_path && m.evidence_file_name && m.evidence_content_type
        ? { name: m.evidence_file_name, contentType: m.evidence_content_type, size: m.evidence_size ?? 0 }
        : null,
    protocol: m.params.protocol ?? null,
    port: m.params.port ?? null,
    direction: m.params.direction ?? null,
    plannedEnd: m.planned_end?.toISOString() ?? null,
    liftCondition: m.lift_condition,
    withheld: m.withheld,
    restoreRefusable: m.restore_refusable,
    noticeId: m.notice_id,
    appliedBy: m.applied_by,
    appliedAt: m.applied_at.toISOString(),
    liftedAt: m.lifted_at?.toISOString() ?? null,
    liftedBy: m.lifted_by,
    liftReason: m.lift_reason,
    liftOverride: m.lift_override,
    inForce: m.lifted_at === null && m.rung !== 'warning' && m.rung !== 'termination',
  };
}

const NATURE: Record<Rung, { fr: string; en: string }> = {
  warning: { fr: 'avertissement', en: 'warning' },
  restriction: {
    fr: 'restriction (ports ou protocoles bloqués)',
    en: 'restriction (ports or protocols blocked)',
  },
  limitation: { fr: 'limitation du débit', en: 'bandwidth limitation' },
  suspension: {
    fr: 'suspension (serveur mis en pause, réseau coupé)',
    en: 'suspension (server paused, network cut)',
  },
  isolation: {
    fr: 'isolement pour raison de sécurité (coupé d’Internet jusqu’à sa réinstallation)',
    en: 'isolation for security (cut off from the Internet until it is reinstalled)',
  },
  termination: { fr: 'résiliation du contrat', en: 'termination of the contract' },
};

/** What is blocked, in words (tcp/25 out). */
function restrictionWords(p: MeasureParams, lang: 'fr' | 'en'): string {
  const proto =
    p.protocol === 'all' ? (lang === 'fr' ? 'tout le trafic' : 'all traffic') : p.protocol!.toUpperCase();
  const port = p.port ? ` ${lang === 'fr' ? 'port' : 'port'} ${p.port}` : '';
  const dir =
    p.direction === 'in'
      ? lang === 'fr'
        ? 'entrant'
        : 'inbound'
      : p.direction === 'out'
        ? lang === 'fr'
          ? 'sortant'
          : 'outbound'
        : lang === 'fr'
          ? 'entrant et sortant'
          : 'inbound and outbound';
  return `${proto}${port} ${dir}`;
}

function natureOf(rung: Rung, p: MeasureParams, lang: 'fr' | 'en'): string {
  const n = NATURE[rung][lang];
  return rung === 'restriction' && p.protocol
    ? `${n} : ${restrictionWords(p, lang)}`.replace(' : ', lang === 'fr' ? ' : ' : ': ')
    : n;
}

function durationOf(
  m: { planned_end: Date | null; lift_condition: string | null; rung: Rung },
  lang: 'fr' | 'en',
): string {
  if (m.rung === 'termination') return lang === 'fr' ? 'définitive' : 'permanent';
  if (m.rung === 'warning') return lang === 'fr' ? 'sans effet sur le service' : 'no effect on the service';
  const parts: string[] = [];
  if (m.planned_end)
    parts.push(
      lang === 'fr' ? `jusqu'au ${mailDate(m.planned_end, lang)}` : `until ${mailDate(m.planned_end, lang)}`,
    );
  if (m.lift_condition)
    parts.push(lang === 'fr' ? `levée quand : ${m.lift_condition}` : `lifted when: ${m.lift_condition}`);
  return parts.join(lang === 'fr' ? ' ; ' : '; ');
}

function actionOf(rung: Rung, lang: 'fr' | 'en'): string {
  if (rung === 'isolation')
    return lang === 'fr'
      ? 'Une réinstallation de votre VPS est nécessaire : il reste coupé d’Internet jusqu’à ce qu’il soit réinstallé (article 6.4). Contactez le support pour la planifier.'
      : 'Your VPS needs a reinstall: it stays cut off from the Internet until it is reinstalled (article 6.4). Contact support to plan it.';
  if (rung === 'termination')
    return lang === 'fr'
      ? 'Le contrat est résilié pour manquement (article 12.3) ; un courriel séparé précise la suppression des données.'
      : 'The contract is terminated for breach (article 12.3); a separate email details the deletion of the data.';
  return lang === 'fr'
    ? 'Corrigez la cause indiquée ci-dessus et répondez à ce courriel ou ouvrez un ticket : le service est rétabli une fois le problème corrigé (article 5.1).'
    : 'Fix the cause given above and reply to this email or open a ticket: the service comes back once the problem is fixed (article 5.1).';
}

export function createMeasuresService(
  ctx: ServiceContext,
  audit: AuditService,
  deps: {
    mail: MailService;
    netMeasures: NetMeasuresService;
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

  async function historyOf(exec: Db, accountId: string, now: Date) {
    const rows = await exec
      .selectFrom('measures')
      .select(['breach_kind', 'severity', 'applied_at'])
      .where('account_id', '=', accountId)
      .where('applied_at', '>', windowStart(now))
      .execute();
    return rows.map((r) => ({ kind: r.breach_kind as BreachKind, severity: r.severity, at: r.applied_at }));
  }

  async function targetOf(p: { accountId?: string; vpsId?: string }) {
    if (p.vpsId) {
      const vps = await getVps(db, SYSTEM_SCOPE, p.vpsId);
      if (p.accountId && p.accountId !== vps.account_id)
        throw invalidData('validation.vpsId', 'This VPS is not of that account', { field: 'vpsId' });
      return { accountId: vps.account_id, vpsIds: [vps.id], vpsId: vps.id as string | null };
    }
    if (!p.accountId) throw invalidData('validation.target', 'Name a VPS or an account', { field: 'vpsId' });
    const acc = await db.selectFrom('accounts').select('id').where('id', '=', p.accountId).executeTakeFirst();
    if (!acc) throw notFound('account.not_found', 'No such account');
    const vpss = await db
      .selectFrom('vps')
      .select('id')
      .where('account_id', '=', acc.id)
      .where('state', '!=', 'destroyed')
      .execute();
    return { accountId: acc.id, vpsIds: vpss.map((v) => v.id), vpsId: null as string | null };
  }

  async function mailClient(
    tx: Db,
    template: 'measure.applied' | 'measure.lifted',
    m: MeasureRowT,
    reason: string,
  ): Promise<void> {
    const owner = await findRecipient(tx, m.account_id);
    if (!owner) return;
    const hostname = m.vps_id
      ? (await tx.selectFrom('vps').select('hostname').where('id', '=', m.vps_id).executeTakeFirst())
          ?.hostname
      : undefined;
    const lang = owner.language;
    const target = hostname
      ? lang === 'fr'
        ? `votre VPS ${hostname}`
        : `your VPS ${hostname}`
      : lang === 'fr'
        ? 'tous les VPS de votre compte'
        : 'every VPS of your account';
    const vars: Record<string, string> =
      template === 'measure.applied'
        ? {
            name: owner.name,
            target,
            nature: natureOf(m.rung, m.params, lang),
            reason: m.reason,
            duration: durationOf(m, lang),
            action: actionOf(m.rung, lang),
          }
        : { name: owner.name, target, nature: natureOf(m.rung, m.params, lang) };
    // Last in the transaction: the mail module holds the notices chain's lock until commit.
    await deps.mail.send(tx, {
      to: owner.to,
      template,
      language: lang,
      vars,
      accountId: m.account_id,
      reason,
    });
  }

  /** Applies the mechanics of a rung on the target; returns what it applied. */
  async function applyMechanics(
    actor: AuditActor,
    measureId: string,
    rung: Rung,
    target: { accountId: string; vpsIds: string[]; vpsId: string | null },
    params: MeasureParams,
    reason: string,
    plannedEnd: Date | undefined,
    /** Filled as it goes, so a failure half-way can be undone. */
    applied: MeasureApplied,
  ): Promise<MeasureApplied> {
    const netReason = `${NATURE[rung].en}: ${reason}`;
    const net = async (kind: 'block' | 'throttle' | 'isolate') => {
      for (const v of target.vpsIds) {
        const r = await deps.netMeasures.add(
          actor,
          v,
          {
            kind,
            ...(kind === 'block' ? { protocol: params.protocol!, direction: params.direction! } : {}),
            ...(kind === 'block' && params.port !== undefined ? { port: params.port } : {}),
            reason: netReason,
            ...(plannedEnd ? { expectedUntil: plannedEnd } : {}),
          },
          // Owned: only this measure's lift removes it (R5.1's refusal, R12.6's order hold).
          { owner: { type: 'sanction', id: measureId } },
        );
        applied.netMeasureIds!.push(r.id);
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
            { accountId: target.accountId, cause: 'measure', referenceId: measureId, reason },
            actor,
          );
          if (s) applied.accountSuspensionId = s.id;
        } else {
          for (const v of target.vpsIds) {
            const why = `measure ${measureId}: ${reason}`;
            // Recorded apart from the power state first: a VPS suspended while stopped stays
            // suspended (no start by its client, nor by staff, until this measure is lifted).
            await deps.vps.hold(v, { type: 'sanction', id: measureId }, reason, actor);
            if (await deps.vps.suspend(db, v, why)) applied.pausedVpsIds!.push(v);
            else {
              // Already paused (an account suspension, another measure): this measure holds the
              // pause now, so the other's end does not resume it while this one is in force.
              const r = await db
                .updateTable('vps')
                .set({ state_reason: why })
                .where('id', '=', v)
                .where('state', '=', 'paused')
                .executeTakeFirst();
              if (Number(r.numUpdatedRows) > 0) applied.pausedVpsIds!.push(v);
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
        if (!t) throw conflict('measure.termination_unavailable', 'Terminations are not available');
        const contracts = await db
          .selectFrom('contracts')
          .select('id')
          .where(
            'vps_id',
            'in',
            target.vpsIds.length ? target.vpsIds : ['00000000-0000-0000-0000-000000000000'],
          )
          .where('state', 'in', ['active', 'suspended'])
          .execute();
        applied.terminatedContractIds = [];
        for (const c of contracts) {
          await t.terminate(db, {
            contractId: c.id,
            cause: 'provider_breach',
            effectiveAt: clock.now(),
            recordedBy: actor.label,
            reason,
          });
          applied.terminatedContractIds.push(c.id);
        }
        break;
      }
    }
    return applied;
  }

  /** Undoes what a measure applied (and only that). */
  async function undo(
    actor: AuditActor,
    m: Pick<MeasureRowT, 'id' | 'account_id' | 'applied'>,
    reason: string,
  ): Promise<void> {
    for (const id of m.applied.netMeasureIds ?? []) {
      const nm = await db
        .selectFrom('vps_net_measures')
        .select(['vps_id', 'lifted_at'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (nm && !nm.lifted_at)
        await deps.netMeasures.lift(actor, nm.vps_id, id, { type: 'sanction', id: m.id });
    }
    if (m.applied.accountSuspensionId)
      await deps.clients.lift(
        { accountId: m.account_id, cause: 'measure', referenceId: m.id },
        reason,
        actor,
      );
    // Its VPS-level holds first, so the VPSs it held may run again (unless another suspension
    // holds them); one it held but did not pause itself (a start in flight re-paused) counts too.
    const released = await deps.vps.releaseHolds({ type: 'sanction', id: m.id }, actor);
    for (const v of new Set([...(m.applied.pausedVpsIds ?? []), ...released])) {
      const row = await db
        .selectFrom('vps')
        .select(['state', 'state_reason'])
        .where('id', '=', v)
        .executeTakeFirst();
      // Only a VPS still paused by this measure (not by an account suspension since).
      if (row?.state !== 'paused' || !row.state_reason?.startsWith(`measure ${m.id}`)) continue;
      // Another suspension still in force on this VPS keeps it paused: it takes the pause over.
      const other = await db
        .selectFrom('measures')
        .select(['id', 'reason', 'applied'])
        .where('id', '!=', m.id)
        .where('vps_id', '=', v)
        .where('rung', '=', 'suspension')
        .where('lifted_at', 'is', null)
        .orderBy('applied_at')
        .executeTakeFirst();
      if (other) {
        const applied = other.applied as MeasureApplied;
        await db
          .updateTable('measures')
          .set({
            applied: JSON.stringify({ ...applied, pausedVpsIds: [...(applied.pausedVpsIds ?? []), v] }),
          })
          .where('id', '=', other.id)
          .execute();
        await db
          .updateTable('vps')
          .set({ state_reason: `measure ${other.id}: ${other.reason}` })
          .where('id', '=', v)
          .execute();
        continue;
      }
      // An account suspension still in force keeps it paused (its lifting resumes it).
      if (await deps.clients.isSuspended(db, m.account_id)) {
        await db
          .updateTable('vps')
          .set({ state_reason: `${ACCOUNT_SUSPENDED_REASON} (measure ${m.id} lifted)` })
          .where('id', '=', v)
          .execute();
        continue;
      }
      await deps.vps.resume(db, v, `measure ${m.id} lifted`);
    }
  }

  async function getRow(exec: Db, id: string, lock = false): Promise<MeasureRowT> {
    let q = exec.selectFrom('measures').selectAll().where('id', '=', id);
    if (lock) q = q.forUpdate();
    const m = await q.executeTakeFirst();
    if (!m) throw notFound('measure.not_found', 'No such measure');
    return m as MeasureRowT;
  }

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
      return suggestMeasure({
        kind: p.breachKind,
        severity: p.severity,
        now,
        history: await historyOf(db, target.accountId, now),
      });
    },

    /**
     * Staff: applies a measure (the ladder's rung or another with a reason), tells the client
     * unless withheld. Terminating (R12.3: the data is deleted) and withholding the client's
     * notice (R5.1 says the client is told) are an admin's decisions (docs/security.md, Roles).
     */
    async apply(actor: AuditActor, p: ApplyInput, by: Scope = SYSTEM_SCOPE): Promise<MeasureRecordView> {
      const reason = p.reason.trim();
      if (reason.length < 3)
        throw invalidData('validation.reason', 'Say why (the client is told: R5.1)', { field: 'reason' });
      const target = await targetOf(p);
      const now = clock.now();
      const decision = suggestMeasure({
        kind: p.breachKind,
        severity: p.severity,
        now,
        history: await historyOf(db, target.accountId, now),
      });
      const rung = p.rung ?? decision.rung;
      const admin = by.kind === 'staff' && by.role === 'admin';
      if (rung === 'termination' && !admin)
        throw notAllowed(
          'measure.termination_admin_only',
          'Only an admin may terminate a contract for breach (R12.3: its data is deleted); choose another rung with a reason, or ask an admin',
        );
      if (p.withheld === true && !admin)
        throw notAllowed(
          'measure.withheld_admin_only',
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
      let params: MeasureParams = {};
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
        throw conflict('measure.no_vps', 'This account has no VPS to apply it to');
      const id = randomUUID();
      const applied: MeasureApplied = { netMeasureIds: [], pausedVpsIds: [] };
      try {
        await applyMechanics(actor, id, rung, target, params, reason, p.plannedEnd, applied);
      } catch (e) {
        // Nothing may stay owned by (or held for) a measure that is never recorded: undo what
        // was applied before the failure, then report it.
        await undo(actor, { id, account_id: target.accountId, applied }, `apply failed: ${reason}`).catch(
          (u: unknown) => log.error({ err: u, measure: id }, 'undoing a half-applied measure failed'),
        );
        throw e;
      }
      const withheld = p.withheld === true;
      const row = await db.transaction().execute(async (tx) => {
        const m = (await tx
          .insertInto('measures')
          .values({
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
          })
          .returningAll()
          .executeTakeFirstOrThrow()) as MeasureRowT;
        if (p.plannedEnd && rung !== 'warning' && rung !== 'termination')
          await scheduleDeadline(
            tx,
            { kind: MEASURE_END, subjectType: 'measure', subjectId: id, dueAt: p.plannedEnd },
            now,
          );
        if (!withheld) await mailClient(tx, 'measure.applied', m, `R5.1/R12.5 measure ${rung} applied`);
        return m;
      });
      await audit.record(
        actor,
        'measure.apply',
        { type: target.vpsId ? 'vps' : 'account', id: target.vpsId ?? target.accountId },
        {
          measureId: id,
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
      return measureView(row);
    },

    /** Staff: lifts a measure in force (409 otherwise); R5.1 refusal needs an admin's override. */
    async lift(
      actor: AuditActor,
      scope: Scope,
      id: string,
      p: { reason: string; override?: boolean },
    ): Promise<MeasureRecordView> {
      const reason = p.reason.trim();
      if (reason.length < 3) throw invalidData('validation.reason', 'Say why', { field: 'reason' });
      const m = await getRow(db, id);
      if (m.lifted_at || m.rung === 'warning' || m.rung === 'termination')
        throw conflict('measure.not_in_force', 'This measure is not in force');
      if (m.restore_refusable && !p.override)
        throw conflict(
          'measure.restore_refused',
          'After repeated serious cases, restoring may be refused (R5.1): an admin may override with a reason',
        );
      if (p.override && !(scope.kind === 'staff' && scope.role === 'admin'))
        throw notAllowed('measure.override_admin_only', 'Only an admin may override a refusal to restore');
      return service.liftNow(actor, m, reason, Boolean(p.override && m.restore_refusable));
    },

    /** Lifts now (the checks are the caller's). */
    async liftNow(
      actor: AuditActor,
      m: MeasureRowT,
      reason: string,
      override: boolean,
      /** Called by the planned-end deadline itself: its row is the scheduler's (locked), not to cancel. */
      fromDeadline = false,
    ): Promise<MeasureRecordView> {
      const now = clock.now();
      // Claim the lift first: two concurrent lifts, one wins.
      const claimed = await db
        .updateTable('measures')
        .set({ lifted_at: now, lifted_by: actor.label, lift_reason: reason, lift_override: override })
        .where('id', '=', m.id)
        .where('lifted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!claimed) throw conflict('measure.not_in_force', 'This measure is not in force');
      try {
        await undo(actor, m, reason);
      } catch (e) {
        await db
          .updateTable('measures')
          .set({ lifted_at: null, lifted_by: null, lift_reason: null, lift_override: false })
          .where('id', '=', m.id)
          .execute();
        throw e;
      }
      const row = await db.transaction().execute(async (tx) => {
        if (!fromDeadline) await cancelDeadline(tx, MEASURE_END, 'measure', m.id, now);
        if (!m.withheld)
          await mailClient(tx, 'measure.lifted', claimed as MeasureRowT, `measure ${m.rung} lifted`);
        return claimed as MeasureRowT;
      });
      await audit.record(
        actor,
        'measure.lift',
        { type: m.vps_id ? 'vps' : 'account', id: m.vps_id ?? m.account_id },
        { measureId: m.id, rung: m.rung, reason, override },
      );
      return measureView(row);
    },

    /** Deadline handler: a measure's planned end came; lifted unless restoring may be refused. */
    async onPlannedEnd(d: Deadline): Promise<void> {
      const m = await getRow(db, d.subject_id);
      if (m.lifted_at) return;
      if (m.restore_refusable) {
        // R5.1: restoring may be refused: staff decide (an admin's override lifts it).
        await raiseAlert(db, {
          at: clock.now(),
          kind: 'measure.planned_end',
          subject_type: 'measure',
          subject_id: m.id,
          message: `Planned end of a ${m.rung} reached; restoring may be refused (R5.1): lift it or keep it`,
        });
        log.info({ measure: m.id }, 'planned end reached; restoring may be refused (R5.1): left to staff');
        return;
      }
      await service.liftNow(SYSTEM_ACTOR, m, 'planned end reached', false, true);
    },

    /** Staff: one measure. */
    async get(id: string): Promise<MeasureRecordView> {
      const m = await getRow(db, id);
      const h = m.vps_id
        ? await db.selectFrom('vps').select('hostname').where('id', '=', m.vps_id).executeTakeFirst()
        : undefined;
      return measureView(m, h?.hostname ?? null);
    },

    /** Staff: history (filters: account, VPS, in force only, notice). */
    async list(f: { accountId?: string; vpsId?: string; inForce?: boolean; noticeId?: string } = {}) {
      let q = db
        .selectFrom('measures as m')
        .leftJoin('vps as v', 'v.id', 'm.vps_id')
        .selectAll('m')
        .select('v.hostname')
        .orderBy('m.applied_at', 'desc')
        .orderBy('m.id')
        .limit(500);
      if (f.accountId) q = q.where('m.account_id', '=', f.accountId);
      if (f.vpsId) q = q.where('m.vps_id', '=', f.vpsId);
      if (f.noticeId) q = q.where('m.notice_id', '=', f.noticeId);
      if (f.inForce)
        q = q.where('m.lifted_at', 'is', null).where('m.rung', 'not in', ['warning', 'termination']);
      const rows = await q.execute();
      return rows.map((r) => measureView(r as unknown as MeasureRowT, r.hostname));
    },

    /** Both sides: measures in force on a VPS (its own and its account's), with reason and end (R5.1). */
    async inForceOnVps(scope: Scope, vpsId: string): Promise<ClientMeasureView[]> {
      const vps = await getVps(db, scope, vpsId);
      const rows = await db
        .selectFrom('measures')
        .selectAll()
        .where('account_id', '=', vps.account_id)
        .where((eb) => eb.or([eb('vps_id', '=', vps.id), eb('vps_id', 'is', null)]))
        .where('lifted_at', 'is', null)
        .where('rung', 'not in', ['warning', 'termination'])
        .orderBy('applied_at', 'desc')
        .execute();
      return rows.map((m) => ({
        id: m.id,
        vpsId: m.vps_id,
        rung: m.rung,
        reason: m.reason,
        plannedEnd: m.planned_end?.toISOString() ?? null,
        liftCondition: m.lift_condition,
        appliedAt: m.applied_at.toISOString(),
      }));
    },

    /** Staff: attach an evidence file (PDF, JPEG, PNG by content) to a measure. */
    async attachEvidence(
      actor: AuditActor,
      id: string,
      file: { stream: Readable; fileName: string | undefined },
    ) {
      const m = await getRow(db, id);
      // One slot taken atomically before the file is read (two uploads at once cannot both take
      // the last one), given back if the file is refused.
      const slot = await db
        .updateTable('measures')
        .set((eb) => ({ evidence_uploads: eb('evidence_uploads', '+', 1) }))
        .where('id', '=', id)
        .where('evidence_uploads', '<', MAX_EVIDENCE_UPLOADS)
        .returning('id')
        .executeTakeFirst();
      if (!slot) {
        file.stream.resume();
        throw tooManyUploads(MAX_EVIDENCE_UPLOADS, 'measure');
      }
      const stored = await uploads
        .store('sanctions', m.account_id, file, { maxBytes: MAX_EVIDENCE_BYTES })
        .catch(async (e: unknown) => {
          await db
            .updateTable('measures')
            .set((eb) => ({ evidence_uploads: eb('evidence_uploads', '-', 1) }))
            .where('id', '=', id)
            .execute();
          throw e;
        });
      await db
        .updateTable('measures')
        .set({
          evidence_path: stored.relativePath,
          evidence_file_name: stored.fileName,
          evidence_content_type: stored.type,
          evidence_size: stored.size,
        })
        .where('id', '=', id)
        .execute();
      await audit.record(
        actor,
        'measure.evidence',
        { type: 'measure', id },
        { sha256: stored.sha256, size: stored.size },
      );
      return service.get(id);
    },

    async evidenceFile(id: string) {
      const m = await getRow(db, id);
      if (!m.evidence_path) throw notFound('measure.no_evidence_file', 'This measure has no evidence file');
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
export type MeasuresService = ReturnType<typeof createMeasuresService>;
