// Network blocks (R5.1, R6.4; R3.13's throttle listed with them): isolating a VPS, blocking a
// port or protocol, lifting either; both sides list them with their reason.
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams, Uuid } from './schemas.ts';

const Str = Type.String;
const NullStr = Type.Union([Type.String(), Type.Null()]);
const tags = ['network blocks'];

const NetworkBlock = Type.Object(
  {
    id: Str(),
    kind: Type.Union([Type.Literal('isolate'), Type.Literal('block'), Type.Literal('throttle')]),
    protocol: NullStr,
    port: Type.Union([Type.Integer(), Type.Null()]),
    direction: NullStr,
    reason: Str(),
    createdBy: Str(),
    createdAt: Str(),
    until: NullStr,
    liftedAt: NullStr,
    liftedBy: NullStr,
    /** Staff only: the sanction it belongs to; lifted only through that sanction (409 network_block.owned here). */
    owner: Type.Optional(
      Type.Union([
        Type.Object({ type: Type.Union([Type.Literal('sanction'), Type.Literal('spam_block')]), id: Str() }),
        Type.Null(),
      ]),
    ),
  },
  { $id: 'NetworkBlock' },
);
const AppliedBlock = Type.Intersect([NetworkBlock, Type.Object({ applied: Type.Boolean() })]);
const BlockInForce = Type.Intersect([
  NetworkBlock,
  Type.Object({ vpsId: Str(), hostname: Str(), accountId: Str() }),
]);

export function networkBlockRoutes(app: App, s: Services): void {
  app.get(
    '/v1/vps/:id/network-blocks',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary:
          'Network blocks in force on a VPS with their reason (R5.1); staff may ask for the history (?all=true)',
        params: IdParams,
        querystring: Type.Object({ all: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: Type.Array(NetworkBlock), ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      return s.networkBlocks.list(scope, req.params.id, {
        all: scope.kind === 'staff' && req.query.all === true,
      });
    },
  );

  app.post(
    '/v1/admin/vps/:id/network-blocks',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'Isolate a VPS (R5.1, R6.4) or block a port/protocol for it (in, out or both); applied on its host at once, audited',
        params: IdParams,
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal('isolate'), Type.Literal('block')]),
            protocol: Type.Optional(
              Type.Union([
                Type.Literal('tcp'),
                Type.Literal('udp'),
                Type.Literal('icmp'),
                Type.Literal('all'),
              ]),
            ),
            port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
            direction: Type.Optional(
              Type.Union([Type.Literal('in'), Type.Literal('out'), Type.Literal('both')]),
            ),
            reason: Str({ minLength: 3, maxLength: 1000 }),
            expectedUntil: Type.Optional(Str({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: AppliedBlock, ...authErrors },
      },
    },
    async (req, reply) => {
      const { expectedUntil, ...b } = req.body;
      const m = await s.networkBlocks.add(auditActorOf(req), req.params.id, {
        ...b,
        ...(expectedUntil ? { expectedUntil: new Date(expectedUntil) } : {}),
      });
      return reply.status(201).send(m);
    },
  );

  app.post(
    '/v1/admin/vps/:id/network-blocks/:blockId/lift',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'Lift a network block in force (409 network_block.not_in_force when it is not; 409 network_block.owned, naming the sanction, when it belongs to one: lift that sanction instead); applied on the host at once, audited',
        params: Type.Object({ id: Uuid, blockId: Uuid }, { additionalProperties: false }),
        response: { 200: AppliedBlock, ...authErrors },
      },
    },
    async (req) => s.networkBlocks.lift(auditActorOf(req), req.params.id, req.params.blockId),
  );

  app.get(
    '/v1/admin/network-blocks',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Every network block in force',
        response: { 200: Type.Array(BlockInForce), ...authErrors },
      },
    },
    async () => s.networkBlocks.inForce(),
  );
}
