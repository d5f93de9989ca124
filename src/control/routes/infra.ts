// Datacenters, IP pools (R3.2), the geofeed (RFC 8805) and VPS records; hosts are routes/hosts.ts.
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import { clientEventDetails } from '../services/client-views.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams, ownEmailsOf, Page, PageQuery, vpsOut, VpsSchema } from './schemas.ts';

const Datacenter = Type.Object({
  id: Type.String(),
  code: Type.String(),
  name: Type.String(),
  city: Type.String(),
  country: Type.String(),
  region: Type.String(),
});
const Pool = Type.Object({
  id: Type.String(),
  datacenterId: Type.String(),
  datacenterCode: Type.String(),
  cidr: Type.String(),
  gateway: Type.String(),
  size: Type.Integer(),
  allocated: Type.Integer(),
  quarantined: Type.Integer(),
});
export function infraRoutes(app: App, s: Services): void {
  app.get(
    '/v1/datacenters',
    {
      config: { access: 'any' },
      schema: {
        tags: ['infra'],
        summary: 'Datacenters',
        response: { 200: Type.Array(Datacenter), ...authErrors },
      },
    },
    async () => (await s.infra.listDatacenters()).map(({ created_at: _c, ...d }) => d),
  );
  app.post(
    '/v1/admin/datacenters',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['infra'],
        summary: 'Add a datacenter (R3.2: its location is published in the geofeed)',
        body: Type.Object(
          {
            code: Type.String({ minLength: 2, maxLength: 16 }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            city: Type.String({ minLength: 1, maxLength: 200 }),
            country: Type.String({ minLength: 2, maxLength: 2 }),
            region: Type.String({ minLength: 4, maxLength: 6 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Datacenter, ...authErrors },
      },
    },
    async (req, reply) => {
      const { created_at: _c, ...d } = await s.infra.createDatacenter(req.body, auditActorOf(req));
      return reply.status(201).send(d);
    },
  );

  const poolOut = (p: Awaited<ReturnType<Services['infra']['listPools']>>[number]) => ({
    id: p.id,
    datacenterId: p.datacenter_id,
    datacenterCode: p.datacenter_code,
    cidr: p.cidr,
    gateway: p.gateway,
    size: p.size,
    allocated: p.allocated,
    quarantined: p.quarantined,
  });
  app.get(
    '/v1/admin/pools',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['infra'],
        summary: 'IPv4 pools with their usage',
        response: { 200: Type.Array(Pool), ...authErrors },
      },
    },
    async () => (await s.infra.listPools()).map(poolOut),
  );
  app.post(
    '/v1/admin/pools',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['infra'],
        summary: 'Add an IPv4 pool to a datacenter (R3.2)',
        body: Type.Object(
          {
            datacenterId: Type.String({ format: 'uuid' }),
            cidr: Type.String({ maxLength: 18 }),
            gateway: Type.String({ maxLength: 15 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Pool, ...authErrors },
      },
    },
    async (req, reply) => {
      const pool = await s.infra.createPool(req.body, auditActorOf(req));
      const full = (await s.infra.listPools()).find((p) => p.id === pool.id)!;
      return reply.status(201).send(poolOut(full));
    },
  );

  // RFC 8805: prefix,country,region,city,postal — public, so geolocation providers can fetch it.
  app.get(
    '/geofeed.csv',
    {
      config: { access: 'public' },
      schema: { tags: ['infra'], summary: 'Geofeed (RFC 8805) of every pool prefix (R3.2)' },
    },
    async (_req, reply) => {
      const rows = await s.infra.geofeed();
      const lines = [
        '# infogere geofeed (RFC 8805): prefix,country,region,city,postal code',
        ...rows.map((r) => `${r.cidr},${r.country},${r.region},${r.city},`),
      ];
      return reply.type('text/csv; charset=utf-8').send(lines.join('\n') + '\n');
    },
  );

  // VPS records: clients see their own (scoped in the repository), staff see all.
  app.get(
    '/v1/vps',
    {
      config: { access: 'any' },
      schema: {
        tags: ['vps'],
        summary: 'VPSs, oldest first, a page at a time (clients: their own)',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(VpsSchema), ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      const page = await s.vps.list(scope, req.query);
      return { items: page.items.map((v) => vpsOut(v, scope)), nextCursor: page.nextCursor };
    },
  );
  app.get(
    '/v1/vps/:id',
    {
      config: { access: 'any' },
      schema: {
        tags: ['vps'],
        summary: 'One VPS',
        params: IdParams,
        response: { 200: VpsSchema, ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      return vpsOut(await s.vps.get(scope, req.params.id), scope);
    },
  );
  app.get(
    '/v1/vps/:id/events',
    {
      config: { access: 'any' },
      schema: {
        tags: ['vps'],
        summary:
          'What happened to a VPS, newest first. Staff read every detail; a client reads who as a role ("provider", or a user of its account) and a problem code instead of an error',
        params: IdParams,
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: {
          200: Page(
            Type.Object({
              at: Type.String(),
              kind: Type.String(),
              details: Type.Record(Type.String(), Type.Unknown()),
            }),
          ),
          ...authErrors,
        },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      const page = await s.vps.events(scope, req.params.id, {
        limit: req.query.limit,
        cursor: req.query.cursor,
      });
      // Clients read roles and problem codes, never staff emails or raw errors (argv, host paths).
      const own = await ownEmailsOf(s, scope);
      return {
        items: page.items.map((e) => ({
          at: e.at.toISOString(),
          kind: e.kind,
          details: own ? clientEventDetails(e.kind, e.details, own) : e.details,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
}
