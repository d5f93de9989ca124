// Tables of contract terminations (R12.1–R12.4).
import type { Generated } from 'kysely';
import type { Json, Timestamp } from '../column-types.ts';

/** One termination per contract (a partial unique index ignores cancelled ones). */
export interface TerminationsTable {
  id: Generated<string>;
  contract_id: string;
  account_id: string;
  vps_id: string;
  cause: 'term_end' | 'client_letter' | 'force_majeure_client' | 'force_majeure_provider' | 'provider_breach';
  state: 'scheduled' | 'executing' | 'done' | 'cancelled';
  effective_at: Timestamp;
  reason: string;
  /** Who recorded it, in words (staff email or "system"). */
  recorded_by: string;
  recorded_at: Timestamp;
  /** R12.2: the registered letter's receipt and the date it asks for. */
  letter_received_at: Timestamp | null;
  requested_effective_at: Timestamp | null;
  /** R12.2: the date the product proposed (docs/contract.md). */
  proposed_effective_at: Timestamp | null;
  cancelled_at: Timestamp | null;
  cancelled_by: string | null;
  cancel_reason: string | null;
  /** The deletion's last completed step (domain/terminations.ts `deletionSteps`). */
  deletion_step: string | null;
  deletion_errors: Generated<number>;
  last_error: string | null;
  done_at: Timestamp | null;
}

/** One deleted item of a deletion record. */
export interface DeletedItem {
  what: string;
  at: string;
  details?: Record<string, unknown>;
}

/** R12.4: what was deleted and when, kept after the deletion; no personal data beyond the hostname. */
export interface DeletionRecordsTable {
  id: Generated<string>;
  termination_id: string;
  contract_id: string;
  vps_id: string;
  hostname: string;
  cause: string;
  started_at: Timestamp;
  completed_at: Timestamp | null;
  deleted: Json<DeletedItem[]>;
}

export interface TerminationTables {
  terminations: TerminationsTable;
  deletion_records: DeletionRecordsTable;
}
