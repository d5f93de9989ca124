// What staff and clients read of a sanction (R5.1: nature, reason, expected end; R12.5: the
// ladder's suggestion next to staff's choice).
import type { Rung, Severity } from '../../domain/sanctions.ts';
import type { SanctionRow } from '../repositories/sanctions.ts';

export interface SanctionView {
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

/** What a client sees of a sanction (R5.1: nature, reason, expected end). */
export interface ClientSanctionView {
  id: string;
  vpsId: string | null;
  rung: Rung;
  reason: string;
  plannedEnd: string | null;
  liftCondition: string | null;
  appliedAt: string;
}

export function sanctionView(m: SanctionRow, hostname: string | null = null): SanctionView {
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

export const clientSanctionView = (m: SanctionRow): ClientSanctionView => ({
  id: m.id,
  vpsId: m.vps_id,
  rung: m.rung,
  reason: m.reason,
  plannedEnd: m.planned_end?.toISOString() ?? null,
  liftCondition: m.lift_condition,
  appliedAt: m.applied_at.toISOString(),
});
