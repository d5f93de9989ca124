import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Principal } from '../services/auth.ts';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * Who may call a route (docs/security.md, "Roles", gives each route's decision and why):
 * `public` anyone; `any` any logged-in user (a client on its own account's objects only);
 * `client` client users; `staff` support and admins; `admin` admins; `client_or_admin` a client
 * on its own objects, or an admin (support may not: money and contract changes).
 */
export type Access = 'public' | 'any' | 'client' | 'staff' | 'admin' | 'client_or_admin';

/** One route of the app and who may call it (`app.routeTable`). */
export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyInstance {
    routeTable: readonly RouteEntry[];
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const SESSION_COOKIE = 'infogere_session';
export const CSRF_HEADER = 'x-csrf-token';
