import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams, Language, MeSchema, meOf, Page, PageQuery } from './schemas.ts';

const AccountSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  language: Language,
  createdAt: Type.String(),
});
const AccountRow = Type.Object({
  id: Type.String(),
  name: Type.String(),
  language: Language,
  createdAt: Type.String(),
  users: Type.Integer(),
});
const acc = (a: { id: string; name: string; language: 'fr' | 'en'; created_at: Date }) => ({
  id: a.id,
  name: a.name,
  language: a.language,
  createdAt: a.created_at.toISOString(),
});

export function accountRoutes(app: App, s: Services): void {
  // Client-reachable: scoped to the caller's account in the repository layer.
  app.get(
    '/v1/users/:id',
    {
      config: { access: 'any' },
      schema: {
        tags: ['accounts'],
        summary: 'A user (clients: of their own account)',
        params: IdParams,
        response: { 200: MeSchema, ...authErrors },
      },
    },
    async (req) => meOf(await s.identity.getUser(principalOf(req).scope, req.params.id)),
  );
  app.get(
    '/v1/account',
    {
      config: { access: 'client' },
      schema: {
        tags: ['accounts'],
        summary: 'My client account',
        response: { 200: AccountSchema, ...authErrors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return acc(await s.identity.getAccount(p.scope, p.user.account_id!));
    },
  );
  app.get(
    '/v1/account/users',
    {
      config: { access: 'client' },
      schema: {
        tags: ['accounts'],
        summary: 'The users of my account',
        response: { 200: Type.Array(MeSchema), ...authErrors },
      },
    },
    async (req) => (await s.identity.listUsers(principalOf(req).scope)).map(meOf),
  );

  // Provider console.
  app.get(
    '/v1/admin/accounts',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'Client accounts, oldest first, a page at a time',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(AccountRow), ...authErrors },
      },
    },
    async (req) => {
      const page = await s.identity.listAccounts(req.query);
      return { items: page.items.map((a) => ({ ...acc(a), users: a.users })), nextCursor: page.nextCursor };
    },
  );
  app.post(
    '/v1/admin/accounts',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Create a client account with its first user',
        body: Type.Object(
          {
            accountName: Type.String({ minLength: 1, maxLength: 200 }),
            email: Type.String({ minLength: 3, maxLength: 254 }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            language: Type.Optional(Language),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ account: AccountSchema, user: MeSchema }), ...authErrors },
      },
    },
    async (req, reply) => {
      const r = await s.identity.createClientAccount(req.body, auditActorOf(req));
      return reply.status(201).send({ account: acc(r.account), user: meOf(r.user) });
    },
  );
  app.get(
    '/v1/admin/accounts/:id/users',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['admin'],
        summary: 'Users of a client account',
        params: IdParams,
        response: { 200: Type.Array(MeSchema), ...authErrors },
      },
    },
    async (req) => (await s.identity.listUsers(principalOf(req).scope, req.params.id)).map(meOf),
  );
  app.post(
    '/v1/admin/staff',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Create a staff member (TOTP secret returned once)',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 254 }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            role: Type.Union([Type.Literal('admin'), Type.Literal('support')]),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ user: MeSchema, totpSecret: Type.String(), otpauthUrl: Type.String() }),
          ...authErrors,
        },
      },
    },
    async (req, reply) => {
      const r = await s.identity.createStaff(req.body, auditActorOf(req));
      return reply
        .status(201)
        .send({ user: meOf(r.user), totpSecret: r.totpSecret, otpauthUrl: r.otpauthUrl });
    },
  );
}
