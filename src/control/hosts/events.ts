// Lifecycle events from the hosts' agents reach the control plane here: a QEMU that dies
// unexpectedly turns its VPS `failed` with the reason, and staff are alerted.
import type { VmEvent } from '../../agent/driver.ts';
import { isVpsState, canTransition } from '../../domain/vps-state.ts';
import { recordVpsEvent, setVpsState } from '../repositories/vps.ts';
import { SYSTEM_ACTOR } from '../services/context.ts';
import type { Services } from '../services/index.ts';

export async function handleVmEvent(s: Services, e: VmEvent): Promise<void> {
  const { db, clock } = s.ctx;
  const vps = await db
    .selectFrom('vps')
    .select(['id', 'state', 'hostname'])
    .where('id', '=', e.vmId)
    .executeTakeFirst();
  if (!vps) return; // not ours (a test VM, or an orphan the driver reports on its own)
  await recordVpsEvent(db, vps.id, clock.now(), `vm.${e.type}`, {
    at: e.at,
    ...(e.reason ? { reason: e.reason } : {}),
  });
  if (e.type !== 'crashed' || !isVpsState(vps.state) || !canTransition(vps.state, 'failed')) return;
  const reason = `QEMU died unexpectedly: ${e.reason ?? 'no reason given'}`;
  await db.transaction().execute(async (tx) => {
    await setVpsState(tx, vps.id, 'failed', clock.now(), reason);
    await tx
      .insertInto('staff_alerts')
      .values({
        at: clock.now(),
        kind: 'vm_crashed',
        subject_type: 'vps',
        subject_id: vps.id,
        message: `${vps.hostname}: ${reason}`,
      })
      .execute();
  });
  await s.audit.record(
    SYSTEM_ACTOR,
    'vps.crashed',
    { type: 'vps', id: vps.id },
    { reason: e.reason ?? null },
  );
}
