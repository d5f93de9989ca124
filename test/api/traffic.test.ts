// R3.13 (counting, storing, quota, both sides see the balance), R5.1/R6.4 (isolate, block,
// lift): the control plane against a HostNetwork double whose counters the test sets.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { after, before, describe, it } from 'node:test';
import { TERMS_2015_06_01 } from '../../src/domain/terms.ts';
import { cycleAt, type QuotaTerms } from '../../src/domain/quota.ts';
import { mailDate } from '../../src/control/mail/format.ts';
import { SecretBox } from '../../src/control/security/secretbox.ts';
import { createServices } from '../../src/control/services/index.ts';
import { TRAFFIC_CYCLE_END } from '../../src/control/services/traffic.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { fakeAgents } from '../helpers/fake-driver.ts';
import { fakeNetwork, hostFor, placedVps, type FakeNetwork } from '../helpers/traffic.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let net: FakeNetwork;
let admin: Session;
let alice: Session;
let bob: Session;
let aliceAccount: string;
let place: { dcId: string; hostId: string };
let slot = 0;

let relogin: () => Promise<void>;
before(async () => {
  net = fakeNetwork();
  t = await testApp({}, { agents: fakeAgents({ network: net }) });
  const a = await makeStaff(t, 'admin');
  const c1 = await makeClient(t);
  aliceAccount = c1.account.id;
  const c2 = await makeClient(t);
  // Sessions expire when a test moves the clock by a month.
  relogin = async () => {
    admin = await login(t, a.email, { totpSecret: a.totpSecret });
    alice = await login(t, c1.email);
    bob = await login(t, c2.email);
  };
  await relogin();
  const { dc, host } = await hostFor(t);
  place = { dcId: dc.id, hostId: host.id };
});
after(async () => t?.close());

const { get, post } = requests(() => t);

async function newVps() {
  slot++;
  return placedVps(t, {
    accountId: aliceAccount,
    datacenterId: place.dcId,
    hostId: place.hostId,
    slot,
    ipv4: `203.0.113.${10 + slot}`,
  });
}

const usage = async (vpsId: string) =>
  t.database.db
    .selectFrom('traffic_usage')
    .selectAll()
    .where('vps_id', '=', vpsId)
    .orderBy('cycle_start')
    .execute();
const step = (ms = 10_000) => t.clock.advance(ms);

