// KVM vs TCG by a real boot probe: /dev/kvm opening is not enough. The probe's positive path is
// shown with TCG (a guest that progresses to its panic), the host's decision is cached.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decideAccel, probeKvm } from '../../src/agent/qemu/probe.ts';
import { QemuDriver } from '../../src/agent/qemu/driver.ts';
import { imagesDir, removeDir, tempDataDir } from './qemu-support.ts';

const kernel = path.join(imagesDir, 'infogere-mini', 'vmlinuz');
const dataDir = await tempDataDir();
after(() => removeDir(dataDir));

// The driver probes as the VM range's base uid (R3.3: KVM must work for the VMs' users).
const runAs = { uid: 2_000_000_000, gid: 2_000_000_000 };

test('probe: a guest that progresses (TCG) is recognised, run unprivileged under seccomp like the VMs', async () => {
  const r = await probeKvm(kernel, { accel: 'tcg', timeoutMs: 120_000, runAs });
  assert.equal(r.ok, true, r.reason);
});

test('probe: the host decision is a real boot, cached in the data dir, used by the driver', async () => {
  const t0 = Date.now();
  const d = await decideAccel({ dataDir, kernel, now: () => new Date(), timeoutMs: 30_000, runAs });
  assert.equal(d.uid, runAs.uid, 'the cache says as whom it probed');
  console.log(`# host accel: ${d.accel} (${d.reason}) in ${Date.now() - t0} ms`);
  if (!existsSync('/dev/kvm')) assert.equal(d.accel, 'tcg');
  const cached = JSON.parse(readFileSync(path.join(dataDir, 'accel-probe.json'), 'utf8')) as {
    accel: string;
  };
  assert.equal(cached.accel, d.accel);
  const t1 = Date.now();
  const again = await decideAccel({ dataDir, kernel, now: () => new Date(), runAs });
  assert.deepEqual(again, d);
  assert.ok(Date.now() - t1 < 2_000, 'cached: no second probe');
  const driver = await QemuDriver.open({ dataDir, imagesDir, cpuRatio: 1, ramRatio: 1 });
  try {
    const caps = await driver.capabilities();
    assert.equal(caps.accel, d.accel);
    assert.equal(caps.accelReason, d.reason);
  } finally {
    await driver.close();
  }
});
