import type { Kysely } from 'kysely';

// Datacenters, IP pools, hosts, VPSs (issues 3 and 4).
export async function up(_db: Kysely<unknown>): Promise<void> {}
