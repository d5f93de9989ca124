// Datacenters and IPv4 pools (R3.2), geofeed (RFC 8805), hosts and placement (R2.1, R2.2),
// VPS records scoped to their account.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DAY } from '../../src/domain/clock.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let admin: Session;
before(async () => {
  t = await testApp();
  const a = await makeStaff(t, 'admin');
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
});
after(async () => t?.close());

const { get, post } = requests(() => t);

async function datacenter(code: string, city = 'Paris', country = 'FR', region = 'FR-IDF') {
  const r = await post('/v1/admin/datacenters', admin, { code, name: `DC ${code}`, city, country, region });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { id: string; code: string };
}

describe('datacenters and pools (R3.2)', () => {
  it('a datacenter has an ISO 3166-1 country and an ISO 3166-2 region; bad codes are 400 naming the field', async () => {
    const d = await datacenter('PAR1');
    assert.equal(d.code, 'PAR1');
    assert.equal(
      (
        await post('/v1/admin/datacenters', admin, {
          code: 'X1',
          name: 'x',
          city: 'x',
          country: 'QQ',
          region: 'QQ-1',
        })
      ).json().code,
      'validation.country',
    );
    assert.equal(
      (
        await post('/v1/admin/datacenters', admin, {
          code: 'X1',
          name: 'x',
          city: 'x',
          country: 'FR',
          region: 'DE-BY',
        })
      ).json().code,
      'validation.region',
    );
    assert.equal(
      (
        await post('/v1/admin/datacenters', admin, {
          code: 'PAR1',
          name: 'x',
          city: 'x',
          country: 'FR',
          region: 'FR-IDF',
        })
      ).json().code,
      'datacenter.code_taken',
    );
  });

  it('pools: overlapping prefixes and gateways outside the prefix are refused, nothing created', async () => {
    const d = await datacenter('PAR2');
    const ok = await post('/v1/admin/pools', admin, {
      datacenterId: d.id,
      cidr: '203.0.113.0/26',
      gateway: '203.0.113.1',
    });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(ok.json().size, 61); // 64 - network - broadcast - gateway
    const overlap = await post('/v1/admin/pools', admin, {
      datacenterId: d.id,
      cidr: '203.0.113.32/27',
      gateway: '203.0.113.33',
    });
    assert.equal(overlap.statusCode, 409);
    assert.equal(overlap.json().code, 'pool.overlaps');
    const outside = await post('/v1/admin/pools', admin, {
      datacenterId: d.id,
      cidr: '203.0.113.64/26',
      gateway: '198.51.100.1',
    });
    assert.equal(outside.statusCode, 400);
    assert.equal(outside.json().code, 'validation.gateway');
    const hostBits = await post('/v1/admin/pools', admin, {
      datacenterId: d.id,
      cidr: '203.0.113.65/26',
      gateway: '203.0.113.66',
    });
    assert.equal(hostBits.json().code, 'validation.cidr');
    const pools = (await get('/v1/admin/pools', admin)).json() as { cidr: string }[];
    assert.deepEqual(
      pools.map((p) => p.cidr),
      ['203.0.113.0/26'],
    );
  });

  it('the database itself refuses overlapping pools, even when the service check is bypassed', async () => {
    const d = (await t.services.infra.listDatacenters())[0]!;
    await assert.rejects(
      t.database.db
        .insertInto('ip_pools')
        .values({
          datacenter_id: d.id,
          cidr: '203.0.113.0/25',
          gateway: '203.0.113.100',
          created_at: new Date(),
        })
        .execute(),
      /ip_pools_no_overlap/,
    );
  });
});

