// A network lab for the issue-4 tests: a "host" namespace with the bridge and the nft table,
// one namespace per VPS joined by a veth pair whose host end is the VPS's bridge port (standing
// in for its tap), and an "internet" namespace on the uplink veth. Addresses only from
// 203.0.113.0/24. Everything is deleted by cleanup() (namespaces take their links, bridge and
// nft tables with them; processes started here are killed by pid).
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { run } from '../../src/agent/exec/run.ts';
import type { RunOptions } from '../../src/agent/exec/run.ts';
import { attachPort, closeNftSession, setupHost } from '../../src/agent/net/host.ts';
import { vpsMac } from '../../src/agent/net/names.ts';
import type { HostNetConfig } from '../../src/agent/net/types.ts';
import {
  DEFAULT_FILTERED_PORTS,
  DEFAULT_RATE_LIMITS,
  bandwidthFromTerms,
} from '../../src/domain/net-policy.ts';
import type { VpsNetPolicy } from '../../src/domain/net-policy.ts';
import { TERMS_2015_06_01 } from '../../src/domain/terms.ts';

export const INET_IP = '203.0.113.1';
export const MGMT_IP = '203.0.113.2';

export interface VpsEnd {
  ns: string;
  policy: VpsNetPolicy;
}

export interface Lab {
  tag: string;
  hostNs: string;
  inetNs: string;
  host: HostNetConfig;
  vps: VpsEnd[];
  exec(ns: string, argv: string[], opts?: RunOptions): ReturnType<typeof run>;
  /** Starts a long-running program in a namespace; killed by cleanup. */
  spawnIn(ns: string, argv: string[]): ChildProcess;
  /** Runs a node script in a namespace; resolves with its stdout. */
  node(ns: string, code: string, args?: string[], timeoutMs?: number): Promise<string>;
  /** Re-creates one VPS's veth pair (a recreated tap: new ifindex, counters from 0). */
  recreatePort(i: number): Promise<void>;
  cleanup(): Promise<void>;
}

export const nsExec = (ns: string, argv: string[], opts?: RunOptions) =>
  run(['ip', 'netns', 'exec', ns, ...argv], opts);

export async function makeLab(opts: {
  vpsCount: number;
  uplinkBitsPerSecond?: number;
  management?: string[];
  policy?: Partial<VpsNetPolicy>;
}): Promise<Lab> {
  const tag = `ign${randomBytes(3).toString('hex')}`;
  const hostNs = `${tag}h`;
  const inetNs = `${tag}i`;
  const namespaces: string[] = [];
  const children: ChildProcess[] = [];
  const host: HostNetConfig = {
    netns: hostNs,
    table: 'infogere',
    bridge: 'igbr0',
    uplink: 'up0',
    uplinkBitsPerSecond: opts.uplinkBitsPerSecond ?? 1_000_000_000,
    management: opts.management ?? [MGMT_IP],
  };
  const vps: VpsEnd[] = [];
  const addNs = async (ns: string) => {
    await run(['ip', 'netns', 'add', ns]);
    namespaces.push(ns);
    await nsExec(ns, [
      'sysctl',
      '-q',
      '-w',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  };
  const cleanup = async () => {
    for (const c of children) {
      if (c.pid && c.exitCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    closeNftSession(host); // its nft process would keep the host namespace alive
    for (const ns of namespaces.reverse()) await run(['ip', 'netns', 'del', ns], { okCodes: [0, 1] });
  };
  const makePort = async (i: number, v: VpsEnd) => {
    const port = v.policy.port;
    await run([
      'ip',
      '-n',
      hostNs,
      'link',
      'add',
      port,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      v.ns,
    ]);
    await run(['ip', '-n', v.ns, 'link', 'set', 'dev', 'eth0', 'address', v.policy.mac, 'up']);
    await run(['ip', '-n', v.ns, 'addr', 'add', `${v.policy.ipv4}/24`, 'dev', 'eth0']);
    await attachPort(host, port);
    void i;
  };
  try {
    await addNs(hostNs);
    await addNs(inetNs);
    await run([
      'ip',
      '-n',
      hostNs,
      'link',
      'add',
      'up0',
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      inetNs,
    ]);
    await run(['ip', '-n', inetNs, 'link', 'set', 'dev', 'eth0', 'address', '02:00:00:00:00:01', 'up']);
    await run(['ip', '-n', inetNs, 'addr', 'add', `${INET_IP}/24`, 'dev', 'eth0']);
    await run(['ip', '-n', inetNs, 'addr', 'add', `${MGMT_IP}/24`, 'dev', 'eth0']);
    await setupHost(host);
    for (let i = 1; i <= opts.vpsCount; i++) {
      const ns = `${tag}v${i}`;
      await addNs(ns);
      const vpsId = `${tag}-vps${i}`;
      const policy: VpsNetPolicy = {
        vpsId,
        slot: i,
        port: `vp${i}`,
        mac: vpsMac(vpsId),
        ipv4: `203.0.113.${10 + i}`,
        bandwidth: bandwidthFromTerms(TERMS_2015_06_01),
        throttled: false,
        isolated: false,
        blocks: [],
        filteredPorts: DEFAULT_FILTERED_PORTS,
        limits: DEFAULT_RATE_LIMITS,
        ...opts.policy,
      };
      const v = { ns, policy };
      vps.push(v);
      await makePort(i, v);
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  const exec = (ns: string, argv: string[], o?: RunOptions) => nsExec(ns, argv, o);
  return {
    tag,
    hostNs,
    inetNs,
    host,
    vps,
    exec,
    spawnIn(ns, argv) {
      const c = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      return c;
    },
    async node(ns, code, args = [], timeoutMs = 60_000) {
      const r = await nsExec(ns, [process.execPath, '--input-type=module', '-e', code, '--', ...args], {
        timeoutMs,
      });
      return r.stdout;
    },
    async recreatePort(i) {
      const v = vps[i - 1]!;
      await run(['ip', '-n', hostNs, 'link', 'del', v.policy.port], { okCodes: [0, 1] });
      await makePort(i, v);
    },
    cleanup,
  };
}

/** A netdev ingress counter in a namespace (what arrives on its eth0), by nft match text. */
export async function addWatch(ns: string, rules: Record<string, string>): Promise<void> {
  const lines = Object.entries(rules).map(([name, m]) => `${m} counter name ${name}`);
  const counters = Object.keys(rules).map((n) => `counter ${n} {}`);
  const text = `table netdev igwatch {\n${counters.join('\n')}\nchain in { type filter hook ingress device eth0 priority 0; policy accept;\n${lines.join('\n')}\n}\n}\n`;
  const file = path.join(tmpdir(), `igwatch-${randomBytes(6).toString('hex')}.nft`);
  writeFileSync(file, text);
  try {
    await nsExec(ns, ['nft', '-f', file]);
  } finally {
    rmSync(file, { force: true });
  }
}

export async function readWatch(ns: string): Promise<Record<string, number>> {
  const r = await nsExec(ns, ['nft', '-j', 'list', 'counters', 'table', 'netdev', 'igwatch']);
  const out: Record<string, number> = {};
  for (const it of (JSON.parse(r.stdout) as { nftables: { counter?: { name: string; packets: number } }[] })
    .nftables) {
    if (it.counter) out[it.counter.name] = it.counter.packets;
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
