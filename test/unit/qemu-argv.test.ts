// Golden tests of the QEMU argv renderer: test/golden/qemu-argv/<name>.spec.json → NAME.argv.json.
// UPDATE_GOLDEN=1 rewrites the expected files (review the diff before committing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { QEMU_FD, renderQemuArgv, optValue } from '../../src/agent/qemu/argv.ts';
import type { LaunchSpec } from '../../src/agent/qemu/argv.ts';
import { renderLaunchArgv } from '../../src/agent/qemu/confine.ts';

const dir = path.join(import.meta.dirname, '..', 'golden', 'qemu-argv');
const update = process.env.UPDATE_GOLDEN === '1';

for (const f of readdirSync(dir)
  .filter((n) => n.endsWith('.spec.json'))
  .sort()) {
  const name = f.slice(0, -'.spec.json'.length);
  test(`qemu argv golden: ${name}`, () => {
    const spec = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as LaunchSpec;
    const argv = renderQemuArgv(spec);
    const expectedFile = path.join(dir, `${name}.argv.json`);
    if (update || !existsSync(expectedFile)) {
      writeFileSync(expectedFile, JSON.stringify(argv, null, 2) + '\n');
      if (!update) assert.fail(`${expectedFile} was missing: written, review it and rerun`);
    }
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as string[];
    assert.deepEqual(argv, expected);
  });
}

test('qemu argv: pure (same spec, same argv) and never a shell string', () => {
  const spec = JSON.parse(readFileSync(path.join(dir, 'tcg-basic.spec.json'), 'utf8')) as LaunchSpec;
  const a = renderQemuArgv(spec);
  assert.deepEqual(renderQemuArgv(structuredClone(spec)), a);
  assert.ok(!a.includes('sh') && !a.includes('-c'));
  assert.ok(a.includes('-nodefaults') && a.includes('-no-user-config'));
  assert.equal(a[a.indexOf('-machine') + 1], 'q35,accel=tcg');
});

test('qemu argv: accel follows the capability', () => {
  const spec = JSON.parse(readFileSync(path.join(dir, 'tcg-basic.spec.json'), 'utf8')) as LaunchSpec;
  const k = renderQemuArgv({ ...spec, accel: 'kvm' });
  assert.equal(k[k.indexOf('-machine') + 1], 'q35,accel=kvm');
});

test('R3.3: qemu argv: seccomp sandbox, and everything of the platform passed as descriptors', () => {
  const spec = JSON.parse(readFileSync(path.join(dir, 'kvm-bios-net.spec.json'), 'utf8')) as LaunchSpec;
  const a = renderQemuArgv(spec);
  assert.equal(a[0], 'qemu-system-x86_64', 'QEMU itself, never a wrapper (ip netns exec) that needs root');
  assert.equal(
    a[a.indexOf('-sandbox') + 1],
    'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
  );
  assert.ok(a.includes(`tap,id=net0,fd=${QEMU_FD.tap}`), 'the tap comes open: no ifname, no CAP_NET_ADMIN');
  for (const [id, fd] of [
    ['qmp0', QEMU_FD.qmp],
    ['qga0', QEMU_FD.guestAgent],
    ['serial0', QEMU_FD.console],
  ] as const)
    assert.ok(a.includes(`socket,id=${id},fd=${fd},server=on,wait=off`), `${id} on a socket the agent made`);
  assert.ok(a.includes(`fd=${QEMU_FD.disk},set=1,opaque=${spec.disk}`));
  assert.ok(a.includes(`fd=${QEMU_FD.seed},set=2,opaque=${spec.seed}`));
  // No path QEMU would open itself but the image and firmware (world-readable by design).
  const opened = a.filter((x) => /(path|filename|ifname)=/.test(x));
  assert.deepEqual(
    opened.map((x) => /(?:path|filename|ifname)=([^,]*)/.exec(x)![1]),
    ['/dev/fdset/1', '/dev/fdset/2', '/dev/urandom'],
  );
  assert.ok(!a.includes('-pidfile'));
});

test('R3.3: launch argv: the tap launcher (in the namespace), then setpriv to the VM user, then QEMU; never root', () => {
  const qemu = ['qemu-system-x86_64', '-name', 'guest=infogere-x'];
  const withTap = renderLaunchArgv(
    { uid: 2_000_000_001, gid: 2_000_000_001, tap: 'igt1', netns: 'ns1' },
    qemu,
  );
  assert.deepEqual(withTap.slice(0, 5), ['ip', 'netns', 'exec', 'ns1', 'perl']);
  assert.equal(withTap[withTap.indexOf('-e') + 2], 'igt1');
  const drop = withTap.indexOf('setpriv');
  assert.deepEqual(withTap.slice(drop), [
    'setpriv',
    '--reuid=2000000001',
    '--regid=2000000001',
    '--clear-groups',
    '--inh-caps=-all',
    '--no-new-privs',
    '--',
    ...qemu,
  ]);
  const noTap = renderLaunchArgv({ uid: 2_000_000_002, gid: 2_000_000_002 }, qemu);
  assert.equal(noTap[0], 'setpriv');
  assert.deepEqual(noTap.slice(-3), qemu);
  assert.throws(() => renderLaunchArgv({ uid: 0, gid: 5 }, qemu), /never root/);
  assert.throws(() => renderLaunchArgv({ uid: 5, gid: 0 }, qemu), /never root/);
  assert.throws(() => renderLaunchArgv({ uid: 5, gid: 5, tap: 'tap;rm -rf' }, qemu));
});

test('qemu argv: bad values refused', () => {
  const spec = JSON.parse(readFileSync(path.join(dir, 'tcg-basic.spec.json'), 'utf8')) as LaunchSpec;
  assert.throws(() => renderQemuArgv({ ...spec, id: 'Bad Id' }));
  assert.throws(() => renderQemuArgv({ ...spec, vcpus: 0 }));
  assert.throws(() => renderQemuArgv({ ...spec, network: { mac: 'nope' } }));
  assert.throws(() => renderQemuArgv({ ...spec, network: { mac: '52:54:00:00:00:01,fd=0' } }));
  assert.throws(() => renderQemuArgv({ ...spec, disk: '/x\n,y' }));
  assert.equal(optValue('/a,b'), '/a,,b');
});

test('qemu argv: a full OS image boots its own disk (firmware + its bootloader), the small image its kernel', () => {
  const disk = JSON.parse(readFileSync(path.join(dir, 'disk-boot.spec.json'), 'utf8')) as LaunchSpec;
  const a = renderQemuArgv(disk);
  for (const o of ['-kernel', '-initrd', '-append', '-bios']) assert.ok(!a.includes(o), o);
  assert.ok(a.includes('virtio-blk-pci,id=vda-dev,drive=vda,bootindex=1'));
  const basic = JSON.parse(readFileSync(path.join(dir, 'tcg-basic.spec.json'), 'utf8')) as LaunchSpec;
  const k = renderQemuArgv(basic);
  assert.equal(k[k.indexOf('-kernel') + 1], basic.kernel);
  assert.ok(k.includes('virtio-blk-pci,id=vda-dev,drive=vda'));
  assert.throws(() => renderQemuArgv({ ...basic, initrd: undefined }), /needs initrd and cmdline/);
});
