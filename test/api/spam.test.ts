// Anti-spam on the control plane (R7.2–R7.5) against a HostNetwork double whose port-25
// readings the test sets, with a moved clock: identification → owned port-25 block and the
// client's email with the statistics; the ladder (1 h, then 24 h); unblock too early, twice at
// once, on another client's VPS; the 3rd request to staff, refused with a reason; rules with
// an unknown signal; a connection burst identified by the flow signal alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOUR, MINUTE } from '../../src/domain/clock.ts';
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
let aliceAccount: string;
let place: { dcId: string; hostId: string };
let slot = 0;
let relogin: () => Promise<void>;

before(async () => {
  net = fakeNetwork();
  t = await testApp({}, { agents: fakeAgents({ network: net }) });
  const a = await makeStaff(t, 'admin');
  const sup = await makeStaff(t, 'support');
  const c1 = await makeClient(t);
  aliceAccount = c1.account.id;
  const c2 = await makeClient(t);
  relogin = async () => {
    admin = await login(t, a.email, { totpSecret: a.totpSecret });
    support = await login(t, sup.email, { totpSecret: sup.totpSecret });
    alice = await login(t, c1.email);
    bob = await login(t, c2.email);
  };
  await relogin();
  const { dc, host } = await hostFor(t, 'SPM1');
  place = { dcId: dc.id, hostId: host.id };
});
after(async () => t?.close());

const { get, post, put } = requests(() => t);

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

/** One sampling round where the analyzer scored `spam` of `messages` messages from the VPS. */
async function scored(vpsId: string, messages: number, spam: number) {
  net.smtp.content[vpsId] = {
    messages,
    recipients: messages,
    spam,
    scoreSum: spam * 1000 + (messages - spam) * 1,
    maxScore: spam ? 1000 : 1,
    encryptedSessions: 0,
  };
  return t.services.spam.sample();
}

const portBlocked = (vpsId: string) => {
  const last = net.applied.filter((p) => p.vpsId === vpsId).at(-1);
  return !!last?.blocks.some((b) => b.protocol === 'tcp' && b.port === 25 && b.direction === 'out');
};

const mailsOf = (template: string) =>
  t.database.db.selectFrom('mail_outbox').selectAll().where('template', '=', template).execute();

