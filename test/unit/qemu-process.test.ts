// Which VM a QEMU command line belongs to (reattach and orphan scans rely on it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vmIdOfCmdline } from '../../src/agent/qemu/process.ts';

test('vmIdOfCmdline: our -name, with or without guest=, only for qemu-system', () => {
  assert.equal(
    vmIdOfCmdline(['qemu-system-x86_64', '-name', 'guest=infogere-vps-1,debug-threads=on']),
    'vps-1',
  );
  assert.equal(vmIdOfCmdline(['/usr/bin/qemu-system-x86_64', '-S', '-name', 'infogere-abc']), 'abc');
  assert.equal(vmIdOfCmdline(['qemu-system-x86_64', '-name', 'guest=other-vm']), null);
  assert.equal(vmIdOfCmdline(['qemu-system-x86_64']), null);
  assert.equal(vmIdOfCmdline(['bash', '-name', 'infogere-x']), null);
});
