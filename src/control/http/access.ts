// Authentication and authorisation for every route, from its `config.access`:
// a Bearer API token or the session cookie; CSRF header required for cookie-authenticated
// writes; role checks. A route without `access` is refused at start (see app.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, notAllowed } from '../../domain/errors.ts';
import type { AuthService, Principal } from '../services/auth.ts';
import { safeEqual } from '../security/tokens.ts';
import { CSRF_HEADER, SESSION_COOKIE, type Access } from './types.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function accessHook(auth: AuthService) {
  return async function (req: FastifyRequest, reply: FastifyReply): Promise<void> {
    req.principal = null;
    const access: Access | undefined = req.routeOptions.config.access;
    if (access === undefined || access === 'public') return;

    const header = req.headers.authorization;
    let principal: Principal;
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m)
        throw new DomainError('not_allowed', 'auth.bad_token', 'Authorization must be "Bearer <token>"');
      principal = await auth.resolveApiToken(m[1]!);
    } else {
      const token = req.cookies[SESSION_COOKIE];
      if (!token) throw new DomainError('not_allowed', 'auth.unauthenticated', 'Not logged in');
      try {
        principal = await auth.resolveSession(token);
      } catch (e) {
        void reply.clearCookie(SESSION_COOKIE, { path: '/' });
        throw e;
      }
      if (!SAFE_METHODS.has(req.method)) {
        const sent = req.headers[CSRF_HEADER];
        if (typeof sent !== 'string' || !principal.csrfToken || !safeEqual(sent, principal.csrfToken))
          throw notAllowed('auth.csrf', `Missing or wrong ${CSRF_HEADER} header`);
      }
    }
    req.principal = principal;
    await auth.noteConnection(principal, { socket: req.socket, ...sourceOf(req) });
    if (access === 'staff') auth.requireStaff(principal);
    else if (access === 'admin') auth.requireStaff(principal, 'admin');
    else if (access === 'client' && principal.scope.kind !== 'client')
      throw notAllowed('auth.forbidden', 'Client accounts only');
    else if (
      access === 'client_or_admin' &&
      principal.scope.kind === 'staff' &&
      principal.scope.role !== 'admin'
    )
      throw notAllowed('auth.forbidden', 'Clients (their own) and administrators only');
  };
}

/**
 * The client's address and TCP source port; the port only when the client connected directly
 * (through a trusted proxy the socket's port is the proxy's, so none is claimed).
 */
export function sourceOf(req: FastifyRequest): { ip: string; port: number | null } {
  const direct = req.ip === req.socket.remoteAddress;
  return { ip: req.ip, port: direct ? (req.socket.remotePort ?? null) : null };
}

/** The principal of a route whose access is not public. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal)
    throw new DomainError('unexpected_state', 'auth.no_principal', 'Route reached without authentication');
  return req.principal;
}

export function auditActorOf(req: FastifyRequest) {
  const p = req.principal;
  return { userId: p?.user.id ?? null, label: p?.user.email ?? 'anonymous', ip: req.ip };
}
