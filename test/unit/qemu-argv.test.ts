// Golden tests of the QEMU argv renderer: test/golden/qemu-argv/NAME.spec.json → NAME.argv.json.
// UPDATE_GOLDEN=1 rewrites the expected files (review the diff before committing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { renderQemuArgv, optValue } from '../../src/agent/qemu/argv.ts';
import type { LaunchSpec } from '../../src/agent/qemu/argv.ts';

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

test('qemu argv: netns prefixes ip netns exec', () => {
  const spec = JSON.parse(readFileSync(path.join(dir, 'kvm-netns.spec.json'), 'utf8')) as LaunchSpec;
  assert.deepEqual(renderQemuArgv(spec).slice(0, 5), [
    'ip',
    'netns',
    'exec',
    'igtest-ns1',
    'qemu-system-x86_64',
  ]);
});

test('qemu argv: bad values refused', () => {
  const spec = JSON.parse(readFileSync(path.join(dir, 'tcg-basic.spec.json'), 'utf8')) as LaunchSpec;
  assert.throws(() => renderQemuArgv({ ...spec, id: 'Bad Id' }));
  assert.throws(() => renderQemuArgv({ ...spec, vcpus: 0 }));
  assert.throws(() => renderQemuArgv({ ...spec, network: { tap: 'tap;rm -rf', mac: '52:54:00:00:00:01' } }));
  assert.throws(() => renderQemuArgv({ ...spec, network: { tap: 'igt1', mac: 'nope' } }));
  assert.throws(() => renderQemuArgv({ ...spec, disk: '/x\n,y' }));
  assert.equal(optValue('/a,b'), '/a,,b');
});
