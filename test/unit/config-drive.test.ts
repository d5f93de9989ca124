// Golden tests of the NoCloud config-drive renderers (issue 3 part 5; R3.4: no sudo, root's
// hash only through chpasswd). Expected files: test/golden/config-drive/<case>/{meta-data,
// user-data,network-config}. UPDATE_GOLDEN=1 rewrites them (review the diff before committing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  renderMetaData,
  renderNetworkConfig,
  renderUserData,
  specFromVmSeed,
  validateConfigDriveSpec,
} from '../../src/agent/image/config-drive.ts';
import type { ConfigDriveSpec } from '../../src/agent/image/config-drive.ts';
import { DomainError } from '../../src/domain/errors.ts';
import { run } from '../../src/agent/exec/run.ts';

const update = process.env.UPDATE_GOLDEN === '1';
const goldenDir = path.join(import.meta.dirname, '..', 'golden', 'config-drive');

function golden(name: string, file: string, actual: string): void {
  const f = path.join(goldenDir, name, file);
  if (update || !existsSync(f)) {
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, actual);
    if (!update) assert.fail(`${f} was missing: written, review it and rerun`);
  }
  assert.equal(actual, readFileSync(f, 'utf8'));
}

// Fixed, fake hashes (valid shape: $6$salt$86 chars).
const clientHash =
  '$6$abcdefgh$oGoxMtczJ0/xYkNKQnGuC3pOdNoGsZRZNs7n5JzX8KfMJWEmD2Bx4wBt/tMCPvjE87aPyrlQPEKxEcxV6d4J6.';
const rootHash = '$6$rounds=5000$saltsalt$' + 'A'.repeat(86);

const cases: Record<string, ConfigDriveSpec> = {
  full: {
    instanceId: 'vps-1a2b',
    hostname: 'web-1.example.test',
    user: {
      name: 'alice',
      passwordHash: clientHash,
      sshAuthorizedKeys: [
        'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0fake alice@laptop "quoted"',
        'ecdsa-sha2-nistp256 AAAAE2VjZHNh',
      ],
    },
    rootPasswordHash: rootHash,
    network: {
      mac: '52:54:00:AB:CD:EF',
      address: '203.0.113.10/24',
      gateway: '203.0.113.1',
      nameservers: ['192.0.2.53', '198.51.100.53'],
    },
  },
  'key-only': {
    instanceId: 'vps-2',
    hostname: 'db',
    user: { name: 'bob', sshAuthorizedKeys: ['ssh-rsa AAAAB3NzaC1yc2E='] },
    rootPasswordHash: rootHash,
    network: { mac: '52:54:00:00:00:02', address: '198.51.100.7/25' },
  },
  minimal: { instanceId: 'vps-3', hostname: 'min', user: { name: 'carol' } },
  // R3.1: the initial password must be changed at first login.
  'expire-password': {
    instanceId: 'vps-4',
    hostname: 'exp',
    user: { name: 'erin', passwordHash: clientHash, expirePassword: true },
    rootPasswordHash: rootHash,
  },
  // expirePassword without a password has nothing to expire: not rendered.
  'expire-key-only': {
    instanceId: 'vps-5',
    hostname: 'exp2',
    user: { name: 'frank', expirePassword: true, sshAuthorizedKeys: ['ssh-rsa AAAAB3NzaC1yc2E='] },
  },
};

for (const [name, spec] of Object.entries(cases)) {
  test(`config drive golden: ${name}`, () => {
    golden(name, 'meta-data', renderMetaData(spec));
    golden(name, 'user-data', renderUserData(spec));
    golden(name, 'network-config', renderNetworkConfig(spec));
  });
}

