// Contract terminations (R12.1–R12.4). Staff record a registered letter (the
// product proposes its effective date), force majeure (either side), a breach (immediate: the
// VPS cut at once), cancel a scheduled one, list them and read the deletion records. Clients
// read the termination of their own contract or VPS (another account's → 404).
import { Type, type Static } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Scope } from '../services/context.ts';
import { PROVIDER } from '../services/client-views.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams, Uuid } from './schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Cause = Type.Union([
  Type.Literal('term_end'),
  Type.Literal('client_letter'),
  Type.Literal('force_majeure_client'),
  Type.Literal('force_majeure_provider'),
  Type.Literal('provider_breach'),
]);
const State = Type.Union([
  Type.Literal('scheduled'),
  Type.Literal('executing'),
  Type.Literal('done'),
  Type.Literal('cancelled'),
]);

const TerminationSchema = Type.Object(
  {
    id: Type.String(),
    contractId: Type.String(),
    accountId: Type.String(),
    vpsId: Type.String(),
    cause: Cause,
    state: State,
    effectiveAt: Type.String(),
    reason: Type.String(),
    recordedBy: Type.String(),
    recordedAt: Type.String(),
    letterReceivedAt: Nullable(Type.String()),
    requestedEffectiveAt: Nullable(Type.String()),
    proposedEffectiveAt: Nullable(Type.String()),
    cancelledAt: Nullable(Type.String()),
    cancelledBy: Nullable(Type.String()),
    cancelReason: Nullable(Type.String()),
    deletionStep: Nullable(Type.String()),
    lastError: Nullable(Type.String()),
    doneAt: Nullable(Type.String()),
  },
  { $id: 'Termination' },
);
const TerminationOrNull = Type.Object({ termination: Nullable(TerminationSchema) });
const DeletionRecordSchema = Type.Object(
  {
    id: Type.String(),
    terminationId: Type.String(),
    contractId: Type.String(),
    vpsId: Type.String(),
    hostname: Type.String(),
    cause: Type.String(),
    startedAt: Type.String(),
    completedAt: Nullable(Type.String()),
    deleted: Type.Array(
      Type.Object({
        what: Type.String(),
        at: Type.String(),
        details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      }),
    ),
  },
  { $id: 'DeletionRecord' },
);
const Reason = Type.String({ minLength: 1, maxLength: 2000 });

type TerminationOut = Static<typeof TerminationSchema>;

/** What a client reads of its termination: the provider's side as a role, no deletion errors. */
function forCaller(scope: Scope, t: TerminationOut | null): TerminationOut | null {
  if (!t || scope.kind !== 'client') return t;
  return {
    ...t,
    recordedBy: PROVIDER,
    cancelledBy: t.cancelledBy === null ? null : PROVIDER,
    lastError: null,
  };
}

