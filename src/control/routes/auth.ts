import { Type } from 'typebox';
import { TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS, TOKEN_MIN_DAYS } from '../../domain/auth.ts';
import { principalOf, sourceOf } from '../http/access.ts';
import { SESSION_COOKIE, type App } from '../http/types.ts';
import { roleOf } from '../services/auth.ts';
import type { Services } from '../services/index.ts';
import { authErrors, ErrorSchema, MeSchema, meOf } from './schemas.ts';

const SessionBody = Type.Object({ user: MeSchema, csrfToken: Type.String() });

export function authRoutes(app: App, s: Services, cookie: { secure: boolean }): void {
  app.post(
    '/v1/auth/login',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Log in; sets the session cookie',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 254 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            totp: Type.Optional(Type.String({ maxLength: 10 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SessionBody, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (req, reply) => {
      const r = await s.auth.login({
        email: req.body.email,
        password: req.body.password,
        totp: req.body.totp,
        ...sourceOf(req),
        userAgent: req.headers['user-agent'],
      });
      void reply.setCookie(SESSION_COOKIE, r.token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: cookie.secure,
        path: '/',
      });
      return { user: meOf(r.user), csrfToken: r.csrfToken };
    },
  );

  app.post(
    '/v1/auth/logout',
    {
      config: { access: 'any' },
      schema: { tags: ['auth'], summary: 'Log out', response: { 204: Type.Null(), ...authErrors } },
    },
    async (req, reply) => {
      await s.auth.logout(principalOf(req), req.ip);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/auth/session',
    {
      config: { access: 'any' },
      schema: {
        tags: ['auth'],
        summary: 'The logged-in user and the CSRF token',
        response: { 200: SessionBody, ...authErrors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      // Through a token, the role it acts with (it may be narrower than the owner's).
      return { user: { ...meOf(p.user), role: roleOf(p) }, csrfToken: p.csrfToken ?? '' };
    },
  );

  app.post(
    '/v1/auth/totp/setup',
    {
      config: { access: 'any' },
      schema: {
        tags: ['auth'],
        summary: 'Start enrolling a TOTP second factor',
        response: { 200: Type.Object({ secret: Type.String(), otpauthUrl: Type.String() }), ...authErrors },
      },
    },
    async (req) => s.auth.totpSetup(principalOf(req)),
  );

  app.post(
    '/v1/auth/totp/enable',
    {
      config: { access: 'any' },
      schema: {
        tags: ['auth'],
        summary: 'Confirm the TOTP second factor with a code',
        body: Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...authErrors },
      },
    },
    async (req, reply) => {
      await s.auth.totpEnable(principalOf(req), req.body.code, req.ip);
      return reply.status(204).send(null);
    },
  );

  const Role = Type.Union([Type.Literal('admin'), Type.Literal('support'), Type.Literal('client')]);
  const TokenSchema = Type.Object({
    id: Type.String(),
    name: Type.String(),
    role: Role,
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    expiresAt: Type.String({ format: 'date-time' }),
    expired: Type.Boolean(),
  });
  app.get(
    '/v1/me/tokens',
    {
      config: { access: 'any' },
      schema: {
        tags: ['auth'],
        summary: 'My API tokens (expired ones too, until revoked), with last use and expiry',
        response: { 200: Type.Array(TokenSchema), ...authErrors },
      },
    },
    async (req) =>
      (await s.auth.listApiTokens(principalOf(req))).map((t) => ({
        id: t.id,
        name: t.name,
        role: t.role,
        createdAt: t.created_at.toISOString(),
        lastUsedAt: t.last_used_at?.toISOString() ?? null,
        expiresAt: t.expires_at.toISOString(),
        expired: t.expired,
      })),
  );
  app.post(
    '/v1/me/tokens',
    {
      config: { access: 'any' },
      schema: {
        tags: ['auth'],
        summary:
          'Create an API token (shown once). Needs the password, and the TOTP code when the user has one (all staff). ' +
          `It expires after expiresInDays (${TOKEN_MIN_DAYS}–${TOKEN_MAX_DAYS}, default ${TOKEN_DEFAULT_DAYS}); ` +
          'its role (default: the caller’s) can be narrower than the caller’s, never wider.',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            totp: Type.Optional(Type.String({ maxLength: 10 })),
            expiresInDays: Type.Optional(
              Type.Integer({ minimum: TOKEN_MIN_DAYS, maximum: TOKEN_MAX_DAYS, default: TOKEN_DEFAULT_DAYS }),
            ),
            role: Type.Optional(Role),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            id: Type.String(),
            name: Type.String(),
            role: Role,
            token: Type.String(),
            createdAt: Type.String({ format: 'date-time' }),
            expiresAt: Type.String({ format: 'date-time' }),
          }),
          ...authErrors,
          429: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const t = await s.auth.createApiToken(principalOf(req), req.body, req.ip);
      return reply.status(201).send({
        id: t.id,
        name: t.name,
        role: t.role,
        token: t.token,
        createdAt: t.created_at.toISOString(),
        expiresAt: t.expires_at.toISOString(),
      });
    },
  );
  app.delete(
    '/v1/me/tokens/:id',
    {
      config: { access: 'any' },
      schema: {
        tags: ['auth'],
        summary: 'Revoke one of my API tokens',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), ...authErrors },
      },
    },
    async (req, reply) => {
      await s.auth.revokeApiToken(principalOf(req), req.params.id, req.ip);
      return reply.status(204).send(null);
    },
  );
}