describe('the traffic collector (R3.13)', () => {
  it('stores deltas: first reading counted, growth counted, a collection without change adds nothing', async () => {
    const v = await newVps();
    net.set(v.id, { ifindex: 7, rx: 1000n, tx: 500n });
    step();
    await t.services.traffic.collect();
    let u = await usage(v.id);
    assert.equal(u.length, 1);
    assert.equal(u[0]!.bytes_out, '1000');
    assert.equal(u[0]!.bytes_in, '500');
    assert.equal(u[0]!.source, 'tap');
    assert.equal(u[0]!.cycle_start.toISOString(), v.billing_anchor.toISOString());
    net.set(v.id, { rx: 3000n, tx: 800n });
    step();
    await t.services.traffic.collect();
    step();
    await t.services.traffic.collect();
    u = await usage(v.id);
    assert.equal(u[0]!.bytes_out, '3000');
    assert.equal(u[0]!.bytes_in, '800');
    const c = await t.database.db
      .selectFrom('traffic_counters')
      .selectAll()
      .where('vps_id', '=', v.id)
      .executeTakeFirstOrThrow();
    assert.equal(c.counter_id, '7');
    assert.equal(c.rx_bytes, '3000');
  });

  it('a restart (a new service container over the same database) loses nothing and counts nothing twice', async () => {
    const v = await newVps();
    net.set(v.id, { rx: 10_000n });
    step();
    await t.services.traffic.collect();
    net.set(v.id, { rx: 12_000n });
    // "Restart": everything rebuilt from the database; only the stored last reading carries over.
    const again = createServices({
      ...t.services.ctx,
      secrets: new SecretBox(randomBytes(32)),
      log: pino({ level: 'silent' }),
    });
    step();
    await again.traffic.collect();
    step();
    await again.traffic.collect();
    net.set(v.id, { rx: 12_500n });
    step();
    await t.services.traffic.collect();
    assert.equal((await usage(v.id))[0]!.bytes_out, '12500');
  });

  it('a recreated tap (new ifindex) or a counter going backwards counts from zero, never a negative or invented delta', async () => {
    const v = await newVps();
    net.set(v.id, { ifindex: 20, rx: 5000n });
    step();
    await t.services.traffic.collect();
    net.set(v.id, { ifindex: 21, rx: 300n });
    step();
    await t.services.traffic.collect();
    assert.equal((await usage(v.id))[0]!.bytes_out, '5300');
    net.set(v.id, { rx: 100n }); // same ifindex, backwards
    step();
    await t.services.traffic.collect();
    assert.equal((await usage(v.id))[0]!.bytes_out, '5400');
  });

  it('an impossible rate is flagged, not counted, and visible to staff only', async () => {
    const v = await newVps();
    net.set(v.id, { rx: 1000n });
    step();
    await t.services.traffic.collect();
    net.set(v.id, { rx: 1000n + 10n ** 12n }); // 1 TB in 10 s: 800 Gbit/s
    step();
    const r = await t.services.traffic.collect();
    assert.ok(r.flagged >= 1);
    const u = (await usage(v.id))[0]!;
    assert.equal(u.bytes_out, '1000');
    assert.equal(u.flagged, 1);
    const list = await get(`/v1/admin/traffic/flagged?vpsId=${v.id}`, admin);
    assert.equal(list.statusCode, 200, list.body);
    const rows = list.json().items as { flag: string; rawDelta: string; direction: string }[];
    assert.deepEqual(
      rows.map((x) => [x.flag, x.rawDelta, x.direction]),
      [['impossible_rate', (10n ** 12n).toString(), 'out']],
    );
    assert.equal((await get(`/v1/admin/traffic/flagged`, alice)).statusCode, 403);
    assert.equal((await get(`/v1/vps/${v.id}/traffic`, alice)).json().flaggedSamples, 1);
  });

  it('the tap’s last counters at removal are counted', async () => {
    const v = await newVps();
    net.set(v.id, { rx: 700n });
    step();
    await t.services.traffic.collect();
    net.set(v.id, { rx: 900n });
    step();
    await t.services.traffic.removeVpsNetwork(fakeAgents({ network: net }).agent, {
      id: v.id,
      net_slot: slot,
    });
    assert.equal((await usage(v.id))[0]!.bytes_out, '900');
    await t.database.db.updateTable('vps').set({ state: 'destroyed' }).where('id', '=', v.id).execute();
  });
});

