// Tables of the provider's legal records (R12.4, R12.6, R6.2): connection records and the
// IPv4 assignment history (domain/retention.ts says how long each is kept).
import type { Generated } from 'kysely';
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

export interface LegalRecordTables {
  connection_records: ConnectionRecordsTable;
  ip_assignments: IpAssignmentsTable;
}
