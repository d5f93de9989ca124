// The role table of docs/security.md ("Roles"), route by route: every /v1 route of the app has
// a decision there (a new route without one fails here), every decision names a route that
// exists, and each route called as each role — anonymous, client, support, admin — is refused
// by the access rules exactly where the table says "no" (401 anonymous, 403 auth.forbidden)
// and let through everywhere else (it may then answer 400, 404, 409…: the body is junk and the
// ids are random, so nothing is changed).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';

type Role = 'anonymous' | 'client' | 'support' | 'admin';
type Decision = 'yes' | 'own' | 'no';
const ROLES: readonly Role[] = ['anonymous', 'client', 'support', 'admin'];

/** `METHOD /v1/path` → each role's decision, from the tables of the "Roles" section. */
async function decisionTable(): Promise<Map<string, Record<Role, Decision>>> {
  const text = await readFile(path.join(import.meta.dirname, '..', '..', 'docs', 'security.md'), 'utf8');
  const start = text.indexOf('\n## Roles\n');
  assert.ok(start >= 0, 'docs/security.md has a "## Roles" section');
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const out = new Map<string, Record<Role, Decision>>();
  for (const line of section.split('\n')) {
    const m = /^\|\s*`((?:GET|POST|PUT|PATCH|DELETE) \/v1\/[^`]*)`\s*\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const cells = m[2]!.split('|').map((c) => c.trim());
    assert.equal(cells.length, 5, `${m[1]}: four roles and a reason`);
    const [anonymous, client, support, admin, why] = cells as [string, string, string, string, string];
    for (const [role, d] of [
      ['anonymous', anonymous],
      ['support', support],
      ['admin', admin],
    ] as const)
      assert.ok(d === 'yes' || d === 'no', `${m[1]}: ${role} is yes or no, not "${d}"`);
    assert.ok(['yes', 'own', 'no'].includes(client), `${m[1]}: client is yes, own or no, not "${client}"`);
    assert.ok(why.length > 5, `${m[1]}: the decision says why`);
    assert.ok(!out.has(m[1]!), `${m[1]} has one row`);
    out.set(m[1]!, {
      anonymous: anonymous as Decision,
      client: client as Decision,
      support: support as Decision,
      admin: admin as Decision,
    });
  }
  return out;
}

let t: TestApp;
let table: Map<string, Record<Role, Decision>>;
const sessions = {} as Record<Exclude<Role, 'anonymous'>, Session>;
const relogin: Record<Exclude<Role, 'anonymous'>, () => Promise<Session>> = {} as never;

before(async () => {
  t = await testApp();
  table = await decisionTable();
  const c = await makeClient(t);
  const sp = await makeStaff(t, 'support');
  const ad = await makeStaff(t, 'admin');
  relogin.client = () => login(t, c.email);
  relogin.support = () => login(t, sp.email, { totpSecret: sp.totpSecret });
  relogin.admin = () => login(t, ad.email, { totpSecret: ad.totpSecret });
  for (const r of ['client', 'support', 'admin'] as const) sessions[r] = await relogin[r]();
});
after(async () => t?.close());

const v1Routes = () =>
  t.app.routeTable.filter((r) => r.url.startsWith('/v1/')).map((r) => `${r.method} ${r.url}`);

/** The route's path with its parameters filled: random ids (nothing found), a legal action. */
const concrete = (url: string) =>
  url.replace(/:(\w+)/g, (_m, name: string) => (name === 'action' ? 'start' : randomUUID()));

async function call(key: string, role: Role) {
  const [method, url] = key.split(' ') as [string, string];
  const headers: Record<string, string> = {};
  if (role !== 'anonymous') {
    headers.cookie = sessions[role].cookie;
    headers['x-csrf-token'] = sessions[role].csrf;
  }
  const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  const r = await t.app.inject({
    method: method as 'GET',
    url: concrete(url),
    headers,
    ...(withBody ? { payload: {} } : {}),
  });
  // Logging out ends the session the next calls need.
  if (role !== 'anonymous' && url === '/v1/auth/logout') sessions[role] = await relogin[role]();
  return r;
}

/** Refused by the access rules (not by the route: its own 403s have other codes). */
function refused(r: { statusCode: number; body: string }): boolean {
  let code = '';
  try {
    code = (JSON.parse(r.body) as { code?: string }).code ?? '';
  } catch {
    // Not JSON: a route answered.
  }
  return (
    (r.statusCode === 401 && code === 'auth.unauthenticated') ||
    (r.statusCode === 403 && code === 'auth.forbidden')
  );
}

describe('docs/security.md "Roles": the decision table is the access rules, route by route', () => {
  it('every /v1 route of the app has a decision, and every decision names a route of the app', () => {
    const routes = v1Routes();
    assert.ok(routes.length > 100, `the app's route table (${routes.length} /v1 routes)`);
    const missing = routes.filter((r) => !table.has(r));
    assert.deepEqual(missing, [], 'routes without a decision in docs/security.md');
    const stale = [...table.keys()].filter((k) => !routes.includes(k));
    assert.deepEqual(stale, [], 'decisions for routes the app does not have');
  });

  for (const role of ROLES)
    it(`${role}: refused exactly where the table says no`, async () => {
      const wrong: string[] = [];
      for (const key of v1Routes()) {
        const decision = table.get(key)?.[role];
        if (!decision) continue; // reported by the test above
        const r = await call(key, role);
        const isRefused = refused(r);
        if (decision === 'no' && !isRefused)
          wrong.push(`${key}: ${role} should be refused, got ${r.statusCode} ${r.body.slice(0, 120)}`);
        if (decision !== 'no' && isRefused)
          wrong.push(`${key}: ${role} should be let through, got ${r.statusCode} ${r.body.slice(0, 120)}`);
      }
      assert.deepEqual(wrong, []);
    });
});
