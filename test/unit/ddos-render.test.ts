// Golden tests of the DDoS counting and tier-1 renderer (R9.1, R9.5): test/golden/nft/ddos-*.nft,
// one nft command per line. UPDATE_GOLDEN=1 rewrites them (review the diff before committing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_MITIGATION_LIMITS,
  parseMitChain,
  renderDdosBase,
  renderMitigations,
} from '../../src/agent/net/ddos-render.ts';
import { parseDdosTable } from '../../src/agent/net/ddos.ts';
import type { HostNetConfig } from '../../src/agent/net/types.ts';

const update = process.env.UPDATE_GOLDEN === '1';
function golden(name: string, lines: string[]): void {
  const file = path.join(import.meta.dirname, '..', 'golden', 'nft', `${name}.nft`);
  const text = lines.join('\n') + '\n';
  if (update || !existsSync(file)) writeFileSync(file, text);
  assert.equal(text, readFileSync(file, 'utf8'), `golden ${name}`);
}

const host: HostNetConfig = {
  table: 'infogere',
  bridge: 'br0',
  uplink: 'up0',
  uplinkBitsPerSecond: 1e9,
  management: [],
};
const spec = { vpsId: 'v-1', ipv4: '203.0.113.11', ...DEFAULT_MITIGATION_LIMITS };

test('R9.1: the counting table counts what comes from the uplink, per address, before any drop', () => {
  const lines = renderDdosBase(host);
  golden('ddos-base', lines);
  assert.ok(lines.every((l) => !l.includes('\n')));
  assert.ok(lines.filter((l) => l.startsWith('add rule')).every((l) => l.includes('iifname "up0"')));
  // without an uplink (one machine) every arriving packet is counted
  assert.ok(!renderDdosBase({ ...host, uplink: undefined }).some((l) => l.includes('iifname')));
});

test('R9.1, R9.5: a mitigated address jumps to its tier-1 chain; an ended one is removed', () => {
  golden('ddos-mitigations', renderMitigations(host, [spec], ['v-0']));
  const none = renderMitigations(host, [], []);
  assert.deepEqual(none, ['flush chain bridge infogere_ddos mitigate']);
  // an id that is both active and ended stays
  assert.ok(!renderMitigations(host, [spec], ['v-1']).some((l) => l.startsWith('delete')));
  assert.throws(() => renderMitigations(host, [{ ...spec, ipv4: '203.0.113.0/24' }], []), /not an IPv4/);
  assert.throws(() => renderMitigations(host, [{ ...spec, vpsId: 'a; flush ruleset' }], []), /not a VPS id/);
  assert.throws(() => renderMitigations(host, [{ ...spec, synPerSecond: 0 }], []), /positive rate/);
  assert.equal(parseMitChain('mit_v-1'), 'v-1');
  assert.equal(parseMitChain('mit_v-1_drop'), null);
});

test('R9.1: the table listing parses into per-address counters, drops and top sources', () => {
  const elem = (val: string, packets: number, bytes = packets * 60) => ({
    elem: { val, counter: { packets, bytes } },
  });
  const r = parseDdosTable([
    { set: { name: 'cnt_all', elem: [elem('203.0.113.11', 900), elem('203.0.113.99', 5)] } },
    { set: { name: 'cnt_udp', elem: [elem('203.0.113.11', 800)] } },
    { set: { name: 'cnt_amp', elem: [elem('203.0.113.11', 700)] } },
    { set: { name: 'amp_ports', elem: [53, 123] } },
    { chain: { name: 'mit_v-1' } },
    { chain: { name: 'count' } },
    { counter: { name: 'mit_v-1_drop', packets: 650, bytes: 39_000 } },
    { set: { name: 'mit_v-1_seen', elem: [elem('198.51.100.7', 10), elem('198.51.100.66', 690)] } },
  ]);
  assert.deepEqual(r.addresses.get('203.0.113.11'), {
    packets: { all: 900, tcp: 0, syn: 0, udp: 800, icmp: 0, frag: 0, amp: 700 },
    bytes: 54_000,
  });
  assert.equal(r.addresses.get('203.0.113.99')?.packets.all, 5, 'an address of no VPS is counted too');
  assert.deepEqual(r.mitigations.get('v-1'), {
    dropped: { packets: 650, bytes: 39_000 },
    topSources: [
      { address: '198.51.100.66', packets: 690 },
      { address: '198.51.100.7', packets: 10 },
    ],
  });
  assert.equal(r.mitigations.size, 1);
});
