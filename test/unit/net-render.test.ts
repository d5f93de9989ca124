// Golden tests of the nftables JSON and tc argv renderers (issue 4; R6.3, R3.11, R3.13, R5.1).
// Expected files: test/golden/nft/<name>.json, test/golden/tc/<name>.json. UPDATE_GOLDEN=1 rewrites
// them (review the diff before committing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  renderBaseBatch,
  renderVpsBatch,
  renderVpsRemoval,
  limitBurst,
} from '../../src/agent/net/nft-render.ts';
import {
  renderThrottleTc,
  renderUplinkTc,
  renderVpsTc,
  renderVpsTcRemoval,
  isRootHtbStep,
  burstBytes,
} from '../../src/agent/net/tc-render.ts';
import { tapName, vpsMac, parseVpsChain, parseVpsCounter } from '../../src/agent/net/names.ts';
import {
  DEFAULT_FILTERED_PORTS,
  DEFAULT_RATE_LIMITS,
  bandwidthFromTerms,
  validateVpsNetPolicy,
} from '../../src/domain/net-policy.ts';
import type { VpsNetPolicy } from '../../src/domain/net-policy.ts';
import { TERMS_2015_06_01 } from '../../src/domain/terms.ts';
import type { HostNetConfig } from '../../src/agent/net/types.ts';
import { DomainError } from '../../src/domain/errors.ts';

const update = process.env.UPDATE_GOLDEN === '1';
const goldenDir = path.join(import.meta.dirname, '..', 'golden');

function golden(kind: 'nft' | 'tc', name: string, actual: unknown): void {
  const file = path.join(goldenDir, kind, `${name}.json`);
  if (update || !existsSync(file)) {
    writeFileSync(file, JSON.stringify(actual, null, 2) + '\n');
    if (!update) assert.fail(`${file} was missing: written, review it and rerun`);
  }
  assert.deepEqual(actual, JSON.parse(readFileSync(file, 'utf8')));
}

const host: HostNetConfig = {
  table: 'infogere',
  bridge: 'igbr0',
  uplink: 'eth0',
  uplinkBitsPerSecond: 10_000_000_000,
  management: ['198.51.100.10', '198.51.100.64/26'],
};

const base: VpsNetPolicy = {
  vpsId: 'vps-1a2b',
  slot: 42,
  port: tapName('vps-1a2b'),
  mac: vpsMac('vps-1a2b'),
  ipv4: '203.0.113.10',
  bandwidth: bandwidthFromTerms(TERMS_2015_06_01),
  throttled: false,
  isolated: false,
  blocks: [],
  filteredPorts: DEFAULT_FILTERED_PORTS,
  limits: DEFAULT_RATE_LIMITS,
};

const restricted: VpsNetPolicy = {
  ...base,
  throttled: true,
  isolated: true,
  blocks: [
    { id: 'smtp-7', direction: 'out', protocol: 'tcp', port: 25, reason: 'R7 spam block' },
    { id: 'ddos-3', direction: 'in', protocol: 'udp', reason: 'R9 mitigation' },
    { id: 'icmp-1', direction: 'both', protocol: 'icmp' },
  ],
  limits: { udpPacketsPerSecond: 500, icmpPacketsPerSecond: 10 },
};

test('net names: tap ≤ 15 chars with the igt prefix, MAC locally administered unicast, both stable', () => {
  const t = tapName('vps-1a2b');
  assert.match(t, /^igt[0-9a-f]{12}$/);
  assert.equal(t, tapName('vps-1a2b'));
  assert.notEqual(t, tapName('vps-1a2c'));
  const m = vpsMac('vps-1a2b');
  assert.match(m, /^02(:[0-9a-f]{2}){5}$/);
  assert.equal(m, vpsMac('vps-1a2b'));
  assert.deepEqual(parseVpsChain('vps_vps-1a2b_out'), { vpsId: 'vps-1a2b', dir: 'out' });
  assert.deepEqual(parseVpsCounter('vps_a_b_spoof'), { vpsId: 'a_b', kind: 'spoof' });
  assert.equal(parseVpsChain('hook_forward'), null);
});

test('nft golden: base table, maps and dispatch chains', () => golden('nft', 'base', renderBaseBatch(host)));
test('nft golden: VPS with default filtered ports and limits (R6.3, R3.11)', () =>
  golden('nft', 'vps-default', renderVpsBatch(host, base)));
