// The log store (R6.2): the client of a VPS turns it on or off (off by default), reads the line
// for its syslog configuration and its volume per day, and downloads any range of days within
// the 12 months kept (streamed). Staff read the status (support answers questions) but never the
// lines: those go out only through a requisition (R12.6).
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, ErrorSchema, IdParams } from './schemas.ts';

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const StatusSchema = Type.Object({
  enabled: Type.Boolean(),
  syslog: Type.Object({
    host: Type.String(),
    port: Type.Integer(),
    line: Type.Union([Type.String(), Type.Null()]),
  }),
  quotaBytes: Type.Number(),
  usedBytes: Type.Number(),
  warned: Type.Boolean(),
  full: Type.Boolean(),
  days: Type.Array(
    Type.Object({
      day: Type.String(),
      lines: Type.Number(),
      rawBytes: Type.Number(),
      storedBytes: Type.Number(),
      dropped: Type.Number(),
      sealed: Type.Boolean(),
    }),
  ),
});

export function logStoreRoutes(app: App, s: Services): void {
  app.get(
    '/v1/vps/:id/log-store',
    {
      config: { access: 'any' },
      schema: {
        tags: ['log store'],
        summary: 'R6.2: the VPS’s log store: on or off, the syslog line, volume per day',
        params: IdParams,
        response: { 200: StatusSchema, ...authErrors },
      },
    },
    async (req) => s.logStore.status(principalOf(req).scope, req.params.id),
  );

  app.put(
    '/v1/vps/:id/log-store',
    {
      config: { access: 'client' },
      schema: {
        tags: ['log store'],
        summary: 'R6.2: turn the VPS’s log store on or off (the client’s own decision)',
        params: IdParams,
        body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }),
        response: { ...authErrors, 200: StatusSchema, 400: ErrorSchema },
      },
    },
    async (req) => {
      const scope = principalOf(req).scope;
      await s.logStore.setEnabled(scope, req.params.id, req.body.enabled, auditActorOf(req));
      return s.logStore.status(scope, req.params.id);
    },
  );

  app.get(
    '/v1/vps/:id/log-store/download',
    {
      config: { access: 'client' },
      schema: {
        tags: ['log store'],
        summary: 'R6.2: the lines of days from..to (UTC), as received, one per line (streamed)',
        params: IdParams,
        querystring: Type.Object({ from: Day, to: Day }, { additionalProperties: false }),
        response: { ...authErrors, 200: Type.String({ format: 'binary' }), 400: ErrorSchema },
      },
    },
    async (req, reply) => {
      const { from, to } = req.query;
      const stream = await s.logStore.download(principalOf(req).scope, req.params.id, from, to);
      return reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="logs-${from}-${to}.log"`)
        .header('cache-control', 'private, no-store')
        .send(stream as unknown as string);
    },
  );
}
