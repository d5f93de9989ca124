// Sanctions: the ladder (R3.14, R5.1, R6.4, R6.5, R12.3, R12.5) and authority notices (R12.6).
// The network blocks sanctions apply through are routes/network-blocks.ts.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { BREACH_KINDS, RUNGS, SEVERITIES, AUTHORITY_RUNGS } from '../../domain/sanctions.ts';
import { isDomainError } from '../../domain/errors.ts';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import { MAX_SCAN_BYTES, MAX_SCAN_UPLOADS } from '../services/authority-notices.ts';
import { MAX_EVIDENCE_BYTES, MAX_EVIDENCE_UPLOADS } from '../services/sanctions.ts';
import type { Services } from '../services/index.ts';
import { authErrors, ErrorSchema, IdParams, Page, PageQuery, Uuid } from './schemas.ts';

const Str = Type.String;
const NullStr = Type.Union([Type.String(), Type.Null()]);
const lit = <T extends readonly string[]>(xs: T) =>
  Type.Unsafe<T[number]>(Type.Union(xs.map((x) => Type.Literal(x))));
const Rung = lit(RUNGS);
const BreachKind = lit(BREACH_KINDS);
const Severity = lit(SEVERITIES);
const Protocol = lit(['tcp', 'udp', 'icmp', 'all'] as const);
const Direction = lit(['in', 'out', 'both'] as const);
const NoticeType = lit(['administrative', 'arbitral', 'judicial'] as const);
const tags = ['sanctions'];

const FileInfo = Type.Union([
  Type.Object({ name: Str(), contentType: Str(), size: Type.Integer() }),
  Type.Null(),
]);

const Sanction = Type.Object(
  {
    id: Str(),
    accountId: Str(),
    vpsId: NullStr,
    hostname: NullStr,
    rung: Rung,
    suggestedRung: Rung,
    overrideReason: NullStr,
    breachKind: Str(),
    severity: Severity,
    reason: Str(),
    evidence: Str(),
    evidenceFile: FileInfo,
    protocol: NullStr,
    port: Type.Union([Type.Integer(), Type.Null()]),
    direction: NullStr,
    plannedEnd: NullStr,
    liftCondition: NullStr,
    withheld: Type.Boolean(),
    restoreRefusable: Type.Boolean(),
    noticeId: NullStr,
    appliedBy: Str(),
    appliedAt: Str(),
    liftedAt: NullStr,
    liftedBy: NullStr,
    liftReason: NullStr,
    liftOverride: Type.Boolean(),
    inForce: Type.Boolean(),
  },
  { $id: 'Sanction' },
);

const ClientSanction = Type.Object(
  {
    id: Str(),
    vpsId: NullStr,
    rung: Rung,
    reason: Str(),
    plannedEnd: NullStr,
    liftCondition: NullStr,
    appliedAt: Str(),
  },
  { $id: 'SanctionInForce' },
);

const Suggestion = Type.Object({
  rung: Rung,
  baseRung: Rung,
  recurrences: Type.Integer(),
  seriousCases: Type.Integer(),
  restoreMayBeRefused: Type.Boolean(),
  restriction: Type.Union([
    Type.Object({ protocol: Protocol, port: Type.Optional(Type.Integer()), direction: Direction }),
    Type.Null(),
  ]),
  reinstallNeeded: Type.Boolean(),
});

const Notice = Type.Object(
  {
    id: Str(),
    accountId: Str(),
    vpsId: NullStr,
    authority: Str(),
    type: NoticeType,
    reference: Str(),
    receivedOn: Str(),
    sanctionOrdered: lit(AUTHORITY_RUNGS),
    withheld: Type.Boolean(),
    notes: NullStr,
    scan: Type.Union([
      Type.Object({ name: Str(), contentType: Str(), size: Type.Integer(), sha256: Str() }),
      Type.Null(),
    ]),
    recordedBy: Str(),
    recordedAt: Str(),
  },
  { $id: 'AuthorityNotice' },
);

const RestrictionFields = {
  protocol: Type.Optional(Protocol),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  direction: Type.Optional(Direction),
  plannedEnd: Type.Optional(Str({ format: 'date-time' })),
  liftCondition: Type.Optional(Str({ minLength: 3, maxLength: 1000 })),
};