describe('the quota (R3.13)', () => {
  const small: QuotaTerms = { ...TERMS_2015_06_01, outboundQuotaBytes: 1_000_000n };

  it('crossing the quota throttles once (network block, deadline, one email), the new cycle lifts it and restores the rate', async () => {
    const v = await newVps();
    net.throttles.length = 0;
    net.set(v.id, { rx: 900_000n });
    step();
    assert.deepEqual((await t.services.traffic.collect({ terms: small })).throttled, []);
    let view = (await get(`/v1/vps/${v.id}/traffic`, alice)).json();
    assert.equal(view.throttled, false);
    net.set(v.id, { rx: 1_200_000n });
    step();
    const r = await t.services.traffic.collect({ terms: small });
    assert.deepEqual(r.throttled, [v.id]);
    // Again: no second throttle, no second email.
    net.set(v.id, { rx: 1_300_000n });
    step();
    assert.deepEqual((await t.services.traffic.collect({ terms: small })).throttled, []);

    const blocks = await t.database.db
      .selectFrom('network_blocks')
      .selectAll()
      .where('vps_id', '=', v.id)
      .execute();
    assert.equal(blocks.length, 1);
    assert.equal(blocks[0]!.kind, 'throttle');
    assert.equal(blocks[0]!.created_by, 'system');
    assert.match(blocks[0]!.reason, /R3\.13/);
    const cycleEnd = cycleAt(v.billing_anchor, t.clock.now()).end;
    assert.equal(blocks[0]!.until?.toISOString(), cycleEnd.toISOString());
    assert.equal(net.throttles.length, 1);
    assert.equal(net.throttles[0]!.throttled, true);
    assert.equal(net.throttles[0]!.vpsId, v.id);
    const mails = await t.database.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('template', '=', 'traffic.throttled')
      .execute();
    assert.equal(mails.length, 1);
    assert.match(mails[0]!.body_text, /1\.20 MB/);
    // The cycle's end as every mail writes a date (mail/format.ts): Paris time, in French.
    assert.ok(mails[0]!.body_text.includes(mailDate(cycleEnd, 'fr')));
    assert.equal(mails[0]!.language, 'fr');
    const deadlines = await t.scheduler.pending('vps', v.id);
    assert.deepEqual(
      deadlines.map((d) => [d.kind, d.due_at.toISOString()]),
      [[TRAFFIC_CYCLE_END, cycleEnd.toISOString()]],
    );

    // Both sides see it: the client on its VPS, with the throttle's end; the block listed.
    view = (await get(`/v1/vps/${v.id}/traffic`, alice)).json();
    assert.equal(view.throttled, true);
    assert.equal(view.throttledUntil, cycleEnd.toISOString());
    assert.equal(view.bandwidthBitsPerSecond, 1_000_000);
    assert.equal(view.usedOutBytes, '1300000');
    const staffView = (await get(`/v1/vps/${v.id}/traffic`, admin)).json();
    assert.equal(staffView.usedOutBytes, '1300000');
    const m = (await get(`/v1/vps/${v.id}/network-blocks`, alice)).json() as {
      kind: string;
      until: string;
    }[];
    assert.deepEqual(
      m.map((x) => [x.kind, x.until]),
      [['throttle', cycleEnd.toISOString()]],
    );

    // The tick before the cycle's end does nothing; after it, the throttle is lifted by the system.
    t.clock.set(new Date(cycleEnd.getTime() - 1000));
    await t.scheduler.tick();
    assert.equal(net.throttles.length, 1);
    t.clock.set(new Date(cycleEnd.getTime() + 1000));
    await t.scheduler.tick();
    await relogin();
    const lifted = await t.database.db
      .selectFrom('network_blocks')
      .selectAll()
      .where('vps_id', '=', v.id)
      .executeTakeFirstOrThrow();
    assert.equal(lifted.lifted_by, 'system');
    assert.ok(lifted.lifted_at);
    assert.equal(net.throttles.length, 2);
    assert.equal(net.throttles[1]!.throttled, false);
    // New cycle: fresh balance, counted from the stored reading (nothing carried over).
    net.set(v.id, { rx: 1_400_000n });
    step();
    assert.deepEqual((await t.services.traffic.collect({ terms: small })).throttled, []);
    view = (await get(`/v1/vps/${v.id}/traffic`, alice)).json();
    assert.equal(view.cycleStart, cycleEnd.toISOString());
    assert.equal(view.usedOutBytes, '100000');
    assert.equal(view.throttled, false);
    assert.equal(view.bandwidthBitsPerSecond, 100_000_000);
    const rows = await usage(v.id);
    assert.deepEqual(
      rows.map((x) => x.bytes_out),
      ['1300000', '100000'],
    );
  });

  it('the view: quota from the contract’s terms, remaining, forecast and a zero-filled daily series', async () => {
    const v = await newVps();
    net.set(v.id, { rx: 2_000_000n, tx: 1000n });
    step();
    await t.services.traffic.collect();
    const view = (await get(`/v1/vps/${v.id}/traffic`, alice)).json();
    assert.equal(view.quotaBytes, (10n ** 13n).toString());
    assert.equal(view.remainingBytes, (10n ** 13n - 2_000_000n).toString());
    assert.ok(BigInt(view.forecastBytes) >= 2_000_000n);
    assert.equal(view.daily.at(-1).bytesOut, '2000000');
    assert.equal(view.daily[0].day, view.cycleStart.slice(0, 10));
    assert.ok(view.lastReadAt);
  });
});

describe('tenancy', () => {
  it('another account’s VPS traffic and network blocks are 404', async () => {
    const v = await newVps();
    assert.equal((await get(`/v1/vps/${v.id}/traffic`, bob)).statusCode, 404);
    assert.equal((await get(`/v1/vps/${v.id}/network-blocks`, bob)).statusCode, 404);
    assert.equal((await get(`/v1/vps/${v.id}/traffic`, alice)).statusCode, 200);
  });
});

