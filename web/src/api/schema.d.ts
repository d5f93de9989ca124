/**
 * Hand-written stand-in for the generated schema, matching the API contract of issue 2.
 * Replaced by `node scripts/gen-api-client.ts` output once src/control/openapi.ts exists.
 */

type NoParams = { query?: never; header?: never; path?: never; cookie?: never };
type Json<T> = { headers: { [name: string]: unknown }; content: { 'application/json': T } };
type Empty = { headers: { [name: string]: unknown }; content?: never };
type Err = Json<components['schemas']['Error']>;

export interface paths {
  '/v1/auth/login': {
    parameters: NoParams;
    get?: never;
    put?: never;
    post: {
      parameters: NoParams;
      requestBody: { content: { 'application/json': { email: string; password: string; totp?: string } } };
      responses: { 200: Json<components['schemas']['Session']>; 400: Err; 401: Err; 429: Err };
    };
    delete?: never;
  };
  '/v1/auth/logout': {
    parameters: NoParams;
    get?: never;
    put?: never;
    post: { parameters: NoParams; requestBody?: never; responses: { 204: Empty; 401: Err } };
    delete?: never;
  };
  '/v1/auth/session': {
    parameters: NoParams;
    get: { parameters: NoParams; requestBody?: never; responses: { 200: Json<components['schemas']['Session']>; 401: Err } };
    put?: never;
    post?: never;
    delete?: never;
  };
  '/v1/auth/totp/setup': {
    parameters: NoParams;
    get?: never;
    put?: never;
    post: {
      parameters: NoParams;
      requestBody?: never;
      responses: { 200: Json<{ secret: string; otpauthUrl: string }>; 401: Err; 409: Err };
    };
    delete?: never;
  };
  '/v1/auth/totp/enable': {
    parameters: NoParams;
    get?: never;
    put?: never;
    post: {
      parameters: NoParams;
      requestBody: { content: { 'application/json': { code: string } } };
      responses: { 204: Empty; 400: Err; 401: Err };
    };
    delete?: never;
  };
  '/v1/me/tokens': {
    parameters: NoParams;
    get: { parameters: NoParams; requestBody?: never; responses: { 200: Json<components['schemas']['ApiToken'][]>; 401: Err } };
    put?: never;
    post: {
      parameters: NoParams;
      requestBody: { content: { 'application/json': { name: string } } };
      responses: { 200: Json<{ id: string; name: string; token: string; createdAt: string }>; 400: Err; 401: Err };
    };
    delete?: never;
  };
  '/v1/me/tokens/{id}': {
    parameters: NoParams;
    get?: never;
    put?: never;
    post?: never;
    delete: {
      parameters: { query?: never; header?: never; path: { id: string }; cookie?: never };
      requestBody?: never;
      responses: { 204: Empty; 401: Err; 404: Err };
    };
  };
  '/v1/admin/accounts': {
    parameters: NoParams;
    get: {
      parameters: NoParams;
      requestBody?: never;
      responses: {
        200: Json<{ id: string; name: string; createdAt: string; users: number }[]>;
        401: Err;
        403: Err;
      };
    };
    put?: never;
    post?: never;
    delete?: never;
  };
  '/v1/admin/audit': {
    parameters: NoParams;
    get: {
      parameters: { query?: { limit?: number }; header?: never; path?: never; cookie?: never };
      requestBody?: never;
      responses: {
        200: Json<{ id: string; at: string; actor: string | null; action: string; target: string | null; ip: string | null }[]>;
        401: Err;
        403: Err;
      };
    };
    put?: never;
    post?: never;
    delete?: never;
  };
  '/v1/admin/audit/verify': {
    parameters: NoParams;
    get: {
      parameters: NoParams;
      requestBody?: never;
      responses: { 200: Json<{ ok: boolean; checked: number; firstBadId: string | null }>; 401: Err; 403: Err };
    };
    put?: never;
    post?: never;
    delete?: never;
  };
}

export type webhooks = Record<string, never>;

export interface components {
  schemas: {
    Error: { code: string; message: string };
    Me: {
      id: string;
      email: string;
      name: string;
      kind: 'staff' | 'client';
      role: 'admin' | 'support' | 'client';
      accountId: string | null;
      language: 'fr' | 'en';
      totpEnabled: boolean;
    };
    Session: { user: components['schemas']['Me']; csrfToken: string };
    ApiToken: { id: string; name: string; createdAt: string; lastUsedAt: string | null };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}

export type $defs = Record<string, never>;
export type operations = Record<string, never>;