export function sanctionRoutes(app: App, s: Services): void {
  app.get(
    '/v1/vps/:id/sanctions',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary: 'Sanctions in force on a VPS (its own and its account’s) with their reason and end (R5.1)',
        params: IdParams,
        response: { 200: Type.Array(ClientSanction), ...authErrors },
      },
    },
    async (req) => s.sanctions.inForceOnVps(principalOf(req).scope, req.params.id),
  );

  app.get(
    '/v1/admin/sanctions/suggest',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'The ladder’s rung for a breach of this VPS or account now (R12.5: kind, severity, recurrence; R5.1 refusal)',
        querystring: Type.Object(
          {
            vpsId: Type.Optional(Uuid),
            accountId: Type.Optional(Uuid),
            breachKind: BreachKind,
            severity: Severity,
          },
          { additionalProperties: false },
        ),
        response: { 200: Suggestion, ...authErrors },
      },
    },
    async (req) => s.sanctions.suggest(req.query),
  );

  app.get(
    '/v1/admin/sanctions',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Sanctions applied (history, newest first); filters: account, VPS, in force, notice',
        querystring: Type.Object(
          {
            accountId: Type.Optional(Uuid),
            vpsId: Type.Optional(Uuid),
            noticeId: Type.Optional(Uuid),
            inForce: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Sanction), ...authErrors },
      },
    },
    async (req) => s.sanctions.list(req.query),
  );

  app.get(
    '/v1/admin/sanctions/:id',
    {
      config: { access: 'staff' },
      schema: { tags, summary: 'One sanction', params: IdParams, response: { 200: Sanction, ...authErrors } },
    },
    async (req) => s.sanctions.get(req.params.id),
  );

  app.post(
    '/v1/admin/sanctions',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'Apply a sanction to a VPS or a whole account: the ladder’s rung or another with a reason; applied at once, audited, the client emailed unless withheld. Termination and withheld are an admin’s (403 sanction.termination_admin_only, sanction.withheld_admin_only)',
        body: Type.Object(
          {
            vpsId: Type.Optional(Uuid),
            accountId: Type.Optional(Uuid),
            breachKind: BreachKind,
            severity: Severity,
            rung: Type.Optional(Rung),
            overrideReason: Type.Optional(Str({ maxLength: 1000 })),
            reason: Str({ minLength: 3, maxLength: 1000 }),
            evidence: Str({ minLength: 1, maxLength: 20000 }),
            withheld: Type.Optional(Type.Boolean()),
            ...RestrictionFields,
          },
          { additionalProperties: false },
        ),
        response: { 201: Sanction, ...authErrors },
      },
    },
    async (req, reply) => {
      const { plannedEnd, ...b } = req.body;
      const m = await s.sanctions.apply(
        auditActorOf(req),
        { ...b, ...(plannedEnd ? { plannedEnd: new Date(plannedEnd) } : {}) },
        principalOf(req).scope,
      );
      return reply.status(201).send(m);
    },
  );

  app.post(
    '/v1/admin/sanctions/:id/lift',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'Lift a sanction in force (409 sanction.not_in_force otherwise; 409 sanction.restore_refused after repeated serious cases unless an admin overrides, R5.1); undoes what it applied',
        params: IdParams,
        body: Type.Object(
          { reason: Str({ minLength: 3, maxLength: 1000 }), override: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: Sanction, ...authErrors },
      },
    },
    async (req) =>
      s.sanctions.lift(auditActorOf(req), principalOf(req).scope, req.params.id, {
        reason: req.body.reason,
        ...(req.body.override !== undefined ? { override: req.body.override } : {}),
      }),
  );

  app.get(
    '/v1/admin/sanctions/:id/evidence',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Download a sanction’s evidence file',
        params: IdParams,
        response: { 200: Type.String({ format: 'binary' }), ...authErrors },
      },
    },
    async (req, reply) => {
      const f = await s.sanctions.evidenceFile(req.params.id);
      return sendFile(reply, f);
    },
  );

  app.get(
    '/v1/admin/authority-notices',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Authority notices (R12.6), newest first, with their sanctions in force',
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: {
          200: Page(Type.Intersect([Notice, Type.Object({ sanctionsInForce: Type.Integer() })])),
          ...authErrors,
        },
      },
    },
    async (req) => s.authorityNotices.list({ limit: req.query.limit, cursor: req.query.cursor }),
  );

  app.get(
    '/v1/admin/authority-notices/:id',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'An authority notice with the sanctions it caused',
        params: IdParams,
        response: { 200: Type.Object({ notice: Notice, sanctions: Type.Array(Sanction) }), ...authErrors },
      },
    },
    async (req) => s.authorityNotices.get(req.params.id),
  );

  app.post(
    '/v1/admin/authority-notices',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary:
          'Record an authority notice (R12.6) and apply the sanction it orders at once (restriction, limitation or suspension); withheld: no email to the client',
        body: Type.Object(
          {
            vpsId: Type.Optional(Uuid),
            accountId: Type.Optional(Uuid),
            authority: Str({ minLength: 2, maxLength: 300 }),
            type: NoticeType,
            reference: Str({ minLength: 2, maxLength: 300 }),
            receivedOn: Str({ format: 'date' }),
            sanctionOrdered: lit(AUTHORITY_RUNGS),
            withheld: Type.Boolean(),
            notes: Type.Optional(Str({ maxLength: 5000 })),
            ...RestrictionFields,
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ notice: Notice, sanction: Sanction }), ...authErrors },
      },
    },
    async (req, reply) => {
      const { plannedEnd, ...b } = req.body;
      const r = await s.authorityNotices.record(auditActorOf(req), {
        ...b,
        ...(plannedEnd ? { plannedEnd: new Date(plannedEnd) } : {}),
      });
      return reply.status(201).send(r);
    },
  );

  app.get(
    '/v1/admin/authority-notices/:id/scan',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Download the scan of an authority notice',
        params: IdParams,
        response: { 200: Type.String({ format: 'binary' }), ...authErrors },
      },
    },
    async (req, reply) => sendFile(reply, await s.authorityNotices.scanFile(req.params.id)),
  );

  // Uploads: multipart in this encapsulated scope only (the rest of the API is JSON).
  void app.register(async (child) => {
    const scoped = child as unknown as App;
    await scoped.register(multipart, {
      limits: {
        fileSize: Math.max(MAX_SCAN_BYTES, MAX_EVIDENCE_BYTES) + 1,
        files: 1,
        fields: 0,
        parts: 1,
        fieldSize: 1024,
      },
    });
    const upload = (
      url: string,
      access: 'staff' | 'admin',
      summary: string,
      response: typeof Notice | typeof Sanction,
      store: (
        req: Parameters<typeof auditActorOf>[0],
        id: string,
        file: {
          stream: Readable;
          fileName: string | undefined;
        },
      ) => Promise<unknown>,
    ) =>
      scoped.post(
        url,
        {
          config: { access },
          schema: {
            tags,
            summary,
            consumes: ['multipart/form-data'],
            params: IdParams,
            response: { 201: response, ...authErrors, 406: ErrorSchema, 413: ErrorSchema },
          },
        },
        async (req, reply) => {
          const file = await req.file();
          if (!file)
            return reply.status(400).send({
              code: 'upload.missing',
              message: 'Send the file in a multipart field named "file"',
              field: 'file',
            });
          try {
            const out = await store(req, req.params.id, { stream: file.file, fileName: file.filename });
            return reply.status(201).send(out as never);
          } catch (e) {
            if (isDomainError(e) && (e.code === 'upload.too_large' || e.code === 'upload.too_many'))
              return reply.status(413).send({ code: e.code, message: e.message, field: 'file' });
            throw e;
          }
        },
      );
    upload(
      '/v1/admin/authority-notices/:id/scan',
      'admin',
      `Upload the scan of an authority notice (multipart field "file"; PDF, JPEG or PNG by content; at most ${MAX_SCAN_BYTES / 1024 / 1024} MiB, ${MAX_SCAN_UPLOADS} uploads per notice: 413 beyond)`,
      Notice,
      (req, id, f) => s.authorityNotices.attachScan(auditActorOf(req), id, f),
    );
    upload(
      '/v1/admin/sanctions/:id/evidence',
      'staff',
      `Upload an evidence file for a sanction (multipart field "file"; PDF, JPEG or PNG by content; at most ${MAX_EVIDENCE_BYTES / 1024 / 1024} MiB, ${MAX_EVIDENCE_UPLOADS} uploads per sanction: 413 beyond)`,
      Sanction,
      (req, id, f) => s.sanctions.attachEvidence(auditActorOf(req), id, f),
    );
  });
}

async function sendFile(
  reply: FastifyReply,
  f: { path: string; contentType: string; fileName: string; size: number },
) {
  const stream = createReadStream(f.path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  }).catch(() => {
    throw Object.assign(new Error('file missing'), { statusCode: 500 });
  });
  return reply
    .header('content-type', f.contentType)
    .header('content-length', String(f.size))
    .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(f.fileName)}`)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'private, no-store')
    .send(stream as unknown as string);
}
