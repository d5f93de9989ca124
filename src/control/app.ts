// Builds the Fastify app (tests call `inject` on it; server.ts listens). Every route declares
// its access and TypeBox schemas; errors go through one mapper; the panel is served from
// web/dist with a fallback to index.html for client-side routes.
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import pino, { type Logger } from 'pino';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { cookieIsSecure } from './config.ts';
import { accessHook } from './http/access.ts';
import { errorHandler } from './http/errors.ts';
import { createMetrics } from './http/metrics.ts';
import type { App, RouteEntry } from './http/types.ts';
import { accountRoutes } from './routes/accounts.ts';
import { auditRoutes } from './routes/audit.ts';
import { authRoutes } from './routes/auth.ts';
import { clientRoutes } from './routes/clients.ts';
import { catalogueRoutes } from './routes/catalogue.ts';
import { orderRoutes } from './routes/orders.ts';
import { osTemplateRoutes } from './routes/os-templates.ts';
import { invoiceRoutes } from './routes/invoices.ts';
import { contractRoutes } from './routes/contracts.ts';
import { paymentWebhookRoutes } from './routes/payment-webhook.ts';
import { healthRoutes } from './routes/health.ts';
import { infraRoutes } from './routes/infra.ts';
import { hostRoutes } from './routes/hosts.ts';
import { accessCodeRoutes } from './routes/access-codes.ts';
import { mailRoutes } from './routes/mail.ts';
import { renewalRoutes } from './routes/renewals.ts';
import { trafficRoutes } from './routes/traffic.ts';
import { networkBlockRoutes } from './routes/network-blocks.ts';
import { vpsRoutes } from './routes/vps.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { firstRunRoutes } from './routes/first-run.ts';
import { retentionRoutes } from './routes/retention.ts';
import { logStoreRoutes } from './routes/log-store.ts';
import { ddosRoutes } from './routes/ddos.ts';
import { alertRoutes } from './routes/alerts.ts';
import { backupRoutes } from './routes/backups.ts';
import { sanctionRoutes } from './routes/sanctions.ts';
import { terminationRoutes } from './routes/terminations.ts';
import { planChangeRoutes } from './routes/plan-changes.ts';
import { ticketRoutes } from './routes/tickets.ts';
import { spamRoutes } from './routes/spam.ts';
import type { Services } from './services/index.ts';

export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.totp',
  '*.token',
];

/**
 * A request as the logs show it: the path without its query string. Query strings can carry
 * one-time tokens (links mailed before 0012 put them there: /verify?token=…, /access?token=…)
 * and other values a log has no business keeping; new links carry them in the fragment, which
 * browsers never send.
 */
