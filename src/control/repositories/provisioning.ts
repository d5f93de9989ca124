// The provisioning workflow's own queries (R3.1, R3.2, R2.1): slots on a host, the gateway a
// VPS's address routes through, the access-codes mark under a row lock, the step-error count,
// and an address given back when a VPS fails for good. The VPS row itself: repositories/vps.ts.
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** The shaping slots taken on a host by its live VPSs (R2.1: a slot number is unique per host). */
export async function takenNetSlots(db: Db, hostId: string): Promise<number[]> {
  const rows = await db
    .selectFrom('vps')
    .select('net_slot')
    .where('host_id', '=', hostId)
    .where('state', '!=', 'destroyed')
    .where('net_slot', 'is not', null)
    .execute();
  return rows.map((r) => r.net_slot!);
}

/** The gateway of the pool the VPS's allocated address comes from (R3.2). */
export async function gatewayOfVps(db: Db, vpsId: string): Promise<string> {
  const r = await db
    .selectFrom('ip_addresses as a')
    .innerJoin('ip_pools as p', 'p.id', 'a.pool_id')
    .select(sql<string>`host(p.gateway)`.as('gateway'))
    .where('a.vps_id', '=', vpsId)
    .where('a.state', '=', 'allocated')
    .executeTakeFirstOrThrow();
  return r.gateway;
}

/** When the VPS's access codes were mailed (null: not yet), its row locked until the transaction ends. */
export async function accessCodesSentAtForUpdate(tx: Db, vpsId: string): Promise<Date | null> {
  const r = await tx
    .selectFrom('vps')
    .select('access_codes_sent_at')
    .where('id', '=', vpsId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return r.access_codes_sent_at;
}

/** Counts one more step error on the VPS, in one statement; the new count. */
export async function countProvisionError(db: Db, vpsId: string): Promise<number> {
  const r = await db
    .updateTable('vps')
    .set((eb) => ({ provision_errors: eb('provision_errors', '+', 1) }))
    .where('id', '=', vpsId)
    .returning('provision_errors')
    .executeTakeFirstOrThrow();
  return r.provision_errors;
}

/** The address of a VPS that never reached its client goes straight back to the pool (no quarantine). */
export async function dropAllocatedAddress(db: Db, vpsId: string): Promise<void> {
  await db.deleteFrom('ip_addresses').where('vps_id', '=', vpsId).where('state', '=', 'allocated').execute();
}
