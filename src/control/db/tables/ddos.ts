// DDoS mitigations (R9.1, R9.3, R9.4; migration 0140).
import type { ColumnType, Generated } from 'kysely';
import type { Json, Timestamp } from '../column-types.ts';

/** int8 read back as a string (exact); written as a number; defaults to 0. */
type Count = ColumnType<string, number | string | undefined, number | string>;

export interface DdosMitigationsTable {
  id: Generated<string>;
  vps_id: string;
  host_id: string;
  address: string;
  automatic: Generated<boolean>;
  tier: Generated<number>;
  signature: Json<Record<string, unknown>>;
  peak_pps: Count;
  peak_bps: Count;
  started_at: Timestamp;
  last_attack_at: Timestamp;
  ends_at: Timestamp;
  ended_at: Timestamp | null;
  dropped_packets: Count;
  top_sources: ColumnType<{ address: string; packets: number }[], string | undefined, string>;
}

export interface DdosTables {
  ddos_mitigations: DdosMitigationsTable;
}
