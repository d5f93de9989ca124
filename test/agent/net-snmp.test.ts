// The SNMP counting source (R3.13) against a real snmpd (Debian) on 127.0.0.1 with a high port
// and a config file written here: counters read over IF-MIB match the kernel's for a veth the
// test creates in the root namespace (its peer lives in a namespace of the test, which sends
// traffic to it; addresses from 192.0.2.0/24 only, none in the root namespace).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { run } from '../../src/agent/exec/run.ts';
import { readLinkCounters } from '../../src/agent/net/counters.ts';
import { counter64, readSnmpMappings, readSnmpPorts } from '../../src/agent/net/snmp.ts';
import { sleep } from './net-helpers.ts';

const COMMUNITY = `ig${randomBytes(4).toString('hex')}`;

describe('net SNMP source (real snmpd)', { concurrency: false }, () => {
  const tag = `igs${randomBytes(3).toString('hex')}`;
  const ns = `${tag}n`;
  const ifname = `${tag}a`;
  const dir = mkdtempSync(path.join(tmpdir(), 'infogere-snmpd-'));
  let snmpd: ChildProcess | undefined;
  let port = 0;
  let ifIndex = 0;

  before(async () => {
    await run(['ip', 'netns', 'add', ns]);
    await run([
      'ip',
      'netns',
      'exec',
      ns,
      'sysctl',
      '-q',
      '-w',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    await run(['ip', 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await run(['sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
    await run(['ip', 'link', 'set', 'dev', ifname, 'up']);
    await run(['ip', '-n', ns, 'link', 'set', 'dev', 'eth0', 'up']);
    await run(['ip', '-n', ns, 'addr', 'add', '192.0.2.2/24', 'dev', 'eth0']);
    await run([
      'ip',
      '-n',
      ns,
      'neigh',
      'replace',
      '192.0.2.1',
      'lladdr',
      '02:00:00:00:00:09',
      'dev',
      'eth0',
      'nud',
      'permanent',
    ]);
    ifIndex = (await readLinkCounters({}, [ifname])).get(ifname)!.ifindex;
    port = 20_000 + Math.floor(Math.random() * 20_000);
    const conf = path.join(dir, 'snmpd.conf');
    writeFileSync(
      conf,
      [
        `agentAddress udp:127.0.0.1:${port}`,
        `view igview included .1.3.6.1.2.1.1`,
        `view igview included .1.3.6.1.2.1.2`,
        `view igview included .1.3.6.1.2.1.31`,
        `rocommunity ${COMMUNITY} 127.0.0.1 -V igview`,
        '',
      ].join('\n'),
    );
    snmpd = spawn('snmpd', ['-f', '-Lo', '-C', '-c', conf, '-p', path.join(dir, 'snmpd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' },
    });
    // wait until it answers
    for (let i = 0; i < 50; i++) {
      try {
        await readSnmpPorts({ host: '127.0.0.1', port, community: COMMUNITY, timeoutMs: 200, retries: 0 }, [
          ifIndex,
        ]);
        return;
      } catch {
        await sleep(200);
      }
    }
    throw new Error('snmpd did not answer');
  });
  after(async () => {
    if (snmpd?.pid && snmpd.exitCode === null) process.kill(snmpd.pid, 'SIGKILL');
    await run(['ip', 'link', 'del', ifname], { okCodes: [0, 1] });
    await run(['ip', 'netns', 'del', ns], { okCodes: [0, 1] });
    rmSync(dir, { recursive: true, force: true });
  });

  test('counter64 decodes big-endian buffers of any length', () => {
    assert.equal(counter64(Buffer.from([0x01, 0x00])), 256n);
    assert.equal(counter64(Buffer.from('ffffffffffffffff', 'hex')), 2n ** 64n - 1n);
    assert.equal(counter64(Buffer.alloc(0)), 0n);
  });

  test('R3.13: ifHCInOctets/ifHCOutOctets from snmpd match the kernel counters', async () => {
    // traffic towards the root-namespace end (its rx side)
    const code = `
      import dgram from 'node:dgram';
      const s = dgram.createSocket('udp4');
      const b = Buffer.alloc(700);
      for (let i = 0; i < 500; i++) await new Promise((r) => s.send(b, 9, '192.0.2.1', r));
      s.close();`;
    await run(['ip', 'netns', 'exec', ns, process.execPath, '--input-type=module', '-e', code]);
    const kernel = (await readLinkCounters({}, [ifname])).get(ifname)!;
    assert.ok(kernel.rxBytes >= 500n * 742n);
    // snmpd caches interface data for a few seconds: poll until it catches up
    let last = '';
    for (let i = 0; i < 40; i++) {
      const c = (await readSnmpPorts({ host: '127.0.0.1', port, community: COMMUNITY }, [ifIndex])).get(
        ifIndex,
      );
      assert.ok(c, 'snmpd knows the port');
      last = `in ${c.inOctets} out ${c.outOctets} vs kernel rx ${kernel.rxBytes} tx ${kernel.txBytes}`;
      if (c.inOctets === kernel.rxBytes && c.outOctets === kernel.txBytes) {
        const readings = await readSnmpMappings([
          { vpsId: 'vps-a', target: { host: '127.0.0.1', port, community: COMMUNITY }, ifIndex },
          {
            vpsId: 'vps-b',
            target: { host: '127.0.0.1', port, community: COMMUNITY },
            ifIndex,
            vpsOutbound: 'ifHCOutOctets',
          },
          { vpsId: 'vps-gone', target: { host: '127.0.0.1', port, community: COMMUNITY }, ifIndex: 999_999 },
        ]);
        assert.equal(readings.get('vps-a')!.bytes, kernel.rxBytes);
        assert.equal(readings.get('vps-b')!.bytes, kernel.txBytes);
        assert.equal(readings.has('vps-gone'), false);
        assert.match(readings.get('vps-a')!.epoch, new RegExp(`^${ifIndex}:`));
        return;
      }
      await sleep(500);
    }
    assert.fail(`snmpd never matched the kernel: ${last}`);
  });

  test('a wrong community times out with an SnmpError', async () => {
    await assert.rejects(
      readSnmpPorts({ host: '127.0.0.1', port, community: 'wrong', timeoutMs: 300, retries: 0 }, [ifIndex]),
      /SNMP 127\.0\.0\.1/,
    );
  });
});
