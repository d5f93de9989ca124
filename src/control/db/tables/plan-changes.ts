// Tables of plan changes (R3.12).
import type { Generated } from 'kysely';
import type { Json, Timestamp } from '../column-types.ts';

export interface PlanChangesTable {
  id: Generated<string>;
  account_id: string;
  vps_id: string;
  contract_id: string;
  /** The invoice of the difference; null when the new plan costs nothing more now. */
  invoice_id: string | null;
  from_plan_id: string;
  to_plan_id: string;
  to_plan_name: string;
  from_vcpus: number;
  from_memory_mib: number;
  from_disk_gib: number;
  to_vcpus: number;
  to_memory_mib: number;
  to_disk_gib: number;
  from_monthly_price_cents: number;
  to_monthly_price_cents: number;
  to_vat_rate_bp: number;
  /** The proration's figures (src/domain/plan-changes.ts). */
  cycle_days: number;
  remaining_days: number;
  full_months: number;
  amount_cents: number;
  /** The terms whose deadline applies (R3.12: 48 h after payment). */
  terms_version: string;
  state: 'awaiting_payment' | 'paid' | 'applied' | 'cancelled';
  ordered_by: string;
  ordered_at: Timestamp;
  paid_at: Timestamp | null;
  due_at: Timestamp | null;
  /** The driver's answer per field (live, next_start, unchanged). */
  resize_result: Json<Record<string, unknown>> | null;
  reboot_announced_at: Timestamp | null;
  reboot_at: Timestamp | null;
  reboot_action_id: string | null;
  applied_at: Timestamp | null;
  /** Set when the deadline passed with the change not applied (a staff alert was raised). */
  late_at: Timestamp | null;
  attempts: Generated<number>;
  last_error: string | null;
  cancelled_at: Timestamp | null;
}

export interface PlanChangeTables {
  plan_changes: PlanChangesTable;
}
