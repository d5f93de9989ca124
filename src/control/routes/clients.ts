// Client accounts and identity (R6.1): public sign-up and email verification, the
// client's identity data and standing, proof-of-identity requests and documents, and the
// provider console's clients and identity checks.
import multipart from '@fastify/multipart';
import { createReadStream } from 'node:fs';
import { Type } from 'typebox';
import { isDomainError } from '../../domain/errors.ts';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import { MAX_DOCUMENT_BYTES, MAX_DOCUMENTS_PER_REQUEST } from '../services/identity-proofs.ts';
import type { Services } from '../services/index.ts';
import { authErrors, ErrorSchema, IdParams, Language, PageQuery } from './schemas.ts';

const Str = (max: number, min = 0) => Type.String({ minLength: min, maxLength: max });
const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const AddressInput = Type.Object(
  {
    line1: Str(200, 1),
    line2: Type.Optional(Nullable(Str(200))),
    postalCode: Str(20, 1),
    city: Str(100, 1),
    country: Str(2, 2),
  },
  { additionalProperties: false },
);
const identityFields = {
  lastName: Str(100, 1),
  firstName: Str(100, 1),
  organisation: Type.Optional(Nullable(Str(200))),
  address: AddressInput,
  phone: Str(40, 1),
  email: Str(254, 3),
};
const IdentityInput = Type.Object(identityFields, { additionalProperties: false });

const IdentitySchema = Type.Object(
  {
    lastName: Type.String(),
    firstName: Type.String(),
    organisation: Nullable(Type.String()),
    address: Type.Object({
      line1: Type.String(),
      line2: Nullable(Type.String()),
      postalCode: Type.String(),
      city: Type.String(),
      country: Type.String(),
    }),
    phone: Type.String({ description: 'E.164' }),
    email: Type.String(),
    updatedAt: DateTime,
  },
  { $id: 'Identity' },
);

const ProofKind = Type.Union([
  Type.Literal('identity'),
  Type.Literal('sites'),
  Type.Literal('identity_and_sites'),
]);
const Phase = Type.Union([
  Type.Literal('awaiting_documents'),
  Type.Literal('under_review'),
  Type.Literal('rejected'),
  Type.Literal('overdue'),
  Type.Literal('approved'),
  Type.Literal('cancelled'),
]);
const IdentityStatus = Type.Union([
  Type.Literal('none'),
  Type.Literal('requested'),
  Type.Literal('overdue'),
  Type.Literal('verified'),
]);

const DocumentSchema = Type.Object(
  {
    id: Type.String(),
    requestId: Type.String(),
    fileName: Type.String(),
    contentType: Type.String(),
    sizeBytes: Type.Integer(),
    sha256: Type.String(),
    uploadedAt: DateTime,
    status: Type.Union([Type.Literal('submitted'), Type.Literal('accepted'), Type.Literal('rejected')]),
  },
  { $id: 'IdentityDocument' },
);

const RequestSchema = Type.Object(
  {
    id: Type.String(),
    accountId: Type.String(),
    kind: ProofKind,
    note: Type.String(),
    requestedAt: DateTime,
    dueAt: DateTime,
    termsVersion: Type.String(),
    state: Type.Union([Type.Literal('open'), Type.Literal('approved'), Type.Literal('cancelled')]),
    phase: Phase,
    lastDecision: Nullable(
      Type.Union([Type.Literal('approved'), Type.Literal('rejected'), Type.Literal('cancelled')]),
    ),
    decidedAt: Nullable(DateTime),
    decisionReason: Nullable(Type.String()),
    documents: Type.Array(DocumentSchema),
  },
  { $id: 'IdentityRequest' },
);

const SuspensionSchema = Type.Object(
  {
    id: Type.String(),
    cause: Type.String(),
    referenceId: Nullable(Type.String()),
    reason: Type.String(),
    startedAt: DateTime,
    liftedAt: Nullable(DateTime),
    liftedBy: Nullable(Type.String()),
    liftReason: Nullable(Type.String()),
  },
  { $id: 'Suspension' },
);

const StandingSchema = Type.Object({
  now: DateTime,
  emailVerified: Type.Boolean(),
  suspended: Type.Boolean(),
  identityStatus: IdentityStatus,
  suspensions: Type.Array(SuspensionSchema),
});

const RequestList = Type.Object({ now: DateTime, requests: Type.Array(RequestSchema) });
const OneRequest = Type.Object({ now: DateTime, request: RequestSchema });

const tags = ['clients'];

