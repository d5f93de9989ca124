// The control plane's handle on its hosts' agents. A host row with agent 'local' is this
// machine: its agent (QEMU driver + network) is opened on first use, so a platform with no
// VPS never touches the host's network.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.ts';
import { notFound } from '../../domain/errors.ts';
import type { HostAgent } from '../../agent/host-agent.ts';
import type { VmEventListener } from '../../agent/driver.ts';
import { splitList, type Config } from '../config.ts';
import type { HostAgents } from '../services/context.ts';

export type { HostAgents };

export function localAgents(config: Config, clock: Clock, log: Logger): HostAgents {
  let local: Promise<HostAgent> | undefined;
  let localOpen: HostAgent | undefined;
  const listeners: VmEventListener[] = [];
  const open = async (hostNetns: string | null): Promise<HostAgent> => {
    // Imported on first use: the platform starts without QEMU or nft until a VPS needs them.
    const { openLocalAgent } = await import('../../agent/local-agent.ts');
    // A lab host (first-run setup) has its own namespace, made if missing; tests set agentNetns.
    const netns = hostNetns ?? config.agentNetns;
    const agent = await openLocalAgent({
      ...(hostNetns ? { ensureNetns: true } : {}),
      qemu: {
        dataDir: path.join(config.dataDir, 'agent'),
        imagesDir: config.imagesDir!,
        cpuRatio: config.cpuOvercommit,
        ramRatio: config.ramOvercommit,
        accel: config.agentAccel as 'auto' | 'kvm' | 'tcg',
        vmUidBase: config.agentVmUidBase,
        consoleLogMaxBytes: config.agentConsoleLogBytes,
        clock,
        listener: (e) => listeners.forEach((l) => l(e)),
        ...(netns ? { orphanNetns: [netns] } : {}),
      },
      net: {
        ...(netns ? { netns } : {}),
        bridge: config.agentBridge,
        ...(config.agentUplink ? { uplink: config.agentUplink } : {}),
        uplinkBitsPerSecond: config.agentUplinkMbps * 1_000_000,
        management: splitList(config.agentManagement),
      },
    });
    log.info({ accel: (await agent.driver.capabilities()).accel, netns }, 'local host agent open');
    localOpen = agent;
    return agent;
  };
  return {
    async forHost(host) {
      if (host.agent !== 'local') throw notFound('host.agent_unknown', `No agent of kind ${host.agent}`);
      local ??= open(host.netns).catch((e: unknown) => {
        local = undefined;
        throw e;
      });
      return local;
    },
    peek(host) {
      return host.agent === 'local' ? localOpen : undefined;
    },
    opened() {
      return [];
    },
    onVmEvent(listener) {
      listeners.push(listener);
    },
    async readSwitchPorts(target, ifIndexes) {
      // Imported on first use, like the agent: only a platform with switch mappings loads SNMP.
      const { readSwitchPorts } = await import('../../agent/local-agent.ts');
      return readSwitchPorts(target, ifIndexes);
    },
    async close() {
      if (local) await (await local).close().catch(() => {});
    },
  };
}