test('R3.4: user-data never grants sudo or groups, and root only gets a hash', () => {
  for (const spec of Object.values(cases)) {
    const ud = renderUserData(spec);
    assert.doesNotMatch(ud, /sudo|groups|NOPASSWD/);
    assert.match(ud, /^#cloud-config\n/);
  }
});

test('the driver seed shape maps onto the spec', () => {
  const spec = specFromVmSeed({
    instanceId: 'vps-9',
    hostname: 'h9',
    user: { name: 'dave', passwordHash: clientHash },
    rootPasswordHash: rootHash,
    ipv4: { address: '192.0.2.10/24', gateway: '192.0.2.1', dns: ['192.0.2.53'] },
    network: { tap: 'igt123', mac: '52:54:00:12:34:56' },
  });
  assert.deepEqual(spec, {
    instanceId: 'vps-9',
    hostname: 'h9',
    user: { name: 'dave', passwordHash: clientHash },
    rootPasswordHash: rootHash,
    network: {
      mac: '52:54:00:12:34:56',
      address: '192.0.2.10/24',
      gateway: '192.0.2.1',
      nameservers: ['192.0.2.53'],
    },
  });
});

test('bad input is invalid_data, never rendered', () => {
  const base = cases.full!;
  const bad: [string, ConfigDriveSpec][] = [
    ['root as client user', { ...base, user: { name: 'root' } }],
    ['user name with newline', { ...base, user: { name: 'a\nsudo: ALL' } }],
    ['clear-text password', { ...base, user: { name: 'alice', passwordHash: 'hunter2' } }],
    ['MD5 root hash', { ...base, rootPasswordHash: '$1$abc$def' }],
    [
      'key with newline',
      { ...base, user: { name: 'alice', sshAuthorizedKeys: ['ssh-ed25519 AAAA\nssh-rsa BBBB'] } },
    ],
    ['hostname with space', { ...base, hostname: 'a b' }],
    ['address without prefix', { ...base, network: { mac: '52:54:00:00:00:01', address: '203.0.113.10' } }],
    ['bad mac', { ...base, network: { mac: '52:54:00:00:00' } }],
    [
      'bad gateway',
      {
        ...base,
        network: { mac: '52:54:00:00:00:01', address: '203.0.113.10/24', gateway: '203.0.113.300' },
      },
    ],
  ];
  for (const [why, spec] of bad) {
    assert.throws(
      () => validateConfigDriveSpec(spec),
      (e: unknown) => e instanceof DomainError && e.kind === 'invalid_data',
      why,
    );
    assert.throws(() => renderUserData(spec), DomainError, why);
  }
});

test("the guest's parser (nocloud-yaml.awk) reads what the renderers write", async () => {
  const awk = path.join(import.meta.dirname, '..', '..', 'scripts', 'guest-image', 'nocloud-yaml.awk');
  const flat = async (text: string): Promise<Map<string, string>> => {
    const { stdout } = await run(['awk', '-f', awk], { input: text });
    return new Map(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)]),
    );
  };
  const spec = cases.full!;
  const ud = await flat(renderUserData(spec));
  assert.equal(ud.get('users.0.name'), 'alice');
  assert.equal(ud.get('users.0.passwd'), clientHash);
  assert.equal(ud.get('users.0.lock_passwd'), 'false');
  assert.equal(ud.get('users.0.ssh_authorized_keys.0'), spec.user.sshAuthorizedKeys![0]);
  assert.equal(ud.get('chpasswd.users.0.name'), 'root');
  assert.equal(ud.get('chpasswd.users.0.password'), rootHash);
  assert.equal(ud.get('users.0.expire'), undefined);
  // R3.1: the user's expire flag reaches the guest; root's chpasswd entry stays unexpired.
  const exp = await flat(renderUserData(cases['expire-password']!));
  assert.equal(exp.get('users.0.expire'), 'true');
  assert.equal(exp.get('chpasswd.expire'), 'false');
  assert.equal(exp.get('chpasswd.users.0.name'), 'root');
  const md = await flat(renderMetaData(spec));
  assert.equal(md.get('instance-id'), 'vps-1a2b');
  assert.equal(md.get('local-hostname'), 'web-1.example.test');
  const nc = await flat(renderNetworkConfig(spec));
  assert.equal(nc.get('ethernets.eth0.match.macaddress'), '52:54:00:ab:cd:ef');
  assert.equal(nc.get('ethernets.eth0.addresses.0'), '203.0.113.10/24');
  assert.equal(nc.get('ethernets.eth0.routes.0.via'), '203.0.113.1');
  assert.equal(nc.get('ethernets.eth0.nameservers.addresses.1'), '198.51.100.53');
});
