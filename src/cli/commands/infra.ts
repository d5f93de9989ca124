// `infogere hosts …` and `infogere vps …`: hosts and their load, VPSs, power actions (queued for
// the running platform's `vps.power` job), orphans of this machine's host agent.
import { parseArgs } from 'node:util';
import { isPowerAction } from '../../domain/vps-power.ts';
import type { Config } from '../../control/config.ts';
import { SYSTEM_SCOPE } from '../../control/repositories/scope.ts';
import { listVpsForStaff } from '../../control/repositories/vps-actions.ts';
import { MAX_PAGE_SIZE } from '../../domain/pagination.ts';
import type { Services } from '../../control/services/index.ts';
import { SYSTEM_ACTOR } from '../../control/services/context.ts';

export type WithServices = <T>(fn: (s: Services) => Promise<T>) => Promise<T>;

export const infraUsage = `  infogere hosts list               hosts with vCPU/RAM/disk placed vs capacity (R2.1, R2.2)
  infogere hosts orphans [--host H] [--clean]
                                    what this machine's agent holds that no VPS owns (--clean removes it;
                                    only while the platform is stopped: with it running, use the console)
  infogere vps list [--host H] [--state S]
  infogere vps start|stop|reboot|poweroff ID
                                    queue a power action (the running platform carries it out)
`;

/** Wrong input: the message is printed and the command exits 2. */
export class UsageError extends Error {}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Rows as an aligned table with a header line. */
export function table(headers: string[], rows: (string | number | null)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null ? '—' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

const gib = (mib: number) => `${(mib / 1024).toFixed(1)}`;

async function resolveHost(s: Services, nameOrId: string | undefined) {
  const hosts = await s.infra.hostLoads();
  if (nameOrId === undefined) {
    if (hosts.length === 1) return hosts[0]!;
    throw new UsageError(
      hosts.length
        ? `several hosts: say which with --host (${hosts.map((h) => h.name).join(', ')})`
        : 'no host is registered',
    );
  }
  const h = hosts.find((x) => x.name === nameOrId || x.id === nameOrId);
  if (!h)
    throw new UsageError(
      `no host named ${nameOrId} (hosts: ${hosts.map((x) => x.name).join(', ') || 'none'})`,
    );
  return h;
}

async function platformIsUp(config: Config): Promise<boolean> {
  const host = config.httpHost === '0.0.0.0' ? '127.0.0.1' : config.httpHost;
  try {
    const r = await fetch(`http://${host}:${config.httpPort}/healthz`, { signal: AbortSignal.timeout(1500) });
    return r.status < 500;
  } catch {
    return false;
  }
}

export async function infraCommand(
  cmd: 'hosts' | 'vps',
  sub: string | undefined,
  rest: string[],
  withServices: WithServices,
  config: () => Config,
): Promise<number> {
  if (cmd === 'hosts' && sub === 'list') {
    parseArgs({ args: rest, options: {} });
    const hosts = await withServices((s) => s.infra.hostLoads());
    if (!hosts.length) {
      console.log('no host registered (POST /v1/admin/hosts)');
      return 0;
    }
    console.log(
      table(
        ['NAME', 'STATE', 'VPS', 'VCPU placed/cap', 'RAM GiB placed/cap', 'DISK GiB placed/total', 'ID'],
        hosts.map((h) => [
          h.name,
          h.state,
          h.vpsCount,
          `${h.vcpusPlaced}/${h.cpuCores * h.cpuOvercommit} (${h.cpuCores}×${h.cpuOvercommit})`,
          `${gib(h.memoryMiBPlaced)}/${gib(h.memoryMiB * h.ramOvercommit)} (×${h.ramOvercommit})`,
          `${h.diskGiBPlaced}/${h.diskGiB}`,
          h.id,
        ]),
      ),
    );
    return 0;
  }
  if (cmd === 'hosts' && sub === 'orphans') {
    const { values } = parseArgs({
      args: rest,
      options: { host: { type: 'string' }, clean: { type: 'boolean', default: false } },
    });
    // A second agent on the same data dir would fight the platform's over the VMs' sockets.
    if (await platformIsUp(config()))
      throw new UsageError(
        'the platform is running: its agent holds the VMs; use the console (Hosts) or GET /v1/admin/hosts/:id/orphans',
      );
    const r = await withServices(async (s) => {
      const h = await resolveHost(s, values.host);
      return values.clean ? s.vps.cleanOrphans(h.id, { ...SYSTEM_ACTOR, label: 'cli' }) : s.vps.orphans(h.id);
    });
    const rows: string[][] = [
      ...r.processes.map((p) => ['process', `pid ${p.pid} (${p.vmId})`]),
      ...r.sockets.map((x) => ['socket', x]),
      ...r.disks.map((x) => ['disk', x]),
      ...r.stateDirs.map((x) => ['state dir', x]),
      ...r.taps.map((x) => ['tap (listed only)', x]),
    ];
    if (!rows.length) console.log('no orphan');
    else console.log(`${values.clean ? 'cleaned' : 'orphans'}:\n${table(['KIND', 'WHAT'], rows)}`);
    return 0;
  }
  if (cmd === 'vps' && sub === 'list') {
    const { values } = parseArgs({
      args: rest,
      options: { host: { type: 'string' }, state: { type: 'string', multiple: true } },
    });
    const rows = await withServices(async (s) => {
      const host = values.host ? await resolveHost(s, values.host) : undefined;
      // Every page: the command lists them all.
      const all = [];
      let cursor: string | undefined;
      do {
        const page = await listVpsForStaff(
          s.ctx.db,
          { ...(host ? { hostId: host.id } : {}), ...(values.state ? { states: values.state } : {}) },
          { limit: MAX_PAGE_SIZE, cursor },
        );
        all.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return all;
    });
    if (!rows.length) {
      console.log('no VPS');
      return 0;
    }
    console.log(
      table(
        ['HOSTNAME', 'STATE', 'IPV4', 'HOST', 'DC', 'PLAN', 'ACCOUNT', 'ID'],
        rows.map((v) => [
          v.hostname,
          v.state + (v.state === 'provisioning' ? ` ${v.provision_percent}%` : ''),
          v.ipv4?.split('/')[0] ?? null,
          v.host_name,
          v.datacenter_code,
          `${v.vcpus} vCPU ${v.memory_mib} MiB ${v.disk_gib} GiB`,
          v.account_name,
          v.id,
        ]),
      ),
    );
    return 0;
  }
  if (cmd === 'vps' && sub && isPowerAction(sub)) {
    const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true });
    const id = positionals[0];
    if (positionals.length !== 1 || !id || !uuid.test(id))
      throw new UsageError(`vps ${sub} needs one VPS id (a UUID; see infogere vps list)`);
    const r = await withServices((s) =>
      s.vps.requestPower(SYSTEM_SCOPE, id, sub, { ...SYSTEM_ACTOR, label: 'cli' }),
    );
    console.log(
      `${sub} of ${r.vps.hostname} queued (action ${r.action.id}); the VPS is ${r.vps.state}. The running platform carries it out.`,
    );
    return 0;
  }
  throw new UsageError(`unknown command: infogere ${cmd}${sub ? ` ${sub}` : ''}\n\n${infraUsage}`);
}
