// The first-run setup's own steps (docs/first-run.md); the others reuse the ordinary routes
// (datacenters, pools, plans). Admins only: each changes the platform or moves money.
import { Type } from 'typebox';
import { auditActorOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors } from './schemas.ts';

const Machine = Type.Object({
  hostname: Type.String(),
  cpuCores: Type.Integer(),
  memoryMiB: Type.Integer(),
  diskGiB: Type.Integer(),
  dataDir: Type.String(),
  labNetns: Type.String(),
  localHost: Type.Union([Type.String(), Type.Null()]),
});

export function firstRunRoutes(app: App, s: Services): void {
  app.get(
    '/v1/admin/first-run/machine',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['infra'],
        summary: 'This machine as the first-run setup would enrol it (cores, RAM, free disk, lab namespace)',
        response: { 200: Machine, ...authErrors },
      },
    },
    async () => s.firstRun.machine(),
  );
  app.post(
    '/v1/admin/first-run/host',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['infra'],
        summary:
          'Enrol this machine as a host with its own figures (R2.1, R2.2); lab: its VMs and network in a private namespace',
        body: Type.Object(
          {
            datacenterId: Type.String({ format: 'uuid' }),
            name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9.-]*$' }),
            lab: Type.Boolean(),
            cpuOvercommit: Type.Optional(Type.Number({ minimum: 1, maximum: 64 })),
            ramOvercommit: Type.Optional(Type.Number({ minimum: 1, maximum: 8 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            id: Type.String(),
            name: Type.String(),
            netns: Type.Union([Type.String(), Type.Null()]),
          }),
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      const h = await s.firstRun.enrolThisMachine(req.body, auditActorOf(req));
      return reply.status(201).send({ id: h.id, name: h.name, netns: h.netns });
    },
  );
  app.post(
    '/v1/admin/first-run/test-order',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['commerce'],
        summary:
          'A VPS for the test client: ordered, paid in cash ("first-run test", a real invoice) and validated; provisioning starts (R3.1)',
        body: Type.Object(
          {
            planId: Type.String({ format: 'uuid' }),
            datacenterId: Type.String({ format: 'uuid' }),
            hostname: Type.String({ minLength: 1, maxLength: 63 }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            orderId: Type.String(),
            invoiceNumber: Type.String(),
            vpsId: Type.String(),
            accountId: Type.String(),
          }),
          ...authErrors,
        },
      },
    },
    async (req, reply) => reply.status(201).send(await s.firstRun.testOrder(req.body, auditActorOf(req))),
  );
}