describe('cut-off states (R5.1, R6.4)', () => {
  it('staff isolate a VPS: applied on the host at once, audited, shown to the client with its reason; lifting twice is 409', async () => {
    const v = await newVps();
    net.applied.length = 0;
    const r = await post(`/v1/admin/vps/${v.id}/network-blocks`, admin, {
      kind: 'isolate',
      reason: 'Compromised: outgoing scans seen',
      expectedUntil: '2026-12-01T00:00:00Z',
    });
    assert.equal(r.statusCode, 201, r.body);
    const m = r.json();
    assert.equal(m.applied, true);
    assert.equal(net.applied.at(-1)!.isolated, true);
    const seen = (await get(`/v1/vps/${v.id}/network-blocks`, alice)).json() as {
      kind: string;
      reason: string;
      until: string;
    }[];
    assert.deepEqual(
      seen.map((x) => [x.kind, x.reason]),
      [['isolate', 'Compromised: outgoing scans seen']],
    );
    assert.equal(
      (await get('/v1/admin/network-blocks', admin)).json().some((x: { id: string }) => x.id === m.id),
      true,
    );
    const lift = await post(`/v1/admin/vps/${v.id}/network-blocks/${m.id}/lift`, admin, {});
    assert.equal(lift.statusCode, 200, lift.body);
    assert.equal(net.applied.at(-1)!.isolated, false);
    const again = await post(`/v1/admin/vps/${v.id}/network-blocks/${m.id}/lift`, admin, {});
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'network_block.not_in_force');
    assert.deepEqual((await get(`/v1/vps/${v.id}/network-blocks`, alice)).json(), []);
    const audit = await t.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', v.id)
      .execute();
    assert.deepEqual(
      audit.map((a) => a.action).filter((a) => a.startsWith('vps.net_')),
      ['vps.net_isolate', 'vps.net_lift'],
    );
  });

  it('a block of one port and direction is in the policy; bad shapes are 400; clients cannot', async () => {
    const v = await newVps();
    const r = await post(`/v1/admin/vps/${v.id}/network-blocks`, admin, {
      kind: 'block',
      protocol: 'tcp',
      port: 25,
      direction: 'out',
      reason: 'R7.2 spam identified',
    });
    assert.equal(r.statusCode, 201, r.body);
    const p = net.applied.at(-1)!;
    assert.deepEqual(
      p.blocks.map((b) => [b.protocol, b.port, b.direction, b.id]),
      [['tcp', 25, 'out', r.json().id]],
    );
    assert.equal(
      (
        await post(`/v1/admin/vps/${v.id}/network-blocks`, admin, {
          kind: 'block',
          protocol: 'icmp',
          port: 25,
          direction: 'out',
          reason: 'xxx',
        })
      ).json().code,
      'validation.port',
    );
    assert.equal(
      (
        await post(`/v1/admin/vps/${v.id}/network-blocks`, admin, { kind: 'block', reason: 'no protocol' })
      ).json().code,
      'validation.protocol',
    );
    assert.equal(
      (
        await post(`/v1/admin/vps/${v.id}/network-blocks`, admin, {
          kind: 'isolate',
          reason: 'x',
          protocol: 'tcp',
        })
      ).statusCode,
      400,
    );
    assert.equal(
      (await post(`/v1/admin/vps/${v.id}/network-blocks`, alice, { kind: 'isolate', reason: 'mine' }))
        .statusCode,
      403,
    );
    assert.equal(
      (await post(`/v1/admin/vps/${v.id}/network-blocks/${r.json().id}/lift`, alice, {})).statusCode,
      403,
    );
  });

  it('an unreachable host: the block is recorded (applied: false) and the reconcile hands every policy to the host (R3.11)', async () => {
    const v = await newVps();
    net.down = true;
    const r = await post(`/v1/admin/vps/${v.id}/network-blocks`, admin, {
      kind: 'block',
      protocol: 'udp',
      direction: 'both',
      reason: 'DDoS source',
    });
    net.down = false;
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().applied, false);
    await t.services.networkBlocks.reconcile();
    const policies = net.reconciled.at(-1)!;
    const mine = policies.find((p) => p.vpsId === v.id)!;
    assert.deepEqual(
      mine.blocks.map((b) => [b.protocol, b.direction]),
      [['udp', 'both']],
    );
  });
});