export function terminationRoutes(app: App, services: Services): void {
  const s = services.terminations;

  app.get(
    '/v1/terminations',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['terminations'],
        summary: 'Terminations (scheduled, executing, done, cancelled), by effective date',
        querystring: Type.Object({ state: Type.Optional(State) }, { additionalProperties: false }),
        response: { 200: Type.Array(TerminationSchema), ...authErrors },
      },
    },
    async (req) => s.list(req.query.state ? { states: [req.query.state] } : {}),
  );

  app.get(
    '/v1/contracts/:id/terminations/letter-proposal',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['terminations'],
        summary:
          'R12.2: the effective date the product proposes for a registered letter (the requested date if after receipt, else the end of the paid period, else now)',
        params: IdParams,
        querystring: Type.Object(
          { letterReceivedAt: DateTime, requestedEffectiveAt: Type.Optional(DateTime) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            effectiveAt: Type.String(),
            rule: Type.Union([
              Type.Literal('requested'),
              Type.Literal('paid_period_end'),
              Type.Literal('now'),
            ]),
            paidUntil: Type.String(),
          }),
          ...authErrors,
        },
      },
    },
    async (req) =>
      s.proposeLetter(req.params.id, {
        letterReceivedAt: new Date(req.query.letterReceivedAt),
        requestedEffectiveAt: req.query.requestedEffectiveAt
          ? new Date(req.query.requestedEffectiveAt)
          : null,
      }),
  );

  app.post(
    '/v1/contracts/:id/terminations/letter',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['terminations'],
        summary:
          "R12.2: record the client's registered letter (date of receipt, the date it asks for); the effective date defaults to the proposal",
        params: IdParams,
        body: Type.Object(
          {
            letterReceivedAt: DateTime,
            requestedEffectiveAt: Type.Optional(DateTime),
            effectiveAt: Type.Optional(DateTime),
            reason: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: TerminationSchema, ...authErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const t = await s.recordLetter(auditActorOf(req), req.params.id, {
        letterReceivedAt: new Date(b.letterReceivedAt),
        requestedEffectiveAt: b.requestedEffectiveAt ? new Date(b.requestedEffectiveAt) : null,
        effectiveAt: b.effectiveAt ? new Date(b.effectiveAt) : null,
        ...(b.reason ? { reason: b.reason } : {}),
      });
      return reply.status(201).send(t);
    },
  );

  app.post(
    '/v1/contracts/:id/terminations/force-majeure',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['terminations'],
        summary: 'R12.1: termination for force majeure, invoked by the client or the provider',
        params: IdParams,
        body: Type.Object(
          {
            side: Type.Union([Type.Literal('client'), Type.Literal('provider')]),
            effectiveAt: DateTime,
            reason: Reason,
          },
          { additionalProperties: false },
        ),
        response: { 201: TerminationSchema, ...authErrors },
      },
    },
    async (req, reply) =>
      reply.status(201).send(
        await s.forceMajeure(auditActorOf(req), req.params.id, {
          side: req.body.side,
          effectiveAt: new Date(req.body.effectiveAt),
          reason: req.body.reason,
        }),
      ),
  );

  app.post(
    '/v1/contracts/:id/terminations/breach',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['terminations'],
        summary:
          'R12.3: breach of article 6: the VPS is cut at once (VM paused, network isolated) and the contract terminated now; the deletion follows',
        params: IdParams,
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: {
          201: Type.Object({
            termination: TerminationSchema,
            cut: Type.Object({ paused: Type.Boolean(), isolated: Type.Boolean() }),
          }),
          ...authErrors,
        },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await s.breach(auditActorOf(req), req.params.id, { reason: req.body.reason })),
  );

  app.post(
    '/v1/terminations/:id/cancel',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['terminations'],
        summary: 'Cancel a scheduled termination before its effective date (audited)',
        params: IdParams,
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: { 200: TerminationSchema, ...authErrors },
      },
    },
    async (req) => s.cancel(auditActorOf(req), req.params.id, req.body.reason),
  );

  app.get(
    '/v1/contracts/:id/termination',
    {
      config: { access: 'any' },
      schema: {
        tags: ['terminations'],
        summary: "The contract's termination in force, or null (a client sees its own contracts only)",
        params: IdParams,
        response: { 200: TerminationOrNull, ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      return { termination: forCaller(scope, await s.ofContract(scope, req.params.id)) };
    },
  );

  app.get(
    '/v1/vps/:id/termination',
    {
      config: { access: 'any' },
      schema: {
        tags: ['terminations'],
        summary: "The termination in force of the VPS's contract, or null (a client sees its own VPSs only)",
        params: IdParams,
        response: { 200: TerminationOrNull, ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      return { termination: forCaller(scope, await s.ofVps(scope, req.params.id)) };
    },
  );

  app.get(
    '/v1/deletion-records',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['terminations'],
        summary: 'R12.4: what each termination deleted and when (kept after the VPS is gone)',
        querystring: Type.Object({ contractId: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: Type.Array(DeletionRecordSchema), ...authErrors },
      },
    },
    async (req) => s.deletionRecords(req.query.contractId ? { contractId: req.query.contractId } : {}),
  );
}
