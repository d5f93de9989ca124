import { Type } from 'typebox';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, Page, PageQuery } from './schemas.ts';

const Entry = Type.Object({
  id: Type.String(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
});

export function auditRoutes(app: App, s: Services): void {
  app.get(
    '/v1/admin/audit',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'The audit log, newest first',
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(Entry), ...authErrors },
      },
    },
    async (req) => {
      const page = await s.audit.list({ limit: req.query.limit, cursor: req.query.cursor });
      return {
        items: page.items.map((e) => ({
          id: e.id,
          at: new Date(e.at).toISOString(),
          actor: e.actor,
          action: e.action,
          target: e.target_type ? `${e.target_type}:${e.target_id}` : null,
          ip: e.ip,
          details: e.details,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
  app.get(
    '/v1/admin/audit/verify',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Check the audit hash chain',
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            checked: Type.Integer(),
            firstBadId: Type.Union([Type.String(), Type.Null()]),
            reason: Type.Union([Type.String(), Type.Null()]),
          }),
          ...authErrors,
        },
      },
    },
    async () => s.audit.verify(),
  );
}
