// DDoS mitigations from the control plane (R9.1, R9.3, R9.4): the sampler against a HostNetwork
// double whose per-address counters the test moves, with a moved clock: an attack starts an
// automatic mitigation (stored end date, the host told), nobody ends it at 25 h (409 with the
// date), it survives a platform restart (re-applied with a reconcile), and ends after 26 h once
// the attack has stopped. Clients see their own VPS's mitigations only.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { after, before, describe, it } from 'node:test';
import { SecretBox } from '../../src/control/security/secretbox.ts';
import { createServices, type Services } from '../../src/control/services/index.ts';
import type { DdosAddressCounters } from '../../src/agent/host-agent.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { fakeAgents } from '../helpers/fake-driver.ts';
import { fakeNetwork, hostFor, placedVps, type FakeNetwork } from '../helpers/traffic.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let net: FakeNetwork;
let admin: Session;
let support: Session;
let alice: Session;
let bob: Session;
let vpsId: string;
let relogin: () => Promise<void>;
const ADDR = '203.0.113.11';
const { get, post } = requests(() => t);

before(async () => {
  net = fakeNetwork();
  t = await testApp({}, { agents: fakeAgents({ network: net }) });
  const a = await makeStaff(t, 'admin');
  const s = await makeStaff(t, 'support');
  const c1 = await makeClient(t);
  const c2 = await makeClient(t);
  relogin = async () => {
    admin = await login(t, a.email, { totpSecret: a.totpSecret });
    support = await login(t, s.email, { totpSecret: s.totpSecret });
    alice = await login(t, c1.email);
    bob = await login(t, c2.email);
  };
  await relogin();
  const { dc, host } = await hostFor(t, 'DDOS1');
  const v = await placedVps(t, {
    accountId: c1.account.id,
    datacenterId: dc.id,
    hostId: host.id,
    slot: 1,
    ipv4: ADDR,
  });
  vpsId = v.id;
});
after(async () => t?.close());

/** Cumulative counters per address, moved by `add` each simulated second. */
const counters = new Map<string, DdosAddressCounters>();
function add(addr: string, p: Partial<DdosAddressCounters['packets']>, bytesPerPacket = 100) {
  const c = counters.get(addr) ?? {
    packets: { all: 0, tcp: 0, syn: 0, udp: 0, icmp: 0, frag: 0, amp: 0 },
    bytes: 0,
  };
  for (const [k, n] of Object.entries(p)) c.packets[k as keyof typeof c.packets] += n;
  c.bytes += (p.all ?? 0) * bytesPerPacket;
  counters.set(addr, c);
  net.ddos = { addresses: Object.fromEntries(counters), mitigations: {} };
}
/** One second: the clock moves, the counters move, the sampler runs. */
async function second(s: Services, traffic: Partial<DdosAddressCounters['packets']>, addr = ADDR) {
  t.clock.advance(1000);
  add(addr, traffic);
  return s.ddos.sample();
}
const quiet = { all: 300, tcp: 300, syn: 2 };
const amp = { all: 10_300, tcp: 300, udp: 10_000, amp: 10_000 };
let startedAt: Date;

