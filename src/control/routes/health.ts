import { Type } from 'typebox';
import type { App } from '../http/types.ts';
import type { Metrics } from '../http/metrics.ts';
import type { Services } from '../services/index.ts';
import { ErrorSchema } from './schemas.ts';

export function healthRoutes(app: App, s: Services, metrics: Metrics): void {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['ops'],
        summary: 'Liveness: the database answers',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), database: Type.Literal('ok') }),
          503: ErrorSchema,
        },
      },
    },
    async (_req, reply) => {
      if (await s.health.databaseAnswers()) return { status: 'ok' as const, database: 'ok' as const };
      return reply
        .status(503)
        .send({ code: 'health.database_unreachable', message: 'The database does not answer' });
    },
  );
  // Prometheus text format. Counters and timings only, no secrets: public like /healthz.
  app.get(
    '/metrics',
    { config: { access: 'public' }, schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: true } },
    async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
