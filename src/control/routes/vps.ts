// VPS operations (R2.1): power actions (staff; clients on their own VPS, a subset), their
// progress, the serial console (staff), the staff VPS list and provisioning queue.
// Staff alerts are routes/alerts.ts.
// A host's live figures and orphans are routes/hosts.ts.
import { Type } from 'typebox';
import type { PowerAction } from '../../domain/vps-power.ts';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import { actorForClient, CLIENT_FAILURE_MESSAGE } from '../services/client-views.ts';
import type { Services } from '../services/index.ts';
import type { VpsActionRow } from '../services/vps.ts';
import { authErrors, IdParams, ownEmailsOf, Page, PageQuery, Uuid, vpsOut, VpsSchema } from './schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const ActionName = Type.Union([
  Type.Literal('start'),
  Type.Literal('stop'),
  Type.Literal('reboot'),
  Type.Literal('poweroff'),
]);
const VpsAction = Type.Object(
  {
    id: Type.String(),
    vpsId: Type.String(),
    action: ActionName,
    state: Type.Union([
      Type.Literal('queued'),
      Type.Literal('running'),
      Type.Literal('done'),
      Type.Literal('failed'),
    ]),
    requestedBy: Type.String(),
    requestedAt: Type.String(),
    startedAt: Nullable(Type.String()),
    finishedAt: Nullable(Type.String()),
    /** What the driver answered; for a stop, `endedBy` is the ladder's rung that ended it. */
    result: Nullable(Type.Record(Type.String(), Type.Unknown())),
    error: Nullable(Type.String()),
  },
  { $id: 'VpsAction' },
);
/** A power action; `own` (a client's account emails) hides staff, the driver's answer and raw errors. */
const actionOut = (a: VpsActionRow, own: ReadonlySet<string> | null) => ({
  id: a.id,
  vpsId: a.vps_id,
  action: a.action,
  state: a.state,
  requestedBy: own ? actorForClient(a.requested_by, own) : a.requested_by,
  requestedAt: a.requested_at.toISOString(),
  startedAt: a.started_at?.toISOString() ?? null,
  finishedAt: a.finished_at?.toISOString() ?? null,
  result: own ? null : a.result,
  error: own && a.error ? CLIENT_FAILURE_MESSAGE : a.error,
});

const StaffVps = Type.Intersect([
  VpsSchema,
  Type.Object({
    accountName: Type.String(),
    datacenterCode: Type.String(),
    hostName: Nullable(Type.String()),
  }),
]);

export function vpsRoutes(app: App, s: Services): void {
  app.post(
    '/v1/vps/:id/actions/:action',
    {
      config: { access: 'any' },
      schema: {
        tags: ['vps'],
        summary:
          'Start, stop (clean, by the stop ladder), reboot or power off a VPS. Staff: any legal action; a client: start/stop/reboot of their own VPS, never a suspended one. 202: the action runs in the background (see /actions).',
        params: Type.Object({ id: Uuid, action: ActionName }, { additionalProperties: false }),
        response: { 202: Type.Object({ action: VpsAction, vps: VpsSchema }), ...authErrors },
      },
    },
    async (req, reply) => {
      const scope = principalOf(req).scope;
      const own = await ownEmailsOf(s, scope);
      const r = await s.vps.requestPower(
        scope,
        req.params.id,
        req.params.action as PowerAction,
        auditActorOf(req),
      );
      const [vps] = await s.vps.withSuspensions([r.vps]);
      return reply.status(202).send({ action: actionOut(r.action, own), vps: vpsOut(vps!, scope) });
    },
  );
  app.get(
    '/v1/vps/:id/actions',
    {
      config: { access: 'any' },
      schema: {
        tags: ['vps'],
        summary: 'The latest power actions on a VPS, newest first',
        params: IdParams,
        response: { 200: Type.Array(VpsAction), ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      const actions = await s.vps.listActions(scope, req.params.id);
      const own = await ownEmailsOf(s, scope);
      return actions.map((a) => actionOut(a, own));
    },
  );

  app.get(
    '/v1/admin/vps',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['vps'],
        summary:
          'Every VPS with its account, host and datacenter, newest first, a page at a time; filters by state (repeatable), host, account',
        querystring: Type.Object(
          {
            state: Type.Optional(Type.Array(Type.String({ maxLength: 20 }), { maxItems: 12 })),
            hostId: Type.Optional(Uuid),
            accountId: Type.Optional(Uuid),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(StaffVps), ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      const page = await s.vps.listForStaff(
        {
          ...(req.query.state ? { states: req.query.state } : {}),
          ...(req.query.hostId ? { hostId: req.query.hostId } : {}),
          ...(req.query.accountId ? { accountId: req.query.accountId } : {}),
        },
        { limit: req.query.limit, cursor: req.query.cursor },
      );
      return {
        items: page.items.map((r) => ({
          ...vpsOut(r, scope),
          accountName: r.account_name,
          datacenterCode: r.datacenter_code,
          hostName: r.host_name,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
  app.get(
    '/v1/admin/vps/:id/console',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['vps'],
        summary:
          'The last lines of the VPS’s serial console (staff only: the provider administers the VPS, R3.4)',
        params: IdParams,
        querystring: Type.Object(
          { lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ lines: Type.Array(Type.String()), available: Type.Boolean() }),
          ...authErrors,
        },
      },
    },
    async (req) => s.vps.consoleLog(req.params.id, req.query.lines ?? 200),
  );
}
