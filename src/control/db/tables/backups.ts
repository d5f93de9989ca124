// Tables of the backups module (R3.6, R3.7, R12.4; migration 0120).
import type { Generated } from 'kysely';
import type { Int8, Json, Timestamp } from '../column-types.ts';

export interface BackupTargetsTable {
  id: Generated<string>;
  name: string;
  kind: 'rest' | 'sftp';
  /** The datacenter the target lives in: a VPS's backups go to another one (R3.6). */
  datacenter_id: string;
  /** Endpoints with their credentials, sealed (SecretBox): append-only for hosts, full for the platform. */
  append_url_sealed: string;
  admin_url_sealed: string;
  /** The append-only endpoint with its password masked. */
  display_url: string;
  max_concurrent: Generated<number>;
  enabled: Generated<boolean>;
  created_by: string;
  created_at: Timestamp;
}

export interface BackupReposTable {
  vps_id: string;
  target_id: string;
  /** The repository's name under the target (random: the target never learns the VPS id). */
  path_token: string;
  /** The repository key, sealed; null once deleted (R12.4). */
  key_sealed: string | null;
  initialized_at: Timestamp | null;
  last_check_at: Timestamp | null;
  last_check_ok: boolean | null;
  created_at: Timestamp;
  deleted_at: Timestamp | null;
}

export interface BackupsTable {
  id: Generated<string>;
  vps_id: string;
  target_id: string;
  host_id: string | null;
  state: 'running' | 'succeeded' | 'failed';
  trigger: 'schedule' | 'staff';
  started_at: Timestamp;
  finished_at: Timestamp | null;
  snapshot_id: string | null;
  consistency: 'fsfreeze' | 'crash' | 'stopped' | null;
  crash_reason: string | null;
  freeze_ms: number | null;
  bytes_read: Int8 | null;
  bytes_added: Int8 | null;
  duration_ms: number | null;
  sha256: string | null;
  error: string | null;
  /** Forgotten and pruned by the retention (R3.6: 15 days sliding). */
  forgotten_at: Timestamp | null;
}

export interface BackupRestoresTable {
  id: Generated<string>;
  vps_id: string;
  backup_id: string;
  requested_by: string;
  /** R3.7: a client's request counts (2 per calendar month, Europe/Paris); staff's do not. */
  counted: boolean;
  /** YYYY-MM in Europe/Paris of the request. */
  paris_month: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  requested_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  result: Json<Record<string, unknown>> | null;
  error: string | null;
}

export interface BackupTables {
  backup_targets: BackupTargetsTable;
  backup_repos: BackupReposTable;
  backups: BackupsTable;
  backup_restores: BackupRestoresTable;
}
