// Datacenters, IP pools (R3.2), hosts (R2.1, R2.2) and VPS records. The provisioning workflow
// (jobs/provisioning.ts) drives hosts through the HostDriver; this holds the bookkeeping.
import { DAY } from '../../domain/clock.ts';
import { conflict, invalidData } from '../../domain/errors.ts';
import {
  formatIpv4,
  formatPrefix,
  parseIpv4,
  parsePrefix,
  contains,
  usableAddresses,
  overlaps,
} from '../../domain/ipv4.ts';
import type { Db } from '../db/database.ts';
import {
  getDatacenter,
  insertDatacenter,
  insertPool,
  listPoolsWithUsage,
  poolsOf,
  geofeedRows,
  listDatacenters,
} from '../repositories/datacenters.ts';
import { hostLoads, insertHost } from '../repositories/hosts.ts';
import { allocateFromPool, releaseAddressOf } from '../repositories/ip-addresses.ts';
import { insertVps, type VpsRow } from '../repositories/vps.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

function checkCountry(country: string): string {
  const c = country.trim().toUpperCase();
  // Intl knows the ISO 3166-1 codes: an unknown one comes back unchanged.
  if (!/^[A-Z]{2}$/.test(c) || regionNames.of(c) === c)
    throw invalidData('validation.country', `"${country}" is not an ISO 3166-1 alpha-2 country code`, {
      field: 'country',
    });
  return c;
}

function checkRegion(region: string, country: string): string {
  const r = region.trim().toUpperCase();
  if (!/^[A-Z]{2}-[A-Z0-9]{1,3}$/.test(r) || !r.startsWith(`${country}-`))
    throw invalidData(
      'validation.region',
      `"${region}" is not an ISO 3166-2 subdivision of ${country} (e.g. ${country}-XX)`,
      { field: 'region' },
    );
  return r;
}

