// Traffic and quota (R3.13: both sides see the live balance), network measures (R5.1, R6.4:
// isolation and blocks, listed with their reason), SNMP port mappings and flagged samples.
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams, Uuid } from './schemas.ts';

const Str = Type.String;
const NullStr = Type.Union([Type.String(), Type.Null()]);
/** Byte counts are decimal strings (64-bit values). */
const Bytes = Type.String({ pattern: '^[0-9]+$' });

const Traffic = Type.Object(
  {
    vpsId: Str(),
    source: Type.Union([Type.Literal('tap'), Type.Literal('snmp')]),
    cycleStart: Str(),
    cycleEnd: Str(),
    quotaBytes: Bytes,
    usedOutBytes: Bytes,
    usedInBytes: Bytes,
    remainingBytes: Bytes,
    forecastBytes: Bytes,
    forecastExceedsQuota: Type.Boolean(),
    throttled: Type.Boolean(),
    throttledUntil: NullStr,
    bandwidthBitsPerSecond: Type.Integer(),
    flaggedSamples: Type.Integer(),
    lastReadAt: NullStr,
    daily: Type.Array(Type.Object({ day: Str(), bytesOut: Bytes, bytesIn: Bytes })),
  },
  { $id: 'VpsTraffic' },
);

const Measure = Type.Object(
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
    /** Staff only: the sanction it belongs to; lifted only through that sanction (409 measure.owned here). */
    owner: Type.Optional(
      Type.Union([Type.Object({ type: Type.Literal('sanction'), id: Str() }), Type.Null()]),
    ),
  },
  { $id: 'NetMeasure' },
);
const AppliedMeasure = Type.Intersect([Measure, Type.Object({ applied: Type.Boolean() })]);
const MeasureInForce = Type.Intersect([
  Measure,
  Type.Object({ vpsId: Str(), hostname: Str(), accountId: Str() }),
]);

const SnmpMapping = Type.Object({
  vpsId: Str(),
  agentHost: Str(),
  agentPort: Type.Integer(),
  ifIndex: Type.Integer(),
  vpsOutbound: Type.Union([Type.Literal('ifHCInOctets'), Type.Literal('ifHCOutOctets')]),
});

const Flagged = Type.Object({
  id: Str(),
  vpsId: Str(),
  source: Str(),
  direction: Str(),
  sampleKind: Str(),
  flag: Str(),
  fromAt: NullStr,
  toAt: Str(),
  rawDelta: Bytes,
  counterId: Str(),
});

export function trafficRoutes(app: App, s: Services): void {
  app.get(
    '/v1/vps/:id/traffic',
    {
      config: { access: 'any' },
      schema: {
        tags: ['traffic'],
        summary:
          'R3.13: outbound/inbound bytes of the current billing cycle, quota, remaining, forecast, throttle and a daily series',
        params: IdParams,
        response: { 200: Traffic, ...authErrors },
      },
    },
    async (req) => s.traffic.usage(principalOf(req).scope, req.params.id),
  );

  app.get(
    '/v1/vps/:id/measures',
    {
      config: { access: 'any' },
      schema: {
        tags: ['traffic'],
        summary:
          'Network measures in force on a VPS with their reason (R5.1); staff may ask for the history (?all=true)',
        params: IdParams,
        querystring: Type.Object({ all: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: Type.Array(Measure), ...authErrors },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      return s.netMeasures.list(scope, req.params.id, {
        all: scope.kind === 'staff' && req.query.all === true,
      });
    },
  );

  app.post(
    '/v1/admin/vps/:id/measures',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['traffic'],
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
        response: { 201: AppliedMeasure, ...authErrors },
      },
    },
    async (req, reply) => {
      const { expectedUntil, ...b } = req.body;
      const m = await s.netMeasures.add(auditActorOf(req), req.params.id, {
        ...b,
        ...(expectedUntil ? { expectedUntil: new Date(expectedUntil) } : {}),
      });
      return reply.status(201).send(m);
    },
  );

  app.post(
    '/v1/admin/vps/:id/measures/:measureId/lift',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['traffic'],
        summary:
          'Lift a measure in force (409 measure.not_in_force when it is not; 409 measure.owned, naming the sanction, when it belongs to one: lift that sanction instead); applied on the host at once, audited',
        params: Type.Object({ id: Uuid, measureId: Uuid }, { additionalProperties: false }),
        response: { 200: AppliedMeasure, ...authErrors },
      },
    },
    async (req) => s.netMeasures.lift(auditActorOf(req), req.params.id, req.params.measureId),
  );

  app.get(
    '/v1/admin/measures',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['traffic'],
        summary: 'Every network measure in force',
        response: { 200: Type.Array(MeasureInForce), ...authErrors },
      },
    },
    async () => s.netMeasures.inForce(),
  );

  app.get(
    '/v1/admin/traffic/flagged',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['traffic'],
        summary:
          'Counter samples not counted (impossible rate, time going backwards), newest first, for review',
        querystring: Type.Object(
          { vpsId: Type.Optional(Uuid), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Flagged), ...authErrors },
      },
    },
    async (req) =>
      (
        await s.traffic.flagged({
          ...(req.query.vpsId ? { vpsId: req.query.vpsId } : {}),
          ...(req.query.limit ? { limit: req.query.limit } : {}),
        })
      ).map((f) => ({
        id: f.id,
        vpsId: f.vps_id,
        source: f.source,
        direction: f.direction,
        sampleKind: f.sample_kind,
        flag: f.flag,
        fromAt: f.from_at?.toISOString() ?? null,
        toAt: f.to_at.toISOString(),
        rawDelta: f.raw_delta,
        counterId: f.counter_id,
      })),
  );

  app.get(
    '/v1/admin/snmp-mappings',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['traffic'],
        summary: 'SNMP port mappings (switch port of each VPS)',
        response: { 200: Type.Array(SnmpMapping), ...authErrors },
      },
    },
    async () => s.traffic.listSnmpMappings(),
  );
  app.put(
    '/v1/admin/vps/:id/snmp-mapping',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['traffic'],
        summary:
          'Map a VPS to its switch port (SNMPv2c agent, community, IF-MIB ifIndex); its counting restarts from a baseline',
        params: IdParams,
        body: Type.Object(
          {
            agentHost: Str({ minLength: 1, maxLength: 253 }),
            agentPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
            community: Str({ minLength: 1, maxLength: 200 }),
            ifIndex: Type.Integer({ minimum: 1 }),
            vpsOutbound: Type.Optional(
              Type.Union([Type.Literal('ifHCInOctets'), Type.Literal('ifHCOutOctets')]),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: SnmpMapping, ...authErrors },
      },
    },
    async (req) => s.traffic.setSnmpMapping(req.params.id, req.body, auditActorOf(req)),
  );
  app.delete(
    '/v1/admin/vps/:id/snmp-mapping',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['traffic'],
        summary: 'Remove a VPS’s SNMP mapping',
        params: IdParams,
        response: { 204: Type.Null(), ...authErrors },
      },
    },
    async (req, reply) => {
      await s.traffic.deleteSnmpMapping(req.params.id, auditActorOf(req));
      return reply.status(204).send(null);
    },
  );
}
