// Port-25 flow statistics on real nftables (R7.1): the VPS's own chain counts new connections
// to port 25 and remembers their destinations in a timed set, without touching the traffic;
// an owned port-25 block (R7.2) then drops outbound TCP 25 only. Namespaces from net-helpers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyVpsPolicy } from '../../src/agent/net/host.ts';
import { readSmtpFlows } from '../../src/agent/net/nft-port25.ts';
import { reconcileNft } from '../../src/agent/net/reconcile.ts';
import { INET_IP, makeLab } from './net-helpers.ts';
import type { Lab } from './net-helpers.ts';

const DESTS = Array.from({ length: 12 }, (_, i) => `203.0.113.${100 + i}`);

// Connects to each host:port given, one after the other; prints how many connected and the failures.
const connectScript = `
import net from 'node:net';
let ok = 0;
const failed = [];
for (const t of process.argv.slice(1)) {
  const [host, port] = t.split(':');
  await new Promise((res) => {
    const s = net.connect({ host, port: Number(port), timeout: 1500 });
    s.on('connect', () => { ok++; s.destroy(); res(); });
    s.on('error', (e) => { failed.push(t + ' ' + e.code); res(); });
    s.on('timeout', () => { failed.push(t + ' timeout'); s.destroy(); res(); });
  });
}
console.log(JSON.stringify({ ok, failed }));
`;

describe('port-25 flow statistics (namespaces)', () => {
  let lab: Lab;
  before(async () => {
    lab = await makeLab({ vpsCount: 2 });
    for (const d of DESTS) await lab.exec(lab.inetNs, ['ip', 'addr', 'add', `${d}/24`, 'dev', 'eth0']);
    for (const v of lab.vps) await applyVpsPolicy(lab.host, v.policy);
    // An SMTP-port listener on every address of the "internet" (accepts and closes).
    lab.spawnIn(lab.inetNs, [
      process.execPath,
      '-e',
      "require('node:net').createServer((s) => s.end()).listen(25, '0.0.0.0')",
    ]);
    await new Promise((r) => setTimeout(r, 500));
  });
  after(async () => {
    await lab?.cleanup();
  });
  const connects = async (ns: string, targets: string[]) => {
    const r = JSON.parse(await lab.node(ns, connectScript, targets)) as { ok: number; failed: string[] };
    if (r.failed.length) console.log('# failed connections:', r.failed.join(', '));
    return r.ok;
  };

  test('R7.1: new port-25 connections and distinct destinations are counted per VPS; other ports and VPSs are not', async () => {
    const [v1, v2] = lab.vps;
    const before = (await readSmtpFlows(lab.host))[v1!.policy.vpsId]!;
    assert.equal(before.destinations, 0);
    const targets = [...DESTS.map((d) => `${d}:25`), `${DESTS[0]}:25`, `${DESTS[1]}:25`, `${INET_IP}:80`];
    const connected = await connects(v1!.ns, targets);
    assert.equal(connected, DESTS.length + 2, 'every port-25 connection went through (never inline)');
    const after1 = await readSmtpFlows(lab.host);
    const r1 = after1[v1!.policy.vpsId]!;
    assert.equal(BigInt(r1.syn) - BigInt(before.syn), BigInt(DESTS.length + 2), 'SYNs to port 25 only');
    assert.equal(r1.destinations, DESTS.length, 'distinct destinations');
    assert.deepEqual(after1[v2!.policy.vpsId], { syn: '0', destinations: 0 });
    assert.deepEqual(
      await reconcileNft(
        lab.host,
        lab.vps.map((v) => v.policy),
      ),
      [],
      'rendered = listed',
    );
  });

  test('R7.2: a port-25 block drops outbound TCP 25, and is lifted by re-applying the policy', async () => {
    const v1 = lab.vps[0]!;
    const blocked = {
      ...v1.policy,
      blocks: [{ id: 'spam-1', direction: 'out' as const, protocol: 'tcp' as const, port: 25 }],
    };
    await applyVpsPolicy(lab.host, blocked);
    const smtp = await connects(v1.ns, [`${DESTS[2]}:25`]);
    assert.equal(smtp, 0, 'port 25 blocked');
    await applyVpsPolicy(lab.host, v1.policy);
    assert.equal(await connects(v1.ns, [`${DESTS[2]}:25`]), 1, 'lifted');
  });
});