export function requestForLog(req: {
  method: string;
  url: string;
  ip?: string;
  host?: string;
  socket?: { remotePort?: number } | null;
}) {
  const at = req.url.indexOf('?');
  return {
    method: req.method,
    url: at < 0 ? req.url : `${req.url.slice(0, at)}?[query omitted]`,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * One log line per request, when it ends (Fastify writes two: "incoming request" then "request
 * completed"): the request as `requestForLog` shows it, its status and its time in ms — what a
 * person at the terminal reads (pretty-log.ts) and what a collector indexes.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(req)) return;
    const line = {
      req,
      res: { statusCode: reply.statusCode },
      responseTime: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/**
 * The platform's logger: secrets redacted by path (REDACTED_PATHS), requests without query
 * strings. `destination`: where the JSON lines go (stdout by default; `prettyDestination` for
 * a terminal).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { req: requestForLog },
  };
  return destination ? pino(options, destination) : pino(options);
}

export interface AppOptions {
  /** A pino logger (the platform's); unset: no request logs. */
  logger?: FastifyServerOptions['loggerInstance'];
  /** Where the built panel is; unset: <root>/web/dist. */
  webDir?: string;
}

/** More route groups from later issues plug in here. */
export type RouteGroup = (app: App, s: Services) => void;

export async function buildApp(
  services: Services,
  opts: AppOptions = {},
  extraRoutes: RouteGroup[] = [],
): Promise<App> {
  const config = services.ctx.config;
  const app = Fastify({
    // Whatever logger is given, requests are logged without their query string (requestForLog):
    // Fastify's own `req` serializer would log the full URL at info level.
    ...(opts.logger
      ? { loggerInstance: opts.logger.child({}, { serializers: { req: requestForLog } }) }
      : { logger: false }),
    logController: new OneLinePerRequest(),
    // Behind a reverse proxy, req.ip is the client's only when the proxy is listed:
    // proxy-addr walks X-Forwarded-For from the connecting address while it is trusted. Empty:
    // the header is ignored (anyone could write it).
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  const metrics = createMetrics();
  app.decorateRequest('principal', null);
  app.setErrorHandler(errorHandler);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'infogere API', version: '1', description: 'Managed VPS hosting: control plane API.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'infogere_session' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
  });
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    // Fail at start, not in production: every API route states who may call it. Static files
    // of the panel are public.
    if (!route.config?.access) {
      if (route.url.startsWith('/v1/'))
        throw new Error(`route ${String(route.method)} ${route.url} has no config.access`);
      route.config = { ...route.config, access: 'public' };
    }
    // The table of every route and who may call it (test/api/roles.test.ts walks it against
    // docs/security.md). HEAD routes Fastify adds for GET are the GET's.
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routeTable.push({ method, url: route.url, access: route.config.access! });
  });
  app.addHook('onRequest', accessHook(services.auth));
  app.addHook('onResponse', async (req, reply) => metrics.onResponse(req, reply));

  healthRoutes(app, services, metrics);
  authRoutes(app, services, { secure: cookieIsSecure(config) });
  accountRoutes(app, services);
  auditRoutes(app, services);
  clientRoutes(app, services);
  infraRoutes(app, services);
  hostRoutes(app, services);
  accessCodeRoutes(app, services);
  mailRoutes(app, services);
  catalogueRoutes(app, services);
  orderRoutes(app, services);
  osTemplateRoutes(app, services);
  invoiceRoutes(app, services);
  contractRoutes(app, services);
  paymentWebhookRoutes(app, services);
  renewalRoutes(app, services);
  trafficRoutes(app, services);
  networkBlockRoutes(app, services);
  spamRoutes(app, services);
  vpsRoutes(app, services);
  alertRoutes(app, services);
  backupRoutes(app, services);
  sanctionRoutes(app, services);
  terminationRoutes(app, services);
  planChangeRoutes(app, services);
  dashboardRoutes(app, services);
  firstRunRoutes(app, services);
  ticketRoutes(app, services);
  retentionRoutes(app, services);
  logStoreRoutes(app, services);
  ddosRoutes(app, services);
  for (const group of extraRoutes) group(app, services);

  app.get('/v1/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  const webDir = opts.webDir ?? path.join(config.root, 'web', 'dist');
  const hasPanel = existsSync(path.join(webDir, 'index.html'));
  if (hasPanel) await app.register(fastifyStatic, { root: webDir, wildcard: false, index: ['index.html'] });
  app.setNotFoundHandler(async (req, reply) => {
    const p = req.url.split('?')[0] ?? '';
    if (req.method === 'GET' && !p.startsWith('/v1/') && p !== '/metrics' && p !== '/healthz') {
      if (hasPanel) {
        // Built assets that exist are served by @fastify/static; anything else is a client route.
        if (p.startsWith('/assets/'))
          return reply.status(404).send({ code: 'not_found', message: 'No such file' });
        return reply.type('text/html').sendFile('index.html');
      }
      return reply
        .status(503)
        .type('text/plain')
        .send('The panel is not built: run `make up` (or npm run build:web).');
    }
    return reply.status(404).send({ code: 'not_found', message: `No route ${req.method} ${p}` });
  });
  return app;
}
