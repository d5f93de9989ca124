// The host agent running inside the control-plane process (the one-machine default): the QEMU
// driver and the network of this machine.
import { run } from './exec/run.ts';
import { tapName, vpsMac } from './net/names.ts';
import {
  applyThrottle,
  applyVpsPolicy,
  deleteTap,
  ensureTap,
  readDropCounters,
  removeVps,
  setupHost,
} from './net/host.ts';
import { readLinkCounters, type LinkCounters } from './net/counters.ts';
import { reconcileHost } from './net/reconcile.ts';
import { readSmtpFlows } from './net/nft-port25.ts';
import { applyMitigations, readDdos, reconcileMitigations, setupDdos } from './net/ddos.ts';
import { readSnmpPorts } from './net/snmp.ts';
import { DEFAULT_TABLE, type HostNetConfig } from './net/types.ts';
import { QemuDriver, type QemuHostConfig } from './qemu/driver.ts';
import type { HostAgent, HostNetwork, PortCounters, SwitchPortCounters, SwitchTarget } from './host-agent.ts';
// R3.6, R12.4: the backup repositories' maintenance runs on this machine (the control plane's).
export { resticRepos } from './backup/restic.ts';

const portCounters = (c: LinkCounters): PortCounters => ({
  port: c.name,
  ifindex: c.ifindex,
  rxBytes: c.rxBytes.toString(),
  txBytes: c.txBytes.toString(),
});

export function localNetwork(host: HostNetConfig): HostNetwork {
  let ready: Promise<void> | undefined;
  const setup = () =>
    (ready ??= setupHost(host)
      .then(() => setupDdos(host))
      .catch((e: unknown) => {
        ready = undefined;
        throw e;
      }));
  return {
    setup,
    portName: tapName,
    async ensurePort(vpsId) {
      await setup();
      const port = tapName(vpsId);
      await ensureTap(host, port);
      return { port, mac: vpsMac(vpsId) };
    },
    async applyPolicy(p) {
      await setup();
      await applyVpsPolicy(host, p);
    },
    setThrottle: (p) => applyThrottle(host, p),
    async removeVps(v) {
      await removeVps(host, v);
      const last = await deleteTap(host, v.port);
      return { last: last ? portCounters(last) : null };
    },
    async readPortCounters(ports) {
      return [...(await readLinkCounters(host, ports)).values()].map(portCounters);
    },
    async readSmtpStats() {
      return { flows: await readSmtpFlows(host), content: {} };
    },
    async readDrops() {
      const out: Record<string, Record<string, { packets: string; bytes: string }>> = {};
      for (const [vpsId, kinds] of await readDropCounters(host))
        out[vpsId] = Object.fromEntries(
          Object.entries(kinds).map(([k, v]) => [
            k,
            { packets: v.packets.toString(), bytes: v.bytes.toString() },
          ]),
        );
      return out;
    },
    async reconcile(policies) {
      await setup();
      return (await reconcileHost(host, policies)).map((f) => ({ kind: f.kind, detail: JSON.stringify(f) }));
    },
    async readDdos() {
      const r = await readDdos(host);
      return {
        addresses: Object.fromEntries(
          [...r.addresses].map(([a, c]) => [a, { packets: { ...c.packets }, bytes: c.bytes }]),
        ),
        mitigations: Object.fromEntries(r.mitigations),
      };
    },
    async applyMitigations(active, ended, opts = {}) {
      await setup();
      if (opts.reconcile) await reconcileMitigations(host, active);
      else await applyMitigations(host, active, ended);
    },
  };
}

/** Switch ports' counters over SNMP (R3.13's second source), read from this machine. */
export async function readSwitchPorts(
  target: SwitchTarget,
  ifIndexes: readonly number[],
): Promise<SwitchPortCounters[]> {
  return [...(await readSnmpPorts(target, ifIndexes)).values()].map((c) => ({
    ifIndex: c.ifIndex,
    inOctets: c.inOctets.toString(),
    outOctets: c.outOctets.toString(),
    discontinuity: c.discontinuity,
  }));
}

/** A network namespace with only its loopback up, made when missing (a lab host: no route out). */
export async function ensureNetns(name: string): Promise<void> {
  const list = await run(['ip', 'netns', 'list']);
  if (list.stdout.split('\n').some((l) => l.split(' ')[0] === name)) return;
  await run(['ip', 'netns', 'add', name]);
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

/**
 * This machine's agent. The network's nft table defaults to `DEFAULT_TABLE` (the control plane
 * names none: it knows the agent only through the HostAgent interface).
 */
export async function openLocalAgent(opts: {
  qemu: QemuHostConfig;
  net: Omit<HostNetConfig, 'table'> & { table?: string };
  /** Make `net.netns` when it does not exist (a lab host enrolled by the first-run setup). */
  ensureNetns?: boolean;
}): Promise<HostAgent> {
  if (opts.ensureNetns && opts.net.netns) await ensureNetns(opts.net.netns);
  const net: HostNetConfig = { ...opts.net, table: opts.net.table ?? DEFAULT_TABLE };
  const network = localNetwork(net);
  const driver = await QemuDriver.open({
    ...opts.qemu,
    // R12.4: destroying a VM also removes its tap (after a last counter read by removeVps).
    releaseTap: async (n) => {
      await deleteTap({ ...net, ...(n.netns ? { netns: n.netns } : {}) }, n.tap);
    },
  });
  return {
    driver,
    network,
    ...(net.netns ? { netns: net.netns } : {}),
    close: () => driver.close(),
  };
}
