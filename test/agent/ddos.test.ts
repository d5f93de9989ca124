// DDoS on real packets (R9.1, R9.5), in namespaces this test creates (net-helpers' lab: a host
// with the bridge, the "internet" namespace on the uplink, one VPS; 203.0.113.0/24 and
// 198.51.100.0/24 only): the per-address counters before any drop, the detector, and tier 1.
// A legitimate iperf3 at full speed triggers nothing; a UDP amplification flood and a SYN flood
// (hping3, from fixed documentation addresses) are detected and mitigated while an iperf3 TCP
// transfer and an SSH session (a real sshd in the VPS) keep working; the throughput kept and
// the time from the flood's start to the rule in force are printed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { run } from '../../src/agent/exec/run.ts';
import { applyVpsPolicy } from '../../src/agent/net/host.ts';
import { applyMitigations, readDdos, setupDdos } from '../../src/agent/net/ddos.ts';
import { DEFAULT_MITIGATION_LIMITS } from '../../src/agent/net/ddos-render.ts';
import { DdosDetector, type AttackSignature } from '../../src/domain/ddos.ts';
import { addWatch, makeLab, readWatch, sleep } from './net-helpers.ts';
import type { Lab } from './net-helpers.ts';

interface IperfResult {
  end: { sum_received: { bits_per_second: number } };
}

