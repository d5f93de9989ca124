// Tables of the VPS power actions (start, stop, reboot, poweroff).
import type { Generated } from 'kysely';
import type { Json, Timestamp } from '../column-types.ts';

export interface VpsActionsTable {
  id: Generated<string>;
  vps_id: string;
  action: 'start' | 'stop' | 'reboot' | 'poweroff';
  state: 'queued' | 'running' | 'done' | 'failed';
  /** Who asked, in words (email or "system"). */
  requested_by: string;
  requested_at: Timestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** What the driver answered (e.g. the stop ladder's rung that ended it). */
  result: Json<Record<string, unknown>> | null;
  error: string | null;
}

export interface VpsPowerTables {
  vps_actions: VpsActionsTable;
}