describe('address allocation (R3.2, R12.4)', () => {
  let dcId: string;
  let accountId: string;
  async function newVps(name: string, dc = dcId) {
    return t.database.db.transaction().execute((tx) =>
      t.services.infra.requestVps(tx, {
        accountId,
        datacenterId: dc,
        hostname: name,
        vcpus: 1,
        memoryMiB: 256,
        diskGiB: 1,
        billingAnchor: t.clock.now(),
        clientUsername: 'client',
      }),
    );
  }
  before(async () => {
    const d = await datacenter('LYO1', 'Lyon', 'FR', 'FR-ARA');
    dcId = d.id;
    await t.services.infra.createPool(
      { datacenterId: dcId, cidr: '198.51.100.0/29', gateway: '198.51.100.1' },
      SYSTEM_ACTOR,
    );
    accountId = (await makeClient(t)).account.id;
  });

  it('each VPS gets one address from its datacenter, never twice at once, even under concurrent orders', async () => {
    const vpss = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => newVps(`vps-${n}`)));
    const got = await Promise.all(
      vpss.map((v) => t.database.db.transaction().execute((tx) => t.services.infra.allocateAddress(tx, v))),
    );
    const addrs = got.map((g) => g.address).sort();
    // A /29 has 6 host addresses, one is the gateway: 5 to give, all different.
    assert.deepEqual(addrs, ['198.51.100.2', '198.51.100.3', '198.51.100.4', '198.51.100.5', '198.51.100.6']);
    assert.equal(got[0]!.gateway, '198.51.100.1');
    assert.equal(got[0]!.prefixLength, 29);
    const full = await newVps('vps-f');
    await assert.rejects(
      t.database.db.transaction().execute((tx) => t.services.infra.allocateAddress(tx, full)),
      (e: unknown) => (e as { code?: string }).code === 'pool.exhausted',
    );
    // Nothing half-allocated for the refused one.
    const held = await t.database.db
      .selectFrom('ip_addresses')
      .select('address')
      .where('vps_id', '=', full.id)
      .execute();
    assert.equal(held.length, 0);
  });

  it('a released address waits its quarantine (30 days by default) before it is given again', async () => {
    const first = (
      await t.database.db
        .selectFrom('vps')
        .select(['id'])
        .where('hostname', '=', 'vps-a')
        .executeTakeFirstOrThrow()
    ).id;
    const released = await t.database.db
      .transaction()
      .execute((tx) => t.services.infra.releaseAddress(tx, first));
    assert.ok(released);
    const next = await newVps('vps-g');
    await assert.rejects(
      t.database.db.transaction().execute((tx) => t.services.infra.allocateAddress(tx, next)),
      /No free IPv4/,
    );
    t.clock.advance(30 * DAY + 1000);
    const again = await t.database.db
      .transaction()
      .execute((tx) => t.services.infra.allocateAddress(tx, next));
    assert.equal(again.address, released);
  });

  it('the geofeed lists every pool prefix with its datacenter’s location, and every allocation falls in one of them', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/geofeed.csv' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /text\/csv/);
    const rows = r.body
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(','));
    assert.deepEqual(rows, [
      ['198.51.100.0/29', 'FR', 'FR-ARA', 'Lyon', ''],
      ['203.0.113.0/26', 'FR', 'FR-IDF', 'Paris', ''],
    ]);
    const allocs = await t.database.db
      .selectFrom('ip_addresses as a')
      .innerJoin('vps as v', 'v.id', 'a.vps_id')
      .innerJoin('datacenters as d', 'd.id', 'v.datacenter_id')
      .select(['a.address', 'd.city', 'd.region'])
      .where('a.state', '=', 'allocated')
      .execute();
    assert.ok(allocs.length >= 5);
    const inPrefix = (addr: string, cidr: string) => {
      const [net, len] = cidr.split('/');
      const n = (s: string) => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
      const size = 2 ** (32 - Number(len));
      return n(addr) >= n(net!) && n(addr) < n(net!) + size;
    };
    for (const a of allocs) {
      const row = rows.find((r) => inPrefix(a.address.split('/')[0]!, r[0]!));
      assert.ok(row, `${a.address} is in no geofeed prefix`);
      assert.equal(row[3], a.city, `${a.address} is geolocated where its VPS is`);
      assert.equal(row[2], a.region);
    }
  });
});

describe('hosts and VPS records', () => {
  before(async () => {
    // The quarantine test moved the clock 30 days: the admin logs in again.
    const a = await makeStaff(t, 'admin');
    admin = await login(t, a.email, { totpSecret: a.totpSecret });
  });
  it('a host registers with the default overcommit ratios (R2.2) and shows what is placed on it', async () => {
    const d = (await t.services.infra.listDatacenters()).find((x) => x.code === 'LYO1')!;
    const r = await post('/v1/admin/hosts', admin, {
      name: 'hv1.lyo1',
      datacenterId: d.id,
      cpuCores: 8,
      memoryMiB: 32768,
      diskGiB: 500,
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().cpuOvercommit, t.services.ctx.config.cpuOvercommit);
    assert.equal(r.json().ramOvercommit, t.services.ctx.config.ramOvercommit);
    assert.equal(
      (
        await post('/v1/admin/hosts', admin, {
          name: 'hv1.lyo1',
          datacenterId: d.id,
          cpuCores: 8,
          memoryMiB: 32768,
          diskGiB: 500,
        })
      ).json().code,
      'host.name_taken',
    );
    const hosts = (await get('/v1/admin/hosts', admin)).json();
    assert.equal(hosts.length, 1);
  });

  it("clients see their own VPSs only; another account's VPS is 404", async () => {
    const a = await makeClient(t);
    const b = await makeClient(t);
    const dc = (await t.services.infra.listDatacenters())[0]!;
    const v = await t.database.db.transaction().execute((tx) =>
      t.services.infra.requestVps(tx, {
        accountId: a.account.id,
        datacenterId: dc.id,
        hostname: 'mine',
        vcpus: 1,
        memoryMiB: 256,
        diskGiB: 1,
        billingAnchor: t.clock.now(),
        clientUsername: 'alice',
      }),
    );
    assert.deepEqual(t.queue.sent.at(-1), { name: 'vps.provision', data: { vpsId: v.id } });
    const as = await login(t, a.email);
    const bs = await login(t, b.email);
    const mine = await get(`/v1/vps/${v.id}`, as);
    assert.equal(mine.statusCode, 200);
    assert.equal(mine.json().state, 'pending');
    assert.equal((await get(`/v1/vps/${v.id}`, bs)).statusCode, 404);
    assert.equal((await get(`/v1/vps/${v.id}/events`, bs)).statusCode, 404);
    assert.deepEqual((await get('/v1/vps', bs)).json(), { items: [], nextCursor: null });
    assert.equal((await get('/v1/vps', as)).json().items.length, 1);
  });

  it('a root or malformed client user name is refused (R3.4)', async () => {
    const a = await makeClient(t);
    const dc = (await t.services.infra.listDatacenters())[0]!;
    await assert.rejects(
      t.services.infra.requestVps(t.database.db, {
        accountId: a.account.id,
        datacenterId: dc.id,
        hostname: 'x',
        vcpus: 1,
        memoryMiB: 256,
        diskGiB: 1,
        billingAnchor: t.clock.now(),
        clientUsername: 'root',
      }),
      /never root/,
    );
  });
});