describe('DDoS tier 1 (namespaces, hping3, iperf3, sshd)', { concurrency: false }, () => {
  let lab: Lab;
  let dir: string;
  let vpsIp: string;
  let vpsId: string;
  let baselineMbps = 0;
  const sshOpts = () => [
    '-i',
    path.join(dir, 'client'),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'LogLevel=ERROR',
  ];

  before(async () => {
    lab = await makeLab({ vpsCount: 1, uplinkBitsPerSecond: 1_000_000_000 });
    const v = lab.vps[0]!;
    vpsIp = v.policy.ipv4;
    vpsId = v.policy.vpsId;
    await applyVpsPolicy(lab.host, v.policy);
    await setupDdos(lab.host);
    dir = await mkdtemp(path.join(tmpdir(), 'igddos-'));
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host')]);
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client')]);
    await run(['cp', path.join(dir, 'client.pub'), path.join(dir, 'authorized_keys')]);
    await run(['mkdir', '-p', '/run/sshd']);
    await writeFile(
      path.join(dir, 'sshd_config'),
      [
        `HostKey ${path.join(dir, 'host')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        `ListenAddress ${vpsIp}`,
        'PidFile none',
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        '',
      ].join('\n'),
    );
    lab.spawnIn(v.ns, ['/usr/sbin/sshd', '-D', '-e', '-f', path.join(dir, 'sshd_config')]);
    lab.spawnIn(v.ns, ['iperf3', '-s', '-p', '5201']);
    await addWatch(v.ns, {
      amp_in: 'udp sport 53',
      syn_in: 'ip saddr 198.51.100.66 tcp flags & (syn | ack) == syn',
    });
    await sleep(700);
  });
  after(async () => {
    await lab?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Samples every second until `stop`; mitigates on the first attack; what it saw. */
  function watch(opts: { mitigate: boolean }) {
    const detector = new DdosDetector();
    const seen: { at: number; attack: AttackSignature | null; bps: number }[] = [];
    let mitigatedAt: number | null = null;
    let stopped = false;
    const done = (async () => {
      while (!stopped) {
        const t = performance.now();
        const r = await readDdos(lab.host);
        const s = detector.feed(new Date(), r.addresses).get(vpsIp);
        if (s) seen.push({ at: t, attack: s.attack, bps: s.rates.bitsPerSecond });
        if (s?.attack && opts.mitigate && mitigatedAt === null) {
          await applyMitigations(lab.host, [{ vpsId, ipv4: vpsIp, ...DEFAULT_MITIGATION_LIMITS }]);
          mitigatedAt = performance.now();
        }
        await sleep(Math.max(0, 1000 - (performance.now() - t)));
      }
    })();
    return {
      seen,
      mitigatedAt: () => mitigatedAt,
      async stop() {
        stopped = true;
        await done;
      },
    };
  }

  const iperf = async (seconds: number): Promise<number> => {
    const r = await lab.exec(lab.inetNs, ['iperf3', '-c', vpsIp, '-p', '5201', '-t', String(seconds), '-J'], {
      timeoutMs: (seconds + 30) * 1000,
    });
    return (JSON.parse(r.stdout) as IperfResult).end.sum_received.bits_per_second / 1e6;
  };

  /** A long SSH session printing a heartbeat every 200 ms; the longest silence is measured. */
  function sshSession() {
    const c: ChildProcess = lab.spawnIn(lab.inetNs, [
      'ssh',
      ...sshOpts(),
      `root@${vpsIp}`,
      'while sleep 0.2; do echo beat; done',
    ]);
    let last = performance.now();
    let beats = 0;
    let maxGap = 0;
    c.stdout?.on('data', (d: Buffer) => {
      const now = performance.now();
      if (beats > 0) maxGap = Math.max(maxGap, now - last);
      beats += d.toString().split('beat').length - 1;
      last = now;
    });
    return {
      reset() {
        maxGap = 0;
        last = performance.now();
      },
      stats: () => ({
        beats,
        maxGapMs: Math.max(maxGap, performance.now() - last),
        alive: c.exitCode === null,
      }),
      stop: () => c.kill('SIGKILL'),
    };
  }

  test('R9.1: a legitimate iperf3 TCP transfer at full speed triggers nothing', async () => {
    const w = watch({ mitigate: true });
    baselineMbps = await iperf(5);
    await w.stop();
    console.log(`# baseline iperf3 (no attack): ${baselineMbps.toFixed(1)} Mbit/s`);
    assert.ok(baselineMbps > 50, `iperf3 got ${baselineMbps.toFixed(1)} Mbit/s`);
    assert.ok(w.seen.length >= 3, 'sampled every second');
    assert.ok(
      w.seen.some((s) => s.bps > 20e6),
      'the transfer was counted',
    );
    assert.deepEqual(
      w.seen.filter((s) => s.attack),
      [],
      'no attack flagged',
    );
    assert.equal(w.mitigatedAt(), null);
    assert.equal((await readDdos(lab.host)).mitigations.size, 0);
  });

  for (const kind of ['udp_amplification', 'syn_flood'] as const) {
    test(`R9.1, R9.5: a ${kind} is detected and mitigated; iperf3 and an SSH session keep working`, async () => {
      await applyMitigations(lab.host, [], [vpsId]);
      const ssh = sshSession();
      try {
        for (let i = 0; i < 150 && ssh.stats().beats === 0; i++) await sleep(100); // logged in, beating
        assert.ok(ssh.stats().beats > 0, 'the SSH session works before the flood');
        const before = await readWatch(lab.vps[0]!.ns);
        const w = watch({ mitigate: true });
        const transfer = iperf(10);
        await sleep(2_000);
        ssh.reset();
        const floodStart = performance.now();
        const flood =
          kind === 'udp_amplification'
            ? ['hping3', '--udp', '-s', '53', '-k', '-p', '9999', '-d', '200', '-a', '198.51.100.53']
            : ['hping3', '-S', '-p', '22', '-a', '198.51.100.66'];
        // ~10,000 packets/s for 5 s: five times the amplification threshold, three times the SYN one
        await lab.exec(lab.inetNs, [...flood, '-i', 'u100', '-c', '50000', '-q', vpsIp], {
          okCodes: [0, 1],
          timeoutMs: 60_000,
        });
        const floodEnd = performance.now();
        // a new SSH connection from a legitimate source during the mitigation
        const fresh = await lab.exec(lab.inetNs, ['ssh', ...sshOpts(), `root@${vpsIp}`, 'echo ok'], {
          timeoutMs: 30_000,
        });
        const mbps = await transfer;
        await sleep(4_000); // quiet seconds after the flood
        await w.stop();
        const sshStats = ssh.stats();
        const after = await readWatch(lab.vps[0]!.ns);
        const reading = await readDdos(lab.host);
        const mit = reading.mitigations.get(vpsId);
        const attacked = w.seen.filter((s) => s.attack);
        const mitigatedAt = w.mitigatedAt();
        console.log(
          `# ${kind}: detected as ${JSON.stringify(attacked[0]?.attack?.types)} at ${attacked[0]?.attack?.packetsPerSecond} pps; ` +
            `rule in force ${mitigatedAt === null ? '-' : ((mitigatedAt - floodStart) / 1000).toFixed(2)} s after the flood's first packet; ` +
            `iperf3 during the flood ${mbps.toFixed(1)} Mbit/s (${((mbps / baselineMbps) * 100).toFixed(0)} % of ${baselineMbps.toFixed(1)}); ` +
            `dropped ${mit?.dropped.packets} packets; SSH longest silence ${sshStats.maxGapMs.toFixed(0)} ms; ` +
            `top sources ${JSON.stringify(mit?.topSources.slice(0, 2))}`,
        );
        assert.ok(attacked.length > 0, 'the flood was detected');
        assert.ok(attacked[0]!.attack!.types.includes(kind), `types ${attacked[0]!.attack!.types.join(',')}`);
        assert.ok(mitigatedAt !== null && mitigatedAt < floodEnd, 'mitigated while the flood went on');
        assert.ok(mit && mit.dropped.packets > 10_000, `tier 1 dropped ${mit?.dropped.packets} packets`);
        const src = kind === 'udp_amplification' ? '198.51.100.53' : '198.51.100.66';
        assert.equal(mit.topSources[0]?.address, src, 'the flood’s source is the top source');
        // R9.1: counted before the drops, the attack stays visible while mitigated, and its end too
        const mitigatedSeconds = w.seen.filter((s) => s.at > mitigatedAt! + 1_000 && s.at < floodEnd);
        assert.ok(
          mitigatedSeconds.length > 0 && mitigatedSeconds.every((s) => s.attack),
          'visible while mitigated',
        );
        assert.equal(w.seen.at(-1)?.attack, null, 'its end is visible');
        // what reached the VPS
        const key = kind === 'udp_amplification' ? 'amp_in' : 'syn_in';
        const reached = after[key]! - before[key]!;
        assert.ok(reached < 25_000, `${reached} flood packets reached the VPS (of ~50,000)`);
        // legitimate traffic
        assert.ok(
          mbps >= baselineMbps * 0.5,
          `iperf3 kept ${mbps.toFixed(1)} of ${baselineMbps.toFixed(1)} Mbit/s`,
        );
        assert.ok(sshStats.alive, 'the SSH session is still open');
        assert.ok(sshStats.maxGapMs < 3_000, `SSH silent for ${sshStats.maxGapMs.toFixed(0)} ms at most`);
        assert.equal(fresh.stdout.trim(), 'ok', 'a new SSH connection from a legitimate source works');
      } finally {
        ssh.stop();
      }
    });
  }

  test('R9.1: the mitigation’s end removes its chain and counters (nothing stray)', async () => {
    await applyMitigations(lab.host, [], [vpsId]);
    const r = await readDdos(lab.host);
    assert.equal(r.mitigations.size, 0);
    const listing = await lab.exec(lab.hostNs, ['nft', 'list', 'table', 'bridge', 'infogere_ddos']);
    assert.ok(!listing.stdout.includes(`mit_${vpsId}`), listing.stdout);
    assert.ok(r.addresses.has(vpsIp), 'counting goes on');
  });
});
