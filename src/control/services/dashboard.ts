// The console home (staff): what runs, what fills the hosts, what waits for a person, what was
// earned this month — read in one place so the home shows figures instead of a second menu.
// Revenue is an admin's figure (docs/security.md, Roles: support does not decide on money).
import { countOpenAlerts } from '../repositories/alerts.ts';
import {
  orderCountsByState,
  paidRevenue,
  parisMonthOf,
  REVENUE_TIME_ZONE,
  setupCounts,
  vpsCountsByState,
  type RevenueRow,
} from '../repositories/dashboard.ts';
import { hostLoads } from '../repositories/hosts.ts';
import type { ServiceContext } from './context.ts';

export interface UsedOf {
  used: number;
  allowed: number;
}

export interface HostCapacity {
  id: string;
  name: string;
  state: string;
  vpsCount: number;
  /** R2.2: vCPUs placed vs cores × the host's CPU overcommit ratio. */
  vcpus: UsedOf;
  /** R2.2: RAM placed vs RAM × the host's RAM overcommit ratio. */
  memoryMiB: UsedOf;
  /** R2.1: disk is dedicated, never overcommitted. */
  diskGiB: UsedOf;
}

export interface Dashboard {
  at: Date;
  vps: { state: string; count: number }[];
  hosts: HostCapacity[];
  openAlerts: number;
  orders: { awaitingPayment: number; awaitingValidation: number };
  /** Null for support staff. */
  revenue: { timeZone: string; from: Date; to: Date; currencies: RevenueRow[] } | null;
  setup: Awaited<ReturnType<typeof setupCounts>>;
}

export function createDashboardService(ctx: ServiceContext) {
  const { db, clock } = ctx;
  return {
    async figures(opts: { revenue: boolean }): Promise<Dashboard> {
      const at = clock.now();
      const [vps, loads, openAlerts, orders, setup] = await Promise.all([
        vpsCountsByState(db),
        hostLoads(db),
        countOpenAlerts(db),
        orderCountsByState(db),
        setupCounts(db),
      ]);
      let revenue: Dashboard['revenue'] = null;
      if (opts.revenue) {
        const month = await parisMonthOf(db, at);
        revenue = {
          timeZone: REVENUE_TIME_ZONE,
          from: month.start,
          to: month.end,
          currencies: await paidRevenue(db, month.start, month.end),
        };
      }
      return {
        at,
        vps,
        hosts: loads.map((h) => ({
          id: h.id,
          name: h.name,
          state: h.state,
          vpsCount: h.vpsCount,
          vcpus: { used: h.vcpusPlaced, allowed: Math.floor(h.cpuCores * h.cpuOvercommit) },
          memoryMiB: { used: h.memoryMiBPlaced, allowed: Math.floor(h.memoryMiB * h.ramOvercommit) },
          diskGiB: { used: h.diskGiBPlaced, allowed: h.diskGiB },
        })),
        openAlerts,
        orders: { awaitingPayment: orders.awaitingPayment, awaitingValidation: orders.paid },
        revenue,
        setup,
      };
    },
  };
}
export type DashboardService = ReturnType<typeof createDashboardService>;
