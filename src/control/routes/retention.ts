// The retention schedule (R12.4, R12.6): staff read the schedule (kind, legal basis in French
// and English, period, start event) and what the provider holds of one client, until when.
import { Type } from 'typebox';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams } from './schemas.ts';

const TextSchema = Type.Object({ fr: Type.String(), en: Type.String() });
const RuleSchema = Type.Object({
  kind: Type.String(),
  holds: TextSchema,
  basis: TextSchema,
  months: Type.Integer(),
  start: Type.String(),
  purge: Type.Union([Type.Literal('purged'), Type.Literal('kept')]),
});
const HeldSchema = Type.Object({
  accountId: Type.String(),
  contractEndedAt: Type.Union([Type.String(), Type.Null()]),
  held: Type.Array(
    Type.Object({
      kind: Type.String(),
      count: Type.Integer(),
      until: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

export function retentionRoutes(app: App, s: Services): void {
  app.get(
    '/v1/admin/retention/schedule',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['legal'],
        summary: 'The retention schedule of the provider’s records (R12.4)',
        response: { 200: Type.Object({ items: Type.Array(RuleSchema) }), ...authErrors },
      },
    },
    async () => ({ items: [...s.retention.schedule()] }),
  );

  app.get(
    '/v1/admin/accounts/:id/retention',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['legal'],
        summary: 'What the provider holds of a client, by kind, and until when (R12.4)',
        params: IdParams,
        response: { 200: HeldSchema, ...authErrors },
      },
    },
    async (req) => s.retention.heldFor(req.params.id),
  );
}