test('nft golden: VPS isolated, blocked, throttled (R5.1, R7, R9)', () =>
  golden('nft', 'vps-restricted', renderVpsBatch(host, restricted)));
test('nft golden: isolated without a management path drops all IPv4', () =>
  golden(
    'nft',
    'vps-isolated-no-management',
    renderVpsBatch({ ...host, management: [] }, { ...base, isolated: true, filteredPorts: [] }),
  ));
test('nft golden: VPS removal', () =>
  golden('nft', 'vps-removal', renderVpsRemoval(host, 'vps-1a2b', [base.port])));

test('nft render: one VPS batch touches only its own chains, counters and map elements', () => {
  const batch = renderVpsBatch(host, base);
  for (const cmd of batch.nftables) {
    const [verb, body] = Object.entries(cmd)[0]!;
    const [objKind, obj] = Object.entries(body as object)[0]!;
    if (objKind === 'table' || (objKind === 'map' && verb === 'add')) continue;
    const o = obj as { name?: string; chain?: string; elem?: [string, unknown][] };
    if (objKind === 'element') assert.equal(o.elem![0]![0], base.port);
    else assert.match(o.chain ?? o.name ?? '', /^vps_vps-1a2b_/);
  }
  assert.ok(
    batch.nftables.some((c) => 'flush' in c),
    'chains are flushed and refilled',
  );
});

test('nft render: rate limit burst and validation errors', () => {
  assert.equal(limitBurst(20_000), 2_000);
  assert.equal(limitBurst(10), 5);
  assert.throws(() => renderVpsBatch(host, { ...base, mac: '03:00:00:00:00:01' }), DomainError);
  assert.throws(() => renderVpsBatch(host, { ...base, ipv4: '203.0.113.300' }), DomainError);
  assert.throws(() => renderVpsBatch(host, { ...base, slot: 0 }), DomainError);
  assert.throws(
    () =>
      validateVpsNetPolicy({ ...base, blocks: [{ id: 'x', direction: 'in', protocol: 'icmp', port: 5 }] }),
    DomainError,
  );
  assert.throws(
    () =>
      validateVpsNetPolicy({
        ...base,
        blocks: [
          { id: 'x', direction: 'in', protocol: 'tcp' },
          { id: 'x', direction: 'out', protocol: 'tcp' },
        ],
      }),
    DomainError,
  );
  assert.throws(
    () =>
      validateVpsNetPolicy({
        ...base,
        filteredPorts: [{ direction: 'in', protocol: 'tcp', ports: [[10, 5]], reason: '' }],
      }),
    DomainError,
  );
});

test('tc golden: uplink HTB with the host class (R3.13)', () => golden('tc', 'uplink', renderUplinkTc(host)));
test('tc golden: VPS classes at the guaranteed rate (R3.13)', () =>
  golden('tc', 'vps', renderVpsTc(host, base)));
test('tc golden: throttle is a class change to the after-quota rate (R3.13)', () =>
  golden('tc', 'throttle', renderThrottleTc(host, restricted)));
test('tc golden: lift is a class change back', () => golden('tc', 'lift', renderThrottleTc(host, base)));
test('tc golden: VPS removal and a host without uplink', () =>
  golden('tc', 'removal-and-no-uplink', {
    removal: renderVpsTcRemoval(host, 42),
    noUplinkVps: renderVpsTc({ ...host, uplink: undefined, netns: 'ns1' }, base),
    noUplinkHost: renderUplinkTc({ ...host, uplink: undefined }),
  }));

test('tc render: rates come from the terms, throttle never deletes a qdisc', () => {
  const t = renderThrottleTc(host, restricted);
  assert.ok(t.every((a) => a[1] === 'class' && a[2] === 'change'));
  assert.ok(t.every((a) => a.includes(`${TERMS_2015_06_01.bandwidthAfterQuotaBitsPerSecond}bit`)));
  assert.ok(
    renderVpsTc(host, base).some((a) =>
      a.includes(`${TERMS_2015_06_01.guaranteedBandwidthBitsPerSecond}bit`),
    ),
  );
  assert.equal(isRootHtbStep(renderUplinkTc(host)[0]!), 'eth0');
  assert.equal(isRootHtbStep(renderUplinkTc(host)[1]!), null);
  assert.equal(burstBytes(1_000_000), 3028);
  assert.equal(burstBytes(100_000_000), 62_500);
});
