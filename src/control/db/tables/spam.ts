// Tables of the anti-spam module (R7.1–R7.6): numbers only, never anything of a message.
import type { Generated } from 'kysely';
import type { Json, Timestamp } from '../column-types.ts';
import type { SpamBlockState, SpamSignal, SpamStats } from '../../../domain/spam.ts';

export interface SpamRulesTable {
  id: string;
  position: number;
  signal: SpamSignal;
  threshold: number;
  min_messages: number | null;
  reason: string;
  updated_by: string;
  updated_at: Timestamp;
}

export interface SpamIdentificationsTable {
  id: Generated<string>;
  vps_id: string;
  account_id: string;
  created_at: Timestamp;
  rule_id: string;
  signal: SpamSignal;
  threshold: number;
  observed: number;
  stats: Json<SpamStats>;
}

export interface SpamBlocksTable {
  id: Generated<string>;
  vps_id: string;
  account_id: string;
  identification_id: string;
  network_block_id: string | null;
  rung: number;
  created_at: Timestamp;
  min_until: Timestamp;
  state: SpamBlockState;
  requested_at: Timestamp | null;
  requested_by: string | null;
  decided_at: Timestamp | null;
  decided_by: string | null;
  refusal_reason: string | null;
  lifted_at: Timestamp | null;
  lifted_by: string | null;
}

export interface SpamTables {
  spam_rules: SpamRulesTable;
  spam_identifications: SpamIdentificationsTable;
  spam_blocks: SpamBlocksTable;
}
