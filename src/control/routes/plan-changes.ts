// Plan changes (R3.12): the client sees the plans its VPS can move to with their prorated cost,
// orders one, and follows the change's deadline; staff list changes near or past it and may
// try a change again.
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import { CLIENT_FAILURE_MESSAGE } from '../services/client-views.ts';
import type { Scope } from '../services/context.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams, Uuid } from './schemas.ts';

const Str = Type.String;
const NullStr = Type.Union([Type.String(), Type.Null()]);
const Int = Type.Integer;
const Shape = Type.Object({ vcpus: Int(), memoryMiB: Int(), diskGiB: Int() });
const Refusal = Type.Union([Type.Object({ code: Str(), message: Str() }), Type.Null()]);

const PlanChange = Type.Object(
  {
    id: Str(),
    vpsId: Str(),
    accountId: Str(),
    contractId: Str(),
    invoiceId: NullStr,
    toPlanId: Str(),
    toPlanName: Str(),
    from: Shape,
    to: Shape,
    fromMonthlyPriceCents: Int(),
    toMonthlyPriceCents: Int(),
    cycleDays: Int(),
    remainingDays: Int(),
    fullMonths: Int(),
    amountCents: Int(),
    termsVersion: Str(),
    state: Type.Union([
      Type.Literal('awaiting_payment'),
      Type.Literal('paid'),
      Type.Literal('applied'),
      Type.Literal('cancelled'),
    ]),
    orderedAt: Str(),
    paidAt: NullStr,
    dueAt: NullStr,
    deadline: Type.Union([
      Type.Literal('none'),
      Type.Literal('on_time'),
      Type.Literal('near'),
      Type.Literal('late'),
      Type.Literal('done'),
      Type.Literal('done_late'),
    ]),
    rebootAt: NullStr,
    appliedAt: NullStr,
    lateAt: NullStr,
    attempts: Int(),
    lastError: NullStr,
  },
  { $id: 'PlanChange' },
);
const StaffPlanChange = Type.Intersect([PlanChange, Type.Object({ hostname: Str(), accountName: Str() })]);

const PlanChangeOptions = Type.Object(
  {
    currentPlanId: Str(),
    currentPlanName: Str(),
    monthlyPriceCents: Int(),
    refusal: Refusal,
    plans: Type.Array(
      Type.Object({
        planId: Str(),
        code: Str(),
        name: Str(),
        vcpus: Int(),
        memoryMiB: Int(),
        diskGiB: Int(),
        monthlyPriceCents: Int(),
        amountCents: Int(),
        totalCents: Int(),
        remainingDays: Int(),
        cycleDays: Int(),
        fullMonths: Int(),
        refused: NullStr,
      }),
    ),
  },
  { $id: 'PlanChangeOptions' },
);

/** What a client reads of a change: a plain message where staff read the driver's error (R3.12). */
function forCaller<T extends { lastError: string | null }>(scope: Scope, c: T): T {
  return scope.kind === 'client' ? { ...c, lastError: c.lastError ? CLIENT_FAILURE_MESSAGE : null } : c;
}

export function planChangeRoutes(app: App, s: Services): void {
  app.get(
    '/v1/vps/:id/plan-change/options',
    {
      config: { access: 'any' },
      schema: {
        tags: ['plan-changes'],
        summary:
          'R3.12: the plans sold in the VPS’s datacenter with the prorated amount a change would cost now (or why it is refused)',
        params: IdParams,
        response: { 200: PlanChangeOptions, ...authErrors },
      },
    },
    async (req) => s.planChanges.options(principalOf(req).scope, req.params.id),
  );

  app.post(
    '/v1/vps/:id/plan-change',
    {
      config: { access: 'client' },
      schema: {
        tags: ['plan-changes'],
        summary:
          'R3.12: order another plan; an invoice of the prorated difference is issued (none when nothing more is due); applied within 48 h of payment. 409: suspended, pending change, disk shrink, not sold in the datacenter',
        params: IdParams,
        body: Type.Object({ planId: Uuid }, { additionalProperties: false }),
        response: { 201: PlanChange, ...authErrors },
      },
    },
    async (req, reply) => {
      const scope = principalOf(req).scope;
      const c = await s.planChanges.order(scope, req.params.id, req.body.planId, auditActorOf(req));
      return reply.status(201).send(forCaller(scope, c));
    },
  );

  app.post(
    '/v1/vps/:id/plan-change/cancel',
    {
      config: { access: 'client_or_admin' },
      schema: {
        tags: ['plan-changes'],
        summary: 'Drop the plan change waiting for payment; its invoice is voided (409 when none waits)',
        params: IdParams,
        response: { 200: PlanChange, ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      return forCaller(scope, await s.planChanges.cancel(scope, req.params.id, auditActorOf(req)));
    },
  );

  app.get(
    '/v1/vps/:id/plan-changes',
    {
      config: { access: 'any' },
      schema: {
        tags: ['plan-changes'],
        summary: 'R3.12: the plan changes of a VPS with their deadline, newest first',
        params: IdParams,
        response: { 200: Type.Array(PlanChange), ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      return (await s.planChanges.list(scope, req.params.id)).map((c) => forCaller(scope, c));
    },
  );

  app.get(
    '/v1/admin/plan-changes',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['plan-changes'],
        summary:
          'R3.12: plan changes not yet applied, soonest deadline first (late ones flagged); ?all=true adds applied ones',
        querystring: Type.Object({ all: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: Type.Array(StaffPlanChange), ...authErrors },
      },
    },
    async (req) => s.planChanges.listForStaff({ all: req.query.all === true }),
  );

  app.post(
    '/v1/admin/plan-changes/:id/retry',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['plan-changes'],
        summary: 'Try a paid plan change again now (audited); 409 when it is not pending',
        params: IdParams,
        response: { 200: PlanChange, ...authErrors },
      },
    },
    async (req) => s.planChanges.retry(req.params.id, auditActorOf(req)),
  );
}
