// One way for API tests to call the app: who acts first, then what. `requests(() => t)` is
// built before `t` exists (test files assign it in before()). A session adds its cookie, and
// its CSRF token on writes; no session is an anonymous call.
import type { InjectOptions } from 'fastify';
import type { Session, TestApp } from './app.ts';

type Method = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export function requests(app: () => TestApp) {
  const inject = (opts: InjectOptions) => app().app.inject(opts);
  const write =
    (method: Method) =>
    (url: string, s?: Session, payload?: object, headers: Record<string, string> = {}) =>
      inject({
        method,
        url,
        ...(payload === undefined && method === 'DELETE' ? {} : { payload: payload ?? {} }),
        headers: { ...(s ? { cookie: s.cookie, 'x-csrf-token': s.csrf } : {}), ...headers },
      });
  return {
    get: (url: string, s?: Session, headers: Record<string, string> = {}) =>
      inject({ method: 'GET', url, headers: { ...(s ? { cookie: s.cookie } : {}), ...headers } }),
    post: write('POST'),
    put: write('PUT'),
    patch: write('PATCH'),
    del: write('DELETE'),
  };
}
