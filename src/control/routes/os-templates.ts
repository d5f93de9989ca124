// OS templates (R6.4 reinstalls and the order form choose one): staff list and register them
// (admin), say which plans allow each; every logged-in user sees a plan's enabled templates.
import { Type } from 'typebox';
import { auditActorOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { osTemplateOut } from '../services/os-templates.ts';
import { authErrors, IdParams, Uuid } from './schemas.ts';

const TemplateSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  image: Type.String(),
  imageVersion: Type.String(),
  sha256: Type.String(),
  enabled: Type.Boolean(),
});
const TemplateBody = Type.Object(
  {
    code: Type.String({ minLength: 2, maxLength: 40 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    image: Type.String({ minLength: 1, maxLength: 64 }),
    imageVersion: Type.String({ minLength: 1, maxLength: 100 }),
    sha256: Type.String({ minLength: 64, maxLength: 64 }),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const TemplatePatch = Type.Partial(TemplateBody, { additionalProperties: false });

export function osTemplateRoutes(app: App, s: Services): void {
  const t = s.osTemplates;
  app.get(
    '/v1/admin/os-templates',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'Every OS template, enabled or not',
        response: { 200: Type.Array(TemplateSchema), ...authErrors },
      },
    },
    async () => (await t.list()).map(osTemplateOut),
  );
  app.post(
    '/v1/admin/os-templates',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary:
          'Register an OS template (an image every host has: its name, version and sha256 from its manifest)',
        body: TemplateBody,
        response: { 201: TemplateSchema, ...authErrors },
      },
    },
    async (req, reply) => reply.status(201).send(osTemplateOut(await t.create(req.body, auditActorOf(req)))),
  );
  app.patch(
    '/v1/admin/os-templates/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Change an OS template (new image version, enable, disable); placed orders keep their image',
        params: IdParams,
        body: TemplatePatch,
        response: { 200: TemplateSchema, ...authErrors },
      },
    },
    async (req) => osTemplateOut(await t.update(req.params.id, req.body, auditActorOf(req))),
  );
  app.put(
    '/v1/admin/plans/:id/os-templates',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Set the OS templates a plan allows',
        params: IdParams,
        body: Type.Object(
          { templateIds: Type.Array(Uuid, { maxItems: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(TemplateSchema), ...authErrors },
      },
    },
    async (req) =>
      (await t.setForPlan(req.params.id, req.body.templateIds, auditActorOf(req))).map(osTemplateOut),
  );
  app.get(
    '/v1/catalogue/plans/:id/os-templates',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'The OS templates a plan offers (the order form’s choices)',
        params: IdParams,
        response: { 200: Type.Array(TemplateSchema), ...authErrors },
      },
    },
    async (req) => (await t.forPlan(req.params.id)).map(osTemplateOut),
  );
}
