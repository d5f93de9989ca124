// Staff alerts (R4.1): what needs a person — a VM that crashed, a provisioning, power action, plan
// change or deletion that keeps failing, a sanction whose planned end staff must decide (R5.1).
// Every module raises its alerts here, in its own transaction when it passes one.
import type { Db } from '../db/database.ts';
import {
  acknowledgeAlert,
  countOpenAlerts,
  insertAlert,
  listAlerts,
  pageAlerts,
  type NewStaffAlert,
  type StaffAlertRow,
} from '../repositories/alerts.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';

export type { StaffAlertRow };

/** The kinds of alert raised today (the panel words the VPS-related ones). */
export type AlertKind =
  | 'vm_crashed'
  | 'power_failed'
  | 'provisioning_failed'
  | 'plan_change_failed'
  | 'plan_change_late'
  | 'termination_failing'
  | 'sanction.planned_end'
  | 'backup_failed';

export interface NewAlert extends NewStaffAlert {
  kind: AlertKind;
}

/** Raises an alert with `exec` (a transaction of the caller's, so the alert exists iff its cause committed). */
export async function raiseAlert(exec: Db, alert: NewAlert): Promise<void> {
  await insertAlert(exec, alert);
}

export function createAlertsService(ctx: ServiceContext, audit: AuditService) {
  const { db, clock } = ctx;
  return {
    raise: (alert: Omit<NewAlert, 'at'>, exec: Db = db) => raiseAlert(exec, { ...alert, at: clock.now() }),
    list: (opts: { open?: boolean; limit?: number } = {}) => listAlerts(db, opts),
    /** A page of the alerts, newest first (the API's list). */
    page: (opts: { open?: boolean }, page: PageRequest) => pageAlerts(db, opts, page),
    countOpen: () => countOpenAlerts(db),
    /** Idempotent: a second acknowledgement changes nothing and is not audited again. */
    async acknowledge(id: string, actor: AuditActor): Promise<StaffAlertRow> {
      const r = await acknowledgeAlert(db, id, actor.label, clock.now());
      if (r.changed)
        await audit.record(actor, 'alert.acknowledge', { type: 'staff_alert', id }, { kind: r.row.kind });
      return r.row;
    },
  };
}
export type AlertsService = ReturnType<typeof createAlertsService>;
