// The console home (R4.1 alerts, R2.1/R2.2 host capacity, R11 orders and revenue): staff read
// the figures; revenue is null for support (docs/security.md, Roles: money is an admin's).
import { Type } from 'typebox';
import { principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors } from './schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const UsedOf = Type.Object({ used: Type.Integer(), allowed: Type.Integer() });

const Dashboard = Type.Object({
  at: Type.String(),
  vps: Type.Array(Type.Object({ state: Type.String(), count: Type.Integer() })),
  hosts: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      state: Type.String(),
      vpsCount: Type.Integer(),
      vcpus: UsedOf,
      memoryMiB: UsedOf,
      diskGiB: UsedOf,
    }),
  ),
  openAlerts: Type.Integer(),
  orders: Type.Object({ awaitingPayment: Type.Integer(), awaitingValidation: Type.Integer() }),
  revenue: Nullable(
    Type.Object({
      timeZone: Type.String(),
      from: Type.String(),
      to: Type.String(),
      currencies: Type.Array(
        Type.Object({
          currency: Type.String(),
          invoices: Type.Integer(),
          netCents: Type.Integer(),
          vatCents: Type.Integer(),
          totalCents: Type.Integer(),
        }),
      ),
    }),
  ),
  setup: Type.Object({
    datacenters: Type.Integer(),
    pools: Type.Integer(),
    hosts: Type.Integer(),
    plans: Type.Integer(),
    clients: Type.Integer(),
    vps: Type.Integer(),
  }),
});

export function dashboardRoutes(app: App, s: Services): void {
  app.get(
    '/v1/admin/dashboard',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary:
          'The console home: VPSs by state, hosts’ capacity, open alerts, orders waiting, revenue this month (Paris time; admins only, null for support), what is set up',
        response: { 200: Dashboard, ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      const d = await s.dashboard.figures({ revenue: scope.kind === 'staff' && scope.role === 'admin' });
      return {
        ...d,
        at: d.at.toISOString(),
        revenue: d.revenue && {
          ...d.revenue,
          from: d.revenue.from.toISOString(),
          to: d.revenue.to.toISOString(),
        },
      };
    },
  );
}
