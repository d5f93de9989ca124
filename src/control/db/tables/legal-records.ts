// Tables of the provider's legal records (R12.4, R12.6, R6.2): connection records and the
// IPv4 assignment history (domain/retention.ts says how long each is kept).
import type { ColumnType, Generated } from 'kysely';
import type { Timestamp } from '../column-types.ts';

export type ConnectionKind = 'login' | 'session' | 'api_token';

/** A panel login, or a TCP connection used by a session or an API token, with its source (1 year). */
export interface ConnectionRecordsTable {
  id: Generated<string>;
  at: Timestamp;
  user_id: string | null;
  account_id: string | null;
  kind: ConnectionKind;
  ip: string;
  /** The TCP source port; null when the request came through a proxy that does not pass it. */
  port: number | null;
}

/** Which VPS held an address, from when until when (written by a trigger on vps). */
export interface IpAssignmentsTable {
  id: Generated<string>;
  address: string;
  vps_id: string;
  account_id: string;
  from_at: Timestamp;
  until_at: Timestamp | null;
}

/** R6.2: a VPS's log store, off until its client enables it. */
export interface LogStoresTable {
  vps_id: string;
  account_id: string;
  enabled: boolean;
  changed_at: Timestamp;
  quota_bytes: ColumnType<string, number | string, number | string>;
  /** Stored (compressed) bytes of its live segments. */
  used_bytes: ColumnType<string, number | string | undefined, number | string>;
  /** When the client was warned at 80 % of its quota (cleared when back under). */
  warned_at: Timestamp | null;
  /** Since when new lines are dropped (100 %: counted, never stored). */
  full_at: Timestamp | null;
}

/** One segment per VPS and UTC day; sealed (hashed and chained) once its day is over. */
export interface LogSegmentsTable {
  id: Generated<string>;
  vps_id: string;
  account_id: string;
  day: string;
  lines: ColumnType<string, number | string | undefined, number | string>;
  raw_bytes: ColumnType<string, number | string | undefined, number | string>;
  stored_bytes: ColumnType<string, number | string | undefined, number | string>;
  dropped: ColumnType<string, number | string | undefined, number | string>;
  sha256: string | null;
  prev_hash: string | null;
  chain_hash: string | null;
  sealed_at: Timestamp | null;
  deleted_at: Timestamp | null;
}

export interface LegalRecordTables {
  connection_records: ConnectionRecordsTable;
  ip_assignments: IpAssignmentsTable;
  log_stores: LogStoresTable;
  log_segments: LogSegmentsTable;
}