describe('anti-spam identification and blocks (R7.2, R7.4)', () => {
  it('R7.2: quiet mail identifies nothing; ten spam-scored messages in 10 min block port 25 and email the statistics', async () => {
    const v = await newVps();
    const r0 = await scored(v.id, 30, 0);
    assert.deepEqual(r0.identified, []);
    assert.equal(portBlocked(v.id), false);
    const r1 = await scored(v.id, 30, 30);
    assert.deepEqual(r1.identified, [v.id]);
    assert.ok(portBlocked(v.id), 'the host got a policy with outbound TCP 25 blocked');

    const status = (await get(`/v1/vps/${v.id}/spam`, alice)).json();
    assert.equal(status.port25, 'blocked');
    assert.equal(status.block.rung, 1);
    assert.equal(status.block.identification.ruleId, 'spam-scored');
    assert.equal(status.block.identification.stats.spamMessages10min, 30);
    assert.equal(status.block.identification.stats.messages10min, 60);
    assert.equal(Date.parse(status.block.minUntil) - t.clock.now().getTime(), HOUR);
    assert.deepEqual(status.ladder.durationsMs, [HOUR, 24 * HOUR, 168 * HOUR]);

    const mails = (await mailsOf('spam.blocked')).filter((m) => m.account_id === aliceAccount);
    assert.equal(mails.length, 1);
    assert.match(mails[0]!.body_text, /scored as spam|classés comme spam/);
    assert.match(mails[0]!.body_text, /: 30\n/);

    // Only its owner lifts the network rule: staff's generic lift is refused.
    const nb = (await get(`/v1/vps/${v.id}/network-blocks`, admin)).json();
    const rule = nb.find((b: { port: number | null }) => b.port === 25);
    assert.equal(rule.owner.type, 'spam_block');
    const lift = await post(`/v1/admin/vps/${v.id}/network-blocks/${rule.id}/lift`, admin);
    assert.equal(lift.statusCode, 409);
    assert.equal(lift.json().code, 'network_block.owned');

    // Still crossing while blocked: no second block is stacked.
    assert.deepEqual((await scored(v.id, 30, 30)).identified, []);
  });

  it('R7.3, R7.4, R7.5: block 1 and 2 lift on request after their durations, the 2nd longer; the 3rd goes to staff, who refuse with a reason', async () => {
    const v = await newVps();
    await scored(v.id, 20, 20);
    let status = (await get(`/v1/vps/${v.id}/spam`, alice)).json();
    const b1 = status.block;
    assert.equal(b1.rung, 1);

    // Too early: a clear error saying how long is left.
    t.clock.advance(29 * MINUTE);
    let r = await post(`/v1/vps/${v.id}/spam/blocks/${b1.id}/unblock`, alice, { confirmFixed: true });
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().code, 'spam.too_early');
    assert.match(r.json().message, /31 min/);
    // Without confirming the cause is fixed: refused.
    t.clock.advance(32 * MINUTE);
    await relogin(); // sessions idle out after 30 min
    r = await post(`/v1/vps/${v.id}/spam/blocks/${b1.id}/unblock`, alice, { confirmFixed: false });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'spam.confirm_fixed');
    // Another client's VPS: 404.
    r = await post(`/v1/vps/${v.id}/spam/blocks/${b1.id}/unblock`, bob, { confirmFixed: true });
    assert.equal(r.statusCode, 404);
    // Twice at once: one lifts, the other is told it is no longer blocked.
    const both = await Promise.all([
      post(`/v1/vps/${v.id}/spam/blocks/${b1.id}/unblock`, alice, { confirmFixed: true }),
      post(`/v1/vps/${v.id}/spam/blocks/${b1.id}/unblock`, alice, { confirmFixed: true }),
    ]);
    assert.deepEqual(both.map((x) => x.statusCode).sort(), [200, 409]);
    const won = both.find((x) => x.statusCode === 200)!.json();
    assert.equal(won.outcome, 'lifted');
    assert.equal(both.find((x) => x.statusCode === 409)!.json().code, 'spam.not_blocked');
    assert.equal(portBlocked(v.id), false, 'the host got the policy without the block');

    // The traffic that caused block 1 does not identify it again; new spam does: block 2, longer.
    assert.deepEqual((await t.services.spam.sample()).identified, []);
    t.clock.advance(MINUTE);
    await scored(v.id, 20, 20);
    status = (await get(`/v1/vps/${v.id}/spam`, alice)).json();
    const b2 = status.block;
    assert.equal(b2.rung, 2);
    const d1 = Date.parse(b1.minUntil) - Date.parse(b1.createdAt);
    const d2 = Date.parse(b2.minUntil) - Date.parse(b2.createdAt);
    assert.ok(d2 > d1, 'the 2nd block lasts longer (R7.4)');
    assert.equal(d2, 24 * HOUR);
    t.clock.advance(24 * HOUR);
    await relogin();
    r = await post(`/v1/vps/${v.id}/spam/blocks/${b2.id}/unblock`, alice, { confirmFixed: true });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().outcome, 'lifted');

    // Block 3: the request waits for staff, who refuse it with a reason (emailed).
    t.clock.advance(MINUTE);
    await scored(v.id, 20, 20);
    const b3 = (await get(`/v1/vps/${v.id}/spam`, alice)).json().block;
    assert.equal(b3.rung, 3);
    assert.equal(b3.staffDecides, true);
    t.clock.advance(7 * 24 * HOUR);
    await relogin();
    r = await post(`/v1/vps/${v.id}/spam/blocks/${b3.id}/unblock`, alice, { confirmFixed: true });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().outcome, 'to_staff');
    assert.equal(portBlocked(v.id), true, 'still blocked while staff decide');
    const queue = (await get('/v1/admin/spam/blocks?state=requested', support)).json();
    assert.ok(queue.items.some((b: { id: string }) => b.id === b3.id));
    r = await post(`/v1/vps/${v.id}/spam/blocks/${b3.id}/unblock`, alice, { confirmFixed: true });
    assert.equal(r.json().code, 'spam.unblock_pending');
    r = await post(`/v1/admin/spam/blocks/${b3.id}/decide`, support, { decision: 'refuse' });
    assert.equal(r.statusCode, 400, 'a refusal needs a reason');
    r = await post(`/v1/admin/spam/blocks/${b3.id}/decide`, support, {
      decision: 'refuse',
      reason: 'Third spam campaign this year; see your ticket.',
    });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().state, 'refused');
    r = await post(`/v1/vps/${v.id}/spam/blocks/${b3.id}/unblock`, alice, { confirmFixed: true });
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().code, 'spam.unblock_refused');
    const refusal = (await mailsOf('spam.unblock_refused')).filter((m) => m.account_id === aliceAccount);
    assert.equal(refusal.length, 1);
    assert.match(refusal[0]!.body_text, /Third spam campaign this year/);
    assert.equal(portBlocked(v.id), true);

    // The client's history lists the three blocks, newest first, with their statistics.
    const hist = (await get(`/v1/vps/${v.id}/spam/blocks`, alice)).json();
    assert.deepEqual(
      hist.items.map((b: { rung: number }) => b.rung),
      [3, 2, 1],
    );
    assert.equal((await get(`/v1/vps/${v.id}/spam/blocks`, bob)).statusCode, 404);
  });

  it('R7.1: a burst of new connections (STARTTLS, nothing scored) is identified by the flow signal alone', async () => {
    await relogin();
    const v = await newVps();
    net.smtp.flows[v.id] = { syn: '1000', destinations: 3 };
    assert.deepEqual((await t.services.spam.sample()).identified, []);
    t.clock.advance(30_000);
    net.smtp.flows[v.id] = { syn: '1100', destinations: 40 };
    assert.deepEqual((await t.services.spam.sample()).identified, []);
    t.clock.advance(30_000);
    net.smtp.flows[v.id] = { syn: '1400', destinations: 600 };
    net.smtp.content[v.id] = {
      messages: 0,
      recipients: 0,
      spam: 0,
      scoreSum: 0,
      maxScore: 0,
      encryptedSessions: 400,
    };
    assert.deepEqual((await t.services.spam.sample()).identified, [v.id]);
    const ids = (await get(`/v1/admin/spam/identifications?vpsId=${v.id}`, support)).json();
    assert.equal(ids.items.length, 1);
    assert.equal(ids.items[0].ruleId, 'connection-burst');
    assert.equal(ids.items[0].stats.smtpConnectionsPerMinute, 400);
    assert.equal(ids.items[0].stats.encryptedSessions10min, 400);
    assert.equal(ids.items[0].stats.messages10min, 0);
    delete net.smtp.flows[v.id];
  });

  it('rules: the defaults are listed; an unknown signal is a clear error; support may not change them', async () => {
    const rules = (await get('/v1/admin/spam/rules', support)).json();
    assert.ok(rules.length >= 3);
    let r = await put('/v1/admin/spam/rules', admin, {
      rules: [{ id: 'x', signal: 'bounces_per_hour', threshold: 3, reason: 'test' }],
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'spam.rule_signal');
    assert.match(r.json().message, /smtp_connections_per_minute/);
    r = await put('/v1/admin/spam/rules', support, { rules });
    assert.equal(r.statusCode, 403);
    r = await put('/v1/admin/spam/rules', admin, {
      rules: [...rules, { id: 'strict', signal: 'spam_messages_10min', threshold: 3, reason: 'stricter' }],
    });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().at(-1).id, 'strict');
    r = await put('/v1/admin/spam/rules', admin, { rules });
    assert.equal(r.statusCode, 200);
  });
});
