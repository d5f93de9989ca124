// Staff alerts (R4.1): the list (newest first, open ones or all) and their acknowledgement;
// support triages as admins do (docs/security.md).
import { Type } from 'typebox';
import { auditActorOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { StaffAlertRow } from '../services/alerts.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams, Page, PageQuery } from './schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const Alert = Type.Object({
  id: Type.String(),
  at: Type.String(),
  kind: Type.String(),
  subjectType: Type.String(),
  subjectId: Type.String(),
  message: Type.String(),
  acknowledgedAt: Nullable(Type.String()),
  acknowledgedBy: Nullable(Type.String()),
});
const alertOut = (a: StaffAlertRow) => ({
  id: a.id,
  at: a.at.toISOString(),
  kind: a.kind,
  subjectType: a.subject_type,
  subjectId: a.subject_id,
  message: a.message,
  acknowledgedAt: a.acknowledged_at?.toISOString() ?? null,
  acknowledgedBy: a.acknowledged_by,
});

export function alertRoutes(app: App, s: Services): void {
  app.get(
    '/v1/admin/alerts',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['infra'],
        summary: 'Staff alerts (a VM that crashed, a provisioning or power action that failed), newest first',
        querystring: Type.Object(
          { open: Type.Optional(Type.Boolean()), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(Alert), ...authErrors },
      },
    },
    async (req) => {
      const { limit, cursor, open } = req.query;
      const page = await s.alerts.page(open !== undefined ? { open } : {}, { limit, cursor });
      return { items: page.items.map(alertOut), nextCursor: page.nextCursor };
    },
  );
  app.post(
    '/v1/admin/alerts/:id/ack',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['infra'],
        summary: 'Acknowledge an alert (idempotent)',
        params: IdParams,
        response: { 200: Alert, ...authErrors },
      },
    },
    async (req) => alertOut(await s.alerts.acknowledge(req.params.id, auditActorOf(req))),
  );
}
