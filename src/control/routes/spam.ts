// Anti-spam on port 25 (R7.1–R7.6): the client's port-25 status, blocks with their statistics
// and the unblock request (R7.3); the console's blocks in force, unblock queue (R7.5),
// identifications and rules.
import { Type } from 'typebox';
import { SPAM_SIGNALS, type SpamRule } from '../../domain/spam.ts';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams, Page, PageQuery, Uuid } from './schemas.ts';

const Str = Type.String;
const NullStr = Type.Union([Type.String(), Type.Null()]);
const tags = ['anti-spam'];

const Stats = Type.Object({
  smtpConnectionsPerMinute: Type.Number(),
  smtpDestinationsPerHour: Type.Number(),
  messages10min: Type.Number(),
  recipients10min: Type.Number(),
  spamMessages10min: Type.Number(),
  encryptedSessions10min: Type.Number(),
  maxScore10min: Type.Number(),
  meanScore10min: Type.Number(),
});

const SpamBlock = Type.Object(
  {
    id: Str(),
    vpsId: Str(),
    hostname: Str(),
    rung: Type.Integer(),
    state: Type.Union([
      Type.Literal('in_force'),
      Type.Literal('unblock_requested'),
      Type.Literal('lifted'),
      Type.Literal('refused'),
    ]),
    createdAt: Str(),
    minUntil: Str(),
    requestedAt: NullStr,
    decidedAt: NullStr,
    refusalReason: NullStr,
    liftedAt: NullStr,
    staffDecides: Type.Boolean(),
    identification: Type.Object({
      ruleId: Str(),
      signal: Str(),
      threshold: Type.Number(),
      observed: Type.Number(),
      stats: Stats,
    }),
  },
  { $id: 'SpamBlock' },
);

const Identification = Type.Object(
  {
    id: Str(),
    vpsId: Str(),
    hostname: Str(),
    createdAt: Str(),
    ruleId: Str(),
    signal: Str(),
    threshold: Type.Number(),
    observed: Type.Number(),
    stats: Stats,
  },
  { $id: 'SpamIdentification' },
);

const Rule = Type.Object(
  {
    id: Str({ minLength: 1, maxLength: 63 }),
    // Any string: the domain names the known signals in its error (spam.rule_signal).
    signal: Str({ minLength: 1, maxLength: 64, description: `One of ${SPAM_SIGNALS.join(', ')}` }),
    threshold: Type.Number(),
    minMessages: Type.Optional(Type.Integer({ minimum: 1 })),
    reason: Str({ minLength: 3, maxLength: 1000 }),
  },
  { additionalProperties: false },
);

const Status = Type.Object({
  vpsId: Str(),
  port25: Type.Union([Type.Literal('open'), Type.Literal('blocked')]),
  block: Type.Union([SpamBlock, Type.Null()]),
  blocksInWindow: Type.Integer(),
  ladder: Type.Object({
    durationsMs: Type.Array(Type.Number()),
    windowMonths: Type.Integer(),
    staffDecideFromBlock: Type.Integer(),
  }),
  nextBlockDurationMs: Type.Number(),
});

const BlockParams = Type.Object({ id: Uuid, blockId: Uuid }, { additionalProperties: false });

export function spamRoutes(app: App, s: Services): void {
  app.get(
    '/v1/vps/:id/spam',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary:
          "A VPS's port-25 status (R7.2), its open block with its statistics, and the ladder of durations (R7.4) shown before any request",
        params: IdParams,
        response: { 200: Status, ...authErrors },
      },
    },
    async (req) => s.spam.status(principalOf(req).scope, req.params.id),
  );

  app.get(
    '/v1/vps/:id/spam/blocks',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary: "A VPS's port-25 blocks with dates and statistics, newest first (paged)",
        params: IdParams,
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(SpamBlock), ...authErrors },
      },
    },
    async (req) => s.spam.blocks(principalOf(req).scope, req.params.id, req.query),
  );

  app.post(
    '/v1/vps/:id/spam/blocks/:blockId/unblock',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary:
          'Ask to lift a port-25 block, confirming the cause is fixed (R7.3): after its minimum duration (409 spam.too_early), blocks 1–2 lift at once, from the 3rd the request waits for staff (R7.5)',
        params: BlockParams,
        body: Type.Object({ confirmFixed: Type.Boolean() }, { additionalProperties: false }),
        response: {
          200: Type.Intersect([
            SpamBlock,
            Type.Object({ outcome: Type.Union([Type.Literal('lifted'), Type.Literal('to_staff')]) }),
          ]),
          ...authErrors,
        },
      },
    },
    async (req) =>
      s.spam.requestUnblock(
        principalOf(req).scope,
        auditActorOf(req),
        req.params.id,
        req.params.blockId,
        req.body.confirmFixed,
      ),
  );

  app.get(
    '/v1/admin/spam/blocks',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'Port-25 blocks by state: open (in force, waiting, refused), requested (the unblock queue, R7.5), or all; newest first (paged)',
        querystring: Type.Object(
          {
            state: Type.Optional(
              Type.Union([Type.Literal('open'), Type.Literal('requested'), Type.Literal('all')]),
            ),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(SpamBlock), ...authErrors },
      },
    },
    async (req) => {
      const { state = 'open', ...page } = req.query;
      const states =
        state === 'requested'
          ? (['unblock_requested'] as const)
          : state === 'open'
            ? (['in_force', 'unblock_requested', 'refused'] as const)
            : (['in_force', 'unblock_requested', 'refused', 'lifted'] as const);
      return s.spam.blocksByState([...states], page);
    },
  );

  app.post(
    '/v1/admin/spam/blocks/:blockId/decide',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'Lift a port-25 block, or refuse a waiting unblock request with a reason (R7.5); the client is emailed; audited',
        params: Type.Object({ blockId: Uuid }, { additionalProperties: false }),
        body: Type.Object(
          {
            decision: Type.Union([Type.Literal('lift'), Type.Literal('refuse')]),
            reason: Type.Optional(Str({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SpamBlock, ...authErrors },
      },
    },
    async (req) => s.spam.decide(auditActorOf(req), req.params.blockId, req.body),
  );

  app.get(
    '/v1/admin/spam/identifications',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Spam identifications with their statistics (numbers only, R7.6), of one VPS or all (paged)',
        querystring: Type.Object(
          { vpsId: Type.Optional(Uuid), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(Identification), ...authErrors },
      },
    },
    async (req) => {
      const { vpsId, ...page } = req.query;
      return s.spam.identifications(vpsId ? { vpsId } : {}, page);
    },
  );

  app.get(
    '/v1/admin/spam/rules',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'The identification rules in force (the documented defaults until changed)',
        response: { 200: Type.Array(Rule), ...authErrors },
      },
    },
    async () => s.spam.rules(),
  );

  app.put(
    '/v1/admin/spam/rules',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Replace the identification rules (400 spam.rule_signal for an unknown signal); audited',
        body: Type.Object({ rules: Type.Array(Rule, { maxItems: 50 }) }, { additionalProperties: false }),
        response: { 200: Type.Array(Rule), ...authErrors },
      },
    },
    async (req) => s.spam.setRules(auditActorOf(req), req.body.rules as SpamRule[]),
  );
}
