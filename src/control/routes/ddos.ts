// DDoS mitigations (R9.1–R9.5): a VPS's mitigations for its owner and staff; staff list them
// per host and datacenter; ending one before its end date is refused to every role (409, R9.4).
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import type { DdosMitigationRow } from '../services/ddos.ts';
import { authErrors, IdParams, Page, PageQuery } from './schemas.ts';

const Str = Type.String;
const NullStr = Type.Union([Type.String(), Type.Null()]);
const tags = ['ddos'];

const Mitigation = Type.Object(
  {
    id: Str(),
    vpsId: Str(),
    address: Str(),
    automatic: Type.Boolean(),
    tier: Type.Integer(),
    /** Attack types, rates at detection (R9.1). */
    signature: Type.Object({
      types: Type.Array(Str()),
      packetsPerSecond: Type.Number(),
      bitsPerSecond: Type.Number(),
      rates: Type.Record(Str(), Type.Number()),
    }),
    peakPacketsPerSecond: Type.Number(),
    peakBitsPerSecond: Type.Number(),
    startedAt: Str(),
    lastAttackAt: Str(),
    /** R9.3: the earliest end (26 h minimum, later while the attack goes on). */
    endsAt: Str(),
    endedAt: NullStr,
    droppedPackets: Type.Number(),
    topSources: Type.Array(Type.Object({ address: Str(), packets: Type.Number() })),
  },
  { $id: 'DdosMitigation' },
);
const StaffMitigation = Type.Intersect([
  Mitigation,
  Type.Object({ hostId: Str(), hostname: Str(), datacenterId: Str() }),
]);

function view(m: DdosMitigationRow) {
  const sig = m.signature as {
    types?: string[];
    packetsPerSecond?: number;
    bitsPerSecond?: number;
    rates?: Record<string, number>;
  };
  return {
    id: m.id,
    vpsId: m.vps_id,
    address: m.address,
    automatic: m.automatic,
    tier: m.tier,
    signature: {
      types: sig.types ?? [],
      packetsPerSecond: sig.packetsPerSecond ?? 0,
      bitsPerSecond: sig.bitsPerSecond ?? 0,
      rates: sig.rates ?? {},
    },
    peakPacketsPerSecond: Number(m.peak_pps),
    peakBitsPerSecond: Number(m.peak_bps),
    startedAt: m.started_at.toISOString(),
    lastAttackAt: m.last_attack_at.toISOString(),
    endsAt: m.ends_at.toISOString(),
    endedAt: m.ended_at?.toISOString() ?? null,
    droppedPackets: Number(m.dropped_packets),
    topSources: m.top_sources,
  };
}

export function ddosRoutes(app: App, s: Services): void {
  app.get(
    '/v1/vps/:id/ddos-mitigations',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary:
          'DDoS mitigations of a VPS, newest first: attack type, size, start, minimum end (R9.1, R9.3)',
        params: IdParams,
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(Mitigation), ...authErrors },
      },
    },
    async (req) => {
      const { limit, cursor } = req.query;
      const page = await s.ddos.ofVps(principalOf(req).scope, req.params.id, { limit, cursor });
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/admin/ddos-mitigations',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'DDoS mitigations (all, or those in force), newest first, with host and datacenter',
        querystring: Type.Object(
          { active: Type.Optional(Type.Boolean()), ...PageQuery },
          { additionalProperties: false },
        ),
        response: { 200: Page(StaffMitigation), ...authErrors },
      },
    },
    async (req) => {
      const { active, limit, cursor } = req.query;
      const page = await s.ddos.list(active ? { active } : {}, { limit, cursor });
      return {
        items: page.items.map((m) => ({
          ...view(m),
          hostId: m.host_id,
          hostname: m.hostname,
          datacenterId: m.datacenter_id,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.post(
    '/v1/admin/ddos-mitigations/:id/end',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'End a mitigation whose end date has passed; before it, refused to every role (409 ddos.mitigation_minimum with endsAt, R9.4)',
        params: IdParams,
        response: { 200: Mitigation, ...authErrors },
      },
    },
    async (req) => view(await s.ddos.end(req.params.id, auditActorOf(req))),
  );
}
