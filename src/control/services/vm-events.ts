// Lifecycle events from the hosts' agents reach the control plane here (R2.1): a QEMU that dies
// unexpectedly turns its VPS `failed` with the reason, and staff are alerted. The platform
// subscribes `handle` to its agents (`agents.onVmEvent`).
import type { VmEvent } from '../../agent/driver.ts';
import { canTransition, isVpsState } from '../../domain/vps-state.ts';
import { findVps, recordVpsEvent, setVpsState } from '../repositories/vps.ts';
import { raiseAlert } from './alerts.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type ServiceContext } from './context.ts';

export function createVmEventsService(ctx: ServiceContext, audit: AuditService) {
  const { db, clock } = ctx;

  async function handle(e: VmEvent): Promise<void> {
    const vps = await findVps(db, e.vmId);
    if (!vps) return; // not ours (a test VM, or an orphan the driver reports on its own)
    await recordVpsEvent(db, vps.id, clock.now(), `vm.${e.type}`, {
      at: e.at,
      ...(e.reason ? { reason: e.reason } : {}),
    });
    if (e.type !== 'crashed' || !isVpsState(vps.state) || !canTransition(vps.state, 'failed')) return;
    const reason = `QEMU died unexpectedly: ${e.reason ?? 'no reason given'}`;
    await db.transaction().execute(async (tx) => {
      await setVpsState(tx, vps.id, 'failed', clock.now(), reason);
      await raiseAlert(tx, {
        at: clock.now(),
        kind: 'vm_crashed',
        subject_type: 'vps',
        subject_id: vps.id,
        message: `${vps.hostname}: ${reason}`,
      });
    });
    await audit.record(
      SYSTEM_ACTOR,
      'vps.crashed',
      { type: 'vps', id: vps.id },
      { reason: e.reason ?? null },
    );
  }

  return { handle };
}

export type VmEventsService = ReturnType<typeof createVmEventsService>;