describe('DDoS mitigations (R9.1, R9.3, R9.4)', () => {
  it('R9.1: normal traffic starts nothing; an amplification flood starts an automatic mitigation on the host', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await second(t.services, quiet);
      assert.deepEqual(r.started, []);
      assert.deepEqual(r.errors, []);
    }
    // the first round of this process reconciles the host (removes any stray tier-1 rules)
    assert.deepEqual(
      net.mitigationCalls.map((c) => [c.active.length, c.reconcile]),
      [[0, true]],
    );
    const r = await second(t.services, amp);
    assert.equal(r.started.length, 1, JSON.stringify(r));
    startedAt = t.clock.now();
    const call = net.mitigationCalls.at(-1)!;
    assert.deepEqual(
      call.active.map((m) => [m.vpsId, m.ipv4]),
      [[vpsId, ADDR]],
    );
    // the flood goes on: no second mitigation, the last attack second moves forward
    await second(t.services, amp);
    assert.equal((await second(t.services, amp)).started.length, 0);
    const m = await t.services.ddos.get(r.started[0]!);
    assert.equal(m.last_attack_at.getTime(), t.clock.now().getTime());
    assert.equal(m.ends_at.getTime(), startedAt.getTime() + 26 * 3_600_000);
    assert.deepEqual((m.signature as { types: string[] }).types, ['udp_amplification']);
  });

  it('R9.1: an attacked address that belongs to no VPS is counted, nothing is mitigated', async () => {
    const calls = net.mitigationCalls.length;
    add('203.0.113.200', {});
    await t.services.ddos.sample();
    const r = await second(t.services, amp, '203.0.113.200');
    assert.equal(r.unassigned, 1);
    assert.deepEqual(r.started, []);
    assert.equal(net.mitigationCalls.length, calls);
    counters.delete('203.0.113.200');
  });

  it('R9.3: the owner sees the mitigation with its minimum end; another client gets 404', async () => {
    const r = await get(`/v1/vps/${vpsId}/ddos-mitigations`, alice);
    assert.equal(r.statusCode, 200, r.body);
    const [m] = r.json().items;
    assert.equal(m.endsAt, new Date(startedAt.getTime() + 26 * 3_600_000).toISOString());
    assert.equal(m.endedAt, null);
    assert.deepEqual(m.signature.types, ['udp_amplification']);
    assert.equal((await get(`/v1/vps/${vpsId}/ddos-mitigations`, bob)).statusCode, 404);
    const staff = await get('/v1/admin/ddos-mitigations?active=true', support);
    assert.equal(staff.statusCode, 200);
    assert.equal(staff.json().items[0].vpsId, vpsId);
    assert.equal(staff.json().items[0].hostname.length > 0, true);
  });

  it('R9.4: at 25 h nobody ends it (409 with the end date), a restart keeps it, after 26 h it ends once the attack stopped', async () => {
    const id = (await t.services.ddos.list({ active: true }, {})).items[0]!.id;
    const endsAt = new Date(startedAt.getTime() + 26 * 3_600_000).toISOString();
    for (const who of [admin, support]) {
      const r = await post(`/v1/admin/ddos-mitigations/${id}/end`, who);
      assert.equal(r.statusCode, 409, r.body);
      assert.equal(r.json().code, 'ddos.mitigation_minimum');
      assert.ok(r.json().message.includes(endsAt), r.json().message);
    }
    assert.equal((await post(`/v1/admin/ddos-mitigations/${id}/end`, alice)).statusCode, 403);
    // the attack stops; at 25 h the sampler does not end it either
    t.clock.set(new Date(startedAt.getTime() + 25 * 3_600_000));
    await second(t.services, quiet);
    await second(t.services, quiet);
    assert.equal((await t.services.ddos.get(id)).ended_at, null);
    await relogin(); // sessions expire when the clock moves a day
    assert.equal((await post(`/v1/admin/ddos-mitigations/${id}/end`, admin)).statusCode, 409);
    // "restart": services rebuilt from the database; the host gets the mitigation again, reconciled
    const again = createServices({
      ...t.services.ctx,
      secrets: new SecretBox(randomBytes(32)),
      log: pino({ level: 'silent' }),
    });
    const calls = net.mitigationCalls.length;
    await second(again, quiet);
    const call = net.mitigationCalls[calls]!;
    assert.deepEqual(
      call.active.map((m) => m.vpsId),
      [vpsId],
    );
    assert.equal(call.reconcile, true);
    // past 26 h, quiet: it ends, and the host removes its rules
    t.clock.set(new Date(startedAt.getTime() + 26 * 3_600_000));
    const r = await second(again, quiet);
    assert.deepEqual(r.ended, [id]);
    const last = net.mitigationCalls.at(-1)!;
    assert.deepEqual(last.active, []);
    assert.deepEqual(last.ended, [vpsId]);
    await relogin();
    const m = (await get(`/v1/vps/${vpsId}/ddos-mitigations`, alice)).json().items[0];
    assert.ok(m.endedAt);
    // ending an ended mitigation changes nothing
    const e = await post(`/v1/admin/ddos-mitigations/${id}/end`, admin);
    assert.equal(e.statusCode, 200);
    assert.equal(e.json().endedAt, m.endedAt);
  });

  it('R9.3: an attack still going on near 26 h keeps the mitigation 30 min after its last second', async () => {
    // a fresh detector window: quiet seconds, then a flood
    await second(t.services, quiet);
    const r = await second(t.services, amp);
    assert.equal(r.started.length, 1, JSON.stringify(r));
    const start = t.clock.now();
    // the sampler saw nothing for a while (a gap resets the window), then the flood, up to 26 h
    t.clock.set(new Date(start.getTime() + 26 * 3_600_000 - 5000));
    for (let i = 0; i < 5; i++) await second(t.services, amp); // 26 h reached while attacked
    const lastAttack = t.clock.now();
    const m = await t.services.ddos.get(r.started[0]!);
    assert.equal(m.ended_at, null);
    assert.equal(m.ends_at.getTime(), lastAttack.getTime() + 30 * 60_000);
    t.clock.set(new Date(lastAttack.getTime() + 29 * 60_000));
    await second(t.services, quiet);
    assert.equal((await t.services.ddos.get(m.id)).ended_at, null);
    t.clock.set(new Date(lastAttack.getTime() + 30 * 60_000));
    assert.deepEqual((await second(t.services, quiet)).ended, [m.id]);
  });
});
