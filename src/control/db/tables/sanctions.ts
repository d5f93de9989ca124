// Tables of the sanctions module (R3.14, R5.1, R6.4, R12.5) and authority notices (R12.6).
import type { Generated } from 'kysely';
import type { Json, Timestamp } from '../column-types.ts';

/** What a sanction applied, so lifting undoes exactly that. */
export interface SanctionApplied {
  /** network_blocks rows it added (block, throttle, isolate). */
  networkBlockIds?: string[];
  /** VPSs it paused (lifting resumes these only). */
  pausedVpsIds?: string[];
  /** The account suspension it started (whole-account suspension). */
  accountSuspensionId?: string;
  /** Contracts it terminated (R12.3; not undone by a lift). */
  terminatedContractIds?: string[];
}

export interface SanctionParams {
  protocol?: 'tcp' | 'udp' | 'icmp' | 'all';
  port?: number;
  direction?: 'in' | 'out' | 'both';
}

export interface SanctionsTable {
  id: Generated<string>;
  account_id: string;
  vps_id: string | null;
  rung: 'warning' | 'restriction' | 'limitation' | 'suspension' | 'isolation' | 'termination';
  suggested_rung: string;
  override_reason: string | null;
  breach_kind: string;
  severity: 'minor' | 'serious' | 'critical';
  reason: string;
  evidence: string;
  evidence_path: string | null;
  evidence_file_name: string | null;
  evidence_content_type: string | null;
  evidence_size: number | null;
  /** Evidence files uploaded so far (capped per sanction). */
  evidence_uploads: Generated<number>;
  params: Json<SanctionParams>;
  planned_end: Timestamp | null;
  lift_condition: string | null;
  withheld: boolean;
  restore_refusable: boolean;
  notice_id: string | null;
  applied: Json<SanctionApplied>;
  applied_by: string;
  applied_at: Timestamp;
  lifted_at: Timestamp | null;
  lifted_by: string | null;
  lift_reason: string | null;
  lift_override: Generated<boolean>;
}

export interface AuthorityNoticesTable {
  id: Generated<string>;
  account_id: string;
  vps_id: string | null;
  authority: string;
  type: 'administrative' | 'arbitral' | 'judicial';
  reference: string;
  /** 'YYYY-MM-DD' (date). */
  received_on: string;
  sanction_ordered: 'restriction' | 'limitation' | 'suspension';
  withheld: boolean;
  notes: string | null;
  scan_path: string | null;
  scan_file_name: string | null;
  scan_content_type: string | null;
  scan_size: number | null;
  scan_sha256: string | null;
  /** Scans uploaded so far (capped per notice). */
  scan_uploads: Generated<number>;
  recorded_by: string;
  recorded_at: Timestamp;
}

export interface SanctionsTables {
  sanctions: SanctionsTable;
  authority_notices: AuthorityNoticesTable;
}