export function createInfraService(ctx: ServiceContext, audit: AuditService) {
  return {
    listDatacenters: () => listDatacenters(ctx.db),

    async createDatacenter(
      p: { code: string; name: string; city: string; country: string; region: string },
      actor: AuditActor,
    ) {
      const country = checkCountry(p.country);
      const region = checkRegion(p.region, country);
      const code = p.code.trim().toUpperCase();
      if (!/^[A-Z0-9-]{2,16}$/.test(code))
        throw invalidData('validation.code', 'The code is 2 to 16 letters, digits or dashes', {
          field: 'code',
        });
      const d = await insertDatacenter(ctx.db, {
        code,
        name: p.name.trim(),
        city: p.city.trim(),
        country,
        region,
        created_at: ctx.clock.now(),
      }).catch((e: { code?: string }) => {
        if (e.code === '23505')
          throw conflict('datacenter.code_taken', `A datacenter with code ${code} exists`);
        throw e;
      });
      await audit.record(actor, 'datacenter.create', { type: 'datacenter', id: d.id }, { code });
      return d;
    },

    /** R3.2: a pool belongs to one datacenter; pools never overlap; the gateway is inside. */
    async createPool(p: { datacenterId: string; cidr: string; gateway: string }, actor: AuditActor) {
      const prefix = parsePrefix(p.cidr, 'cidr');
      const gw = parseIpv4(p.gateway, 'gateway');
      if (
        !contains(prefix, gw) ||
        gw === prefix.network ||
        gw === prefix.network + 2 ** (32 - prefix.length) - 1
      )
        throw invalidData(
          'validation.gateway',
          `The gateway ${p.gateway} is not a host address of ${formatPrefix(prefix)}`,
          { field: 'gateway' },
        );
      await getDatacenter(ctx.db, p.datacenterId);
      // Checked here for a clear message; the exclusion constraint holds under concurrency too.
      for (const other of await listPoolsWithUsage(ctx.db))
        if (overlaps(prefix, parsePrefix(other.cidr)))
          throw conflict(
            'pool.overlaps',
            `${formatPrefix(prefix)} overlaps the pool ${other.cidr} (${other.datacenter_code})`,
          );
      const pool = await insertPool(ctx.db, {
        datacenter_id: p.datacenterId,
        cidr: formatPrefix(prefix),
        gateway: formatIpv4(gw),
        created_at: ctx.clock.now(),
      }).catch((e: { code?: string }) => {
        if (e.code === '23P01')
          throw conflict('pool.overlaps', `${formatPrefix(prefix)} overlaps another pool`);
        throw e;
      });
      await audit.record(
        actor,
        'pool.create',
        { type: 'ip_pool', id: pool.id },
        { cidr: pool.cidr, datacenterId: p.datacenterId },
      );
      return pool;
    },

    async listPools() {
      return (await listPoolsWithUsage(ctx.db)).map((p) => ({
        ...p,
        size: usableAddresses(parsePrefix(p.cidr), parseIpv4(p.gateway)),
      }));
    },

    geofeed: () => geofeedRows(ctx.db),

    async registerHost(
      p: {
        name: string;
        datacenterId: string;
        cpuCores: number;
        memoryMiB: number;
        diskGiB: number;
        cpuOvercommit?: number;
        ramOvercommit?: number;
        /** A lab host's network namespace (first-run setup); default: the machine's network. */
        netns?: string | null;
      },
      actor: AuditActor,
    ) {
      await getDatacenter(ctx.db, p.datacenterId);
      const h = await insertHost(ctx.db, {
        name: p.name.trim(),
        datacenter_id: p.datacenterId,
        agent: 'local',
        cpu_cores: p.cpuCores,
        memory_mib: p.memoryMiB,
        disk_gib: p.diskGiB,
        cpu_overcommit: p.cpuOvercommit ?? ctx.config.cpuOvercommit,
        ram_overcommit: p.ramOvercommit ?? ctx.config.ramOvercommit,
        state: 'active',
        netns: p.netns ?? null,
        created_at: ctx.clock.now(),
      }).catch((e: { code?: string }) => {
        if (e.code === '23505') throw conflict('host.name_taken', `A host named ${p.name} exists`);
        throw e;
      });
      await audit.record(
        actor,
        'host.register',
        { type: 'host', id: h.id },
        { name: h.name, netns: h.netns },
      );
      return h;
    },
    hostLoads: (datacenterId?: string) => hostLoads(ctx.db, datacenterId),

    /**
     * A VPS to be provisioned, recorded in the caller's transaction (an order's validation),
     * with its provisioning job queued in that same transaction.
     */
    async requestVps(
      db: Db,
      p: {
        accountId: string;
        datacenterId: string;
        hostname: string;
        vcpus: number;
        memoryMiB: number;
        diskGiB: number;
        billingAnchor: Date;
        clientUsername: string;
        image?: string;
      },
    ): Promise<VpsRow> {
      if (!/^[a-z][a-z0-9-]{0,62}$/.test(p.hostname))
        throw invalidData('validation.hostname', 'A hostname is lowercase letters, digits and dashes', {
          field: 'hostname',
        });
      if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(p.clientUsername) || p.clientUsername === 'root')
        throw invalidData('validation.username', 'Not a valid Unix user name (and never root: R3.4)', {
          field: 'username',
        });
      const v = await insertVps(
        db,
        {
          account_id: p.accountId,
          datacenter_id: p.datacenterId,
          hostname: p.hostname,
          vcpus: p.vcpus,
          memory_mib: p.memoryMiB,
          disk_gib: p.diskGiB,
          image: p.image ?? 'infogere-mini',
          billing_anchor: p.billingAnchor,
          client_username: p.clientUsername,
          created_at: ctx.clock.now(),
        },
        ctx.clock.now(),
      );
      await ctx.queue.send('vps.provision', { vpsId: v.id }, { db, singletonKey: `provision:${v.id}` });
      return v;
    },

    /** R3.2: one fixed IPv4 from a pool of the VPS's own datacenter; conflict when all are full. */
    async allocateAddress(
      db: Db,
      vps: Pick<VpsRow, 'id' | 'datacenter_id'>,
    ): Promise<{ address: string; prefixLength: number; gateway: string }> {
      for (const pool of await poolsOf(db, vps.datacenter_id)) {
        const address = await allocateFromPool(db, pool.id, vps.id, ctx.clock.now());
        if (address) return { address, prefixLength: parsePrefix(pool.cidr).length, gateway: pool.gateway };
      }
      throw conflict('pool.exhausted', 'No free IPv4 address in this datacenter’s pools');
    },

    /** R12.4: the address goes to quarantine for the configured days. */
    releaseAddress(db: Db, vpsId: string) {
      const now = ctx.clock.now();
      return releaseAddressOf(db, vpsId, now, new Date(now.getTime() + ctx.config.ipQuarantineDays * DAY));
    },
  };
}
export type InfraService = ReturnType<typeof createInfraService>;
