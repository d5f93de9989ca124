// Address allocation (R3.2): one fixed IPv4 per VPS from a pool of its datacenter, never given
// twice at once (primary key on the address), quarantined after release.
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/**
 * Takes the lowest free address of the pool (no row, or a quarantine that has ended) for the
 * VPS. Returns null when the pool is full. Concurrent callers cannot get the same address:
 * the insert is conditional and the loser retries with the next one.
 */
export async function allocateFromPool(
  db: Db,
  poolId: string,
  vpsId: string,
  now: Date,
): Promise<string | null> {
  for (let attempt = 0; attempt < 20; attempt++) {
    // Addresses are compared as /32 (host()): `network + i` keeps the pool's mask otherwise.
    const candidate = await sql<{ address: string }>`
      SELECT host(c.addr) AS address
      FROM ip_pools p,
           generate_series(1, (2 ^ (32 - masklen(p.cidr)))::int - 2) AS s(i),
           LATERAL (SELECT host(network(p.cidr) + s.i)::inet AS addr) c
      WHERE p.id = ${poolId}
        AND c.addr <> host(p.gateway)::inet
        AND NOT EXISTS (
          SELECT 1 FROM ip_addresses a
          WHERE a.address = c.addr
            AND (a.state = 'allocated' OR a.quarantine_until > ${now}))
      ORDER BY s.i
      LIMIT 1`.execute(db);
    const address = candidate.rows[0]?.address;
    if (!address) return null;
    const taken = await sql<{ address: string }>`
      INSERT INTO ip_addresses (address, pool_id, vps_id, state, allocated_at)
      VALUES (${address}::inet, ${poolId}, ${vpsId}, 'allocated', ${now})
      ON CONFLICT (address) DO UPDATE
        SET vps_id = EXCLUDED.vps_id, state = 'allocated', allocated_at = EXCLUDED.allocated_at,
            released_at = NULL, quarantine_until = NULL
        WHERE ip_addresses.state = 'quarantined' AND ip_addresses.quarantine_until <= ${now}
      RETURNING host(address) AS address`.execute(db);
    if (taken.rows[0]) return taken.rows[0].address;
  }
  throw new Error('address allocation kept colliding: too many concurrent allocations');
}

export async function addressOfVps(db: Db, vpsId: string): Promise<string | null> {
  const r = await db
    .selectFrom('ip_addresses')
    .select(sql<string>`host(address)`.as('address'))
    .where('vps_id', '=', vpsId)
    .where('state', '=', 'allocated')
    .executeTakeFirst();
  return r?.address ?? null;
}

/** The VPS's address goes into quarantine until `until` (R12.4). */
export async function releaseAddressOf(
  db: Db,
  vpsId: string,
  now: Date,
  until: Date,
): Promise<string | null> {
  const r = await db
    .updateTable('ip_addresses')
    .set({ state: 'quarantined', released_at: now, quarantine_until: until })
    .where('vps_id', '=', vpsId)
    .where('state', '=', 'allocated')
    .returning(sql<string>`host(address)`.as('address'))
    .executeTakeFirst();
  return r?.address ?? null;
}

/** When the VPS's last released address leaves quarantine (R12.4), or null. */
export async function quarantineEndOf(db: Db, vpsId: string): Promise<Date | null> {
  const q = await db
    .selectFrom('ip_addresses')
    .select('quarantine_until')
    .where('vps_id', '=', vpsId)
    .where('state', '=', 'quarantined')
    .orderBy('released_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return q?.quarantine_until ?? null;
}
