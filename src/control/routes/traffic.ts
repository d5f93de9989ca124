// Traffic and quota (R3.13: both sides see the live balance), SNMP port mappings and flagged
// samples. Network blocks are in routes/network-blocks.ts.
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams, Page, PageQuery, Uuid } from './schemas.ts';

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
    '/v1/admin/traffic/flagged',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['traffic'],
        summary:
          'Counter samples not counted (impossible rate, time going backwards), newest first, for review',
        querystring: Type.Object(
          { vpsId: Type.Optional(Uuid), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(Flagged), ...authErrors },
      },
    },
    async (req) => {
      const { vpsId, limit, cursor } = req.query;
      const page = await s.traffic.flagged(vpsId ? { vpsId } : {}, { limit, cursor });
      return {
        items: page.items.map((f) => ({
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
        nextCursor: page.nextCursor,
      };
    },
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