export function clientRoutes(app: App, s: Services): void {
  // ----- public: sign-up and the email link --------------------------------------------
  app.post(
    '/v1/signup',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary:
          'Sign up: a client account, its first user and its identity (R6.1); a verification link is emailed',
        body: Type.Object(
          {
            accountName: Type.Optional(Str(200)),
            ...identityFields,
            password: Str(1024, 1),
            language: Language,
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            accountId: Type.String(),
            userId: Type.String(),
            email: Type.String(),
            emailVerified: Type.Boolean(),
          }),
          400: ErrorSchema,
          409: ErrorSchema,
          429: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const r = await s.clients.signup(req.body, req.ip);
      return reply
        .status(201)
        .send({ accountId: r.account.id, userId: r.user.id, email: r.user.email, emailVerified: false });
    },
  );

  app.post(
    '/v1/signup/verify',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Confirm the email address with the one-time link’s token (single use, expires)',
        body: Type.Object({ token: Str(200, 1) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ email: Type.String(), verified: Type.Literal(true) }),
          400: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (req) => {
      const user = await s.clients.verifyEmail(req.body.token, req.ip);
      return { email: user.email, verified: true as const };
    },
  );

  // ----- the client's own account ------------------------------------------------------
  app.post(
    '/v1/account/verify/resend',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary: 'Email a new verification link (older ones stop working)',
        response: { 204: Type.Null(), ...authErrors, 429: ErrorSchema },
      },
    },
    async (req, reply) => {
      await s.clients.resendVerification(principalOf(req), req.ip);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/account/standing',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary: 'My account’s standing: email verified, suspensions, identity status',
        response: { 200: StandingSchema, ...authErrors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return s.clients.standing(p.scope, p.user.account_id!);
    },
  );

  app.get(
    '/v1/account/identity',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary: 'My identity data (R6.1); null until given',
        response: { 200: Type.Object({ identity: Nullable(IdentitySchema) }), ...authErrors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return { identity: await s.clients.getIdentity(p.scope, p.user.account_id!) };
    },
  );

  app.put(
    '/v1/account/identity',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary: 'Update my identity data (R6.1): phone stored in E.164, country ISO 3166-1',
        body: IdentityInput,
        response: { 200: Type.Object({ identity: IdentitySchema }), ...authErrors },
      },
    },
    async (req) => ({ identity: await s.clients.updateIdentity(principalOf(req), req.body, req.ip) }),
  );

  app.get(
    '/v1/identity/requests',
    {
      config: { access: 'client' },
      schema: {
        tags,
        summary: 'Proof requests addressed to my account (R6.1), with the server time for countdowns',
        response: { 200: RequestList, ...authErrors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return s.clients.listRequests(p.scope, p.user.account_id!);
    },
  );

  app.get(
    '/v1/identity/requests/:id',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary: 'A proof request (clients: of their own account)',
        params: IdParams,
        response: { 200: OneRequest, ...authErrors },
      },
    },
    async (req) => s.clients.getRequest(principalOf(req).scope, req.params.id),
  );

  // Uploads: multipart in this encapsulated scope only (the rest of the API is JSON).
  void app.register(async (child) => {
    const scoped = child as unknown as App;
    await scoped.register(multipart, {
      // One byte over the limit lets the service see the excess and refuse it with a clear code.
      limits: { fileSize: MAX_DOCUMENT_BYTES + 1, files: 1, fields: 0, parts: 1, fieldSize: 1024 },
    });
    scoped.post(
      '/v1/identity/requests/:id/documents',
      {
        config: { access: 'client' },
        schema: {
          tags,
          summary: `Upload a document for a proof request (multipart field "file"; PDF, JPEG or PNG by content; at most ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB, ${MAX_DOCUMENTS_PER_REQUEST} documents per request: 413 beyond)`,
          consumes: ['multipart/form-data'],
          params: IdParams,
          response: { 201: DocumentSchema, ...authErrors, 406: ErrorSchema, 413: ErrorSchema },
        },
      },
      async (req, reply) => {
        const p = principalOf(req);
        const file = await req.file();
        if (!file)
          return reply.status(400).send({
            code: 'identity.document_missing',
            message: 'Send the document in a multipart field named "file"',
            field: 'file',
          });
        try {
          const doc = await s.clients.uploadDocument(
            p,
            req.params.id,
            { stream: file.file, fileName: file.filename },
            req.ip,
          );
          return reply.status(201).send(doc);
        } catch (e) {
          if (
            isDomainError(e) &&
            (e.code === 'identity.document_too_large' || e.code === 'identity.too_many_documents')
          )
            return reply.status(413).send({ code: e.code, message: e.message, field: 'file' });
          throw e;
        }
      },
    );
  });

  app.get(
    '/v1/identity/documents/:id/content',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary: 'Download a document (its account and staff only; another account gets 404)',
        params: IdParams,
        response: { 200: Type.String({ format: 'binary' }), ...authErrors },
      },
    },
    async (req, reply) => {
      const { path, row } = await s.clients.documentFile(principalOf(req).scope, req.params.id);
      const stream = createReadStream(path);
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      }).catch(() => {
        throw Object.assign(new Error('document file missing'), { statusCode: 500 });
      });
      return reply
        .header('content-type', row.content_type)
        .header('content-length', String(row.size_bytes))
        .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(row.file_name)}`)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, no-store')
        .send(stream as unknown as string);
    },
  );

  // ----- provider console --------------------------------------------------------------
  app.get(
    '/v1/admin/clients',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary:
          'Client accounts with identity status and open proof requests, soonest deadline first, then the others newest first, a page at a time',
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            now: DateTime,
            nextCursor: Nullable(Type.String()),
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                name: Type.String(),
                language: Language,
                createdAt: DateTime,
                contact: Nullable(
                  Type.Object({
                    lastName: Type.String(),
                    firstName: Type.String(),
                    organisation: Nullable(Type.String()),
                    country: Type.String(),
                    email: Type.String(),
                  }),
                ),
                emailVerified: Type.Boolean(),
                identityStatus: IdentityStatus,
                openRequests: Type.Integer(),
                nextDueAt: Nullable(DateTime),
                suspended: Type.Boolean(),
              }),
            ),
          }),
          ...authErrors,
        },
      },
    },
    async (req) => s.clients.listClients({ limit: req.query.limit, cursor: req.query.cursor }),
  );

  app.get(
    '/v1/admin/clients/:id',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'A client account: identity, proof requests, suspensions',
        params: IdParams,
        response: {
          200: Type.Object({
            now: DateTime,
            account: Type.Object({
              id: Type.String(),
              name: Type.String(),
              language: Language,
              createdAt: DateTime,
            }),
            users: Type.Array(Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() })),
            identity: Nullable(IdentitySchema),
            emailVerified: Type.Boolean(),
            suspended: Type.Boolean(),
            identityStatus: IdentityStatus,
            suspensions: Type.Array(SuspensionSchema),
            requests: Type.Array(RequestSchema),
          }),
          ...authErrors,
        },
      },
    },
    async (req) => s.clients.clientDetail(principalOf(req).scope, req.params.id),
  );

  app.get(
    '/v1/admin/identity/requests',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'Open proof requests of every account, soonest deadline first (R6.1)',
        response: {
          200: Type.Object({
            now: DateTime,
            requests: Type.Array(
              Type.Intersect([RequestSchema, Type.Object({ accountName: Type.String() })]),
            ),
          }),
          ...authErrors,
        },
      },
    },
    async () => s.clients.openRequests(),
  );

  app.post(
    '/v1/admin/clients/:id/identity/requests',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary:
          'Ask the client for proof (R6.1): the deadline comes from the terms (72 h); the client is emailed',
        params: IdParams,
        body: Type.Object(
          { kind: ProofKind, note: Type.Optional(Str(2000)) },
          { additionalProperties: false },
        ),
        response: { 201: RequestSchema, ...authErrors },
      },
    },
    async (req, reply) => {
      const r = await s.clients.requestProof(
        req.params.id,
        { kind: req.body.kind, note: req.body.note ?? '' },
        auditActorOf(req),
      );
      return reply.status(201).send(r);
    },
  );

  const decision = (
    verb: 'approve' | 'reject' | 'cancel',
    summary: string,
    body: ReturnType<typeof Type.Object>,
    run: (id: string, text: string | null, actor: ReturnType<typeof auditActorOf>) => Promise<unknown>,
  ) =>
    app.post(
      `/v1/admin/identity/requests/:id/${verb}`,
      {
        config: { access: 'staff' },
        schema: {
          tags: ['admin'],
          summary,
          params: IdParams,
          body,
          response: { 200: OneRequest, ...authErrors },
        },
      },
      async (req) => {
        const b = req.body as { note?: string; reason?: string };
        await run(req.params.id, b.reason ?? b.note ?? null, auditActorOf(req));
        return s.clients.getRequest(principalOf(req).scope, req.params.id);
      },
    );
  decision(
    'approve',
    'Approve the documents sent (R6.1): cancels the deadline, lifts the suspension it caused',
    Type.Object({ note: Type.Optional(Str(2000)) }, { additionalProperties: false }),
    (id, text, actor) => s.clients.approve(id, text, actor),
  );
  decision(
    'reject',
    'Refuse the documents sent, with a reason (emailed); the request stays open and its deadline runs on',
    Type.Object({ reason: Str(2000, 1) }, { additionalProperties: false }),
    (id, text, actor) => s.clients.reject(id, text ?? '', actor),
  );
  decision(
    'cancel',
    'Withdraw a request: no suspension follows; one it caused is lifted',
    Type.Object({ reason: Str(2000, 1) }, { additionalProperties: false }),
    (id, text, actor) => s.clients.cancel(id, text ?? '', actor),
  );
}
