// The typed API client: openapi-fetch over the paths generated from the control plane's
// OpenAPI document (schema.d.ts). Same origin as the panel; the session cookie travels by
// itself, and every write carries the CSRF token from the login/session response.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema.d.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON body of a successful (200) response of `method path`. */
export type ResponseBody<P extends keyof paths, M extends Method> = paths[P] extends {
  [K in M]: { responses: { 200: infer R } };
}
  ? JsonOf<R>
  : never;

export type Session = ResponseBody<'/v1/auth/session', 'get'>;
export type Me = Session['user'];

/** An API failure as the panel handles it: the `{code, message}` body, or a network failure. */
export interface ApiError {
  status: number;
  code: string;
  message: string;
}

let csrfToken: string | null = null;
let onUnauthenticated: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when an authenticated call answers 401 (session expired or revoked elsewhere). */
export function setUnauthenticatedHandler(handler: (() => void) | null): void {
  onUnauthenticated = handler;
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!safeMethods.has(request.method.toUpperCase()) && csrfToken) {
      request.headers.set('x-csrf-token', csrfToken);
    }
    return request;
  },
};

/** Calls whose 401 is an answer in itself, not a sign that the session ended. */
const sessionPaths = new Set(['/v1/auth/login', '/v1/auth/session', '/v1/auth/logout']);

const sessionMiddleware: Middleware = {
  onResponse({ request, response }) {
    if (response.status === 401 && !sessionPaths.has(new URL(request.url).pathname)) {
      onUnauthenticated?.();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' });
api.use(csrfMiddleware, sessionMiddleware);

function toApiError(response: Response | undefined, body: unknown): ApiError {
  const status = response?.status ?? 0;
  if (body && typeof body === 'object' && 'code' in body && typeof body.code === 'string') {
    const message = 'message' in body && typeof body.message === 'string' ? body.message : '';
    return { status, code: body.code, message };
  }
  return {
    status,
    code: status >= 500 ? 'server' : status === 0 ? 'network' : `http_${status}`,
    message: '',
  };
}

export type Result<T> = { ok: true; data: T } | { ok: false; error: ApiError };

/**
 * Runs one openapi-fetch call and folds its outcomes (data, `{code, message}` error,
 * network failure) into a `Result`, so pages handle errors one way.
 */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Result<T>> {
  try {
    const { data, error, response } = await request;
    if (response.ok) return { ok: true, data: data as T };
    return { ok: false, error: toApiError(response, error) };
  } catch {
    return { ok: false, error: { status: 0, code: 'network', message: '' } };
  }
}
