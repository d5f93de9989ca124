// Clients with a running VPS (an IPv4 from a 198.51.100.0/24 pool) and its contract, written
// straight to the database, for the legal records tests (retention, log store, requisitions).
import { randomBytes } from 'node:crypto';
import { DAY } from '../../src/domain/clock.ts';
import { CURRENT_TERMS } from '../../src/domain/terms.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { makeClient, type TestApp } from './app.ts';

export interface LegalWorld {
  dcId: string;
  hostId: string;
  planId: string;
}

export async function legalWorld(
  t: TestApp,
  cidr = '198.51.100.0/24',
  gateway = '198.51.100.1',
): Promise<LegalWorld> {
  const code = randomBytes(2).toString('hex').toUpperCase();
  const dc = await t.services.infra.createDatacenter(
    { code: `L${code}`, name: 'Legal', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  const hostId = (
    await t.services.infra.registerHost(
      { name: `hv-${code.toLowerCase()}`, datacenterId: dc.id, cpuCores: 2, memoryMiB: 4096, diskGiB: 20 },
      SYSTEM_ACTOR,
    )
  ).id;
  await t.services.infra.createPool({ datacenterId: dc.id, cidr, gateway }, SYSTEM_ACTOR);
  const now = t.clock.now();
  const plan = await t.database.db
    .insertInto('plans')
    .values({
      code: `LG-${code}`,
      name: 'Small',
      vcpus: 1,
      memory_mib: 256,
      disk_gib: 1,
      monthly_price_cents: 500,
      vat_rate_bp: 2000,
      active: true,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { dcId: dc.id, hostId, planId: plan.id };
}

let n = 0;
/** A client account with its identity, one running VPS with an IPv4 and an active contract. */
export async function clientWithVps(t: TestApp, w: LegalWorld) {
  const db = t.database.db;
  const c = await makeClient(t);
  const accountId = c.account.id;
  const now = t.clock.now();
  await db
    .insertInto('client_identities')
    .values({
      account_id: accountId,
      last_name: 'Martin',
      first_name: 'Camille',
      organisation: null,
      address_line1: '1 rue de la Paix',
      address_line2: null,
      postal_code: '75002',
      city: 'Paris',
      country: 'FR',
      phone: '+33123456789',
      email: c.email,
      updated_at: now,
    })
    .execute();
  n++;
  const v = await db.transaction().execute((tx) =>
    t.services.infra.requestVps(tx, {
      accountId,
      datacenterId: w.dcId,
      hostname: `legal${n}`,
      vcpus: 1,
      memoryMiB: 256,
      diskGiB: 1,
      billingAnchor: now,
      clientUsername: 'camille',
    }),
  );
  const addr = await db.transaction().execute((tx) => t.services.infra.allocateAddress(tx, v));
  await db
    .updateTable('vps')
    .set({ state: 'running', host_id: w.hostId, net_slot: n, ipv4: `${addr.address}/${addr.prefixLength}` })
    .where('id', '=', v.id)
    .execute();
  const order = await db
    .insertInto('orders')
    .values({
      account_id: accountId,
      user_id: null,
      plan_id: w.planId,
      datacenter_id: w.dcId,
      kind: 'fixed',
      term_months: 1,
      hostname: `legal${n}`,
      client_username: 'camille',
      plan_code: 'S',
      plan_name: 'Small',
      vcpus: 1,
      memory_mib: 256,
      disk_gib: 1,
      monthly_price_cents: 500,
      vat_rate_bp: 2000,
      state: 'validated',
      state_changed_at: now,
      created_at: now,
      paid_at: now,
      validated_at: now,
      validated_by: null,
      cancelled_at: null,
      cancelled_by: null,
      cancel_reason: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const contract = await db
    .insertInto('contracts')
    .values({
      account_id: accountId,
      order_id: order.id,
      vps_id: v.id,
      plan_id: w.planId,
      datacenter_id: w.dcId,
      terms_version: CURRENT_TERMS.version,
      kind: 'fixed',
      term_months: 1,
      started_at: now,
      billing_anchor: now,
      renewal_anchor: null,
      periods: 0,
      expires_at: new Date(now.getTime() + 30 * DAY),
      renewal_stopped_at: null,
      monthly_price_cents: 500,
      vat_rate_bp: 2000,
      state: 'active',
      state_changed_at: now,
      ended_at: null,
      created_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { email: c.email, accountId, vpsId: v.id, contractId: contract.id, address: addr.address };
}

/** The contract ended now and its VPS destroyed (what the termination workflow's last step writes). */
export async function endContract(t: TestApp, c: { contractId: string; vpsId: string }) {
  const now = t.clock.now();
  await t.database.db
    .updateTable('contracts')
    .set({ state: 'terminated', state_changed_at: now, ended_at: now })
    .where('id', '=', c.contractId)
    .execute();
  await t.database.db
    .updateTable('vps')
    .set({ state: 'destroyed', state_changed_at: now })
    .where('id', '=', c.vpsId)
    .execute();
}
