// The catalogue (R11.1, R11.2): the plans on sale, where, under which terms version; staff
// manage plans (an edit changes no order, invoice or contract).
import { Type } from 'typebox';
import { auditActorOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import { planOut } from '../services/commerce-views.ts';
import type { Services } from '../services/index.ts';
import { CatalogueSchema, PlanSchema } from './commerce-schemas.ts';
import { authErrors, IdParams, Uuid } from './schemas.ts';

const PlanBody = Type.Object(
  {
    code: Type.String({ minLength: 2, maxLength: 32 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    vcpus: Type.Integer({ minimum: 1, maximum: 256 }),
    memoryMiB: Type.Integer({ minimum: 128, maximum: 4_194_304 }),
    diskGiB: Type.Integer({ minimum: 1, maximum: 65_536 }),
    monthlyPriceCents: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
    vatRateBp: Type.Integer({ minimum: 0, maximum: 10_000 }),
    active: Type.Optional(Type.Boolean()),
    datacenterIds: Type.Array(Uuid, { maxItems: 100 }),
  },
  { additionalProperties: false },
);
const PlanPatch = Type.Partial(PlanBody, { additionalProperties: false });

export function catalogueRoutes(app: App, s: Services): void {
  const c = s.commerce;
  app.get(
    '/v1/catalogue',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'Plans on sale, where each is sold, and the terms version in force',
        response: { 200: CatalogueSchema, ...authErrors },
      },
    },
    async () => {
      const cat = await c.catalogue();
      return { termsVersion: cat.termsVersion, plans: cat.plans.map(planOut) };
    },
  );
  app.get(
    '/v1/admin/plans',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'Every plan, on sale or not',
        response: { 200: Type.Array(PlanSchema), ...authErrors },
      },
    },
    async () => (await c.listPlans()).map(planOut),
  );
  app.post(
    '/v1/admin/plans',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Create a plan',
        body: PlanBody,
        response: { 201: PlanSchema, ...authErrors },
      },
    },
    async (req, reply) => reply.status(201).send(planOut(await c.createPlan(req.body, auditActorOf(req)))),
  );
  app.patch(
    '/v1/admin/plans/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Change a plan (orders and contracts keep their own copy)',
        params: IdParams,
        body: PlanPatch,
        response: { 200: PlanSchema, ...authErrors },
      },
    },
    async (req) => planOut(await c.updatePlan(req.params.id, req.body, auditActorOf(req))),
  );
}
