// Backups (R3.6, R3.7): staff register targets and see which VPSs have none valid; clients (and
// staff) list a VPS's backups with the restores left this month and ask for a restore.
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams, Page, PageQuery, Uuid } from './schemas.ts';

const Str = Type.String;
const NullStr = Type.Union([Type.String(), Type.Null()]);
const NullInt = Type.Union([Type.Integer(), Type.Null()]);
const tags = ['backups'];
const Kind = Type.Union([Type.Literal('rest'), Type.Literal('sftp')]);

const Target = Type.Object(
  {
    id: Str(),
    name: Str(),
    kind: Kind,
    datacenterId: Str(),
    url: Str({ description: 'The append-only endpoint, password masked' }),
    maxConcurrent: Type.Integer(),
    enabled: Type.Boolean(),
    createdAt: Str(),
  },
  { $id: 'BackupTarget' },
);

const Backup = Type.Object(
  {
    id: Str(),
    state: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
    startedAt: Str(),
    finishedAt: NullStr,
    sizeBytes: NullInt,
    addedBytes: NullInt,
    durationMs: NullInt,
    freezeMs: NullInt,
    consistency: Type.Union([
      Type.Literal('fsfreeze'),
      Type.Literal('crash'),
      Type.Literal('stopped'),
      Type.Null(),
    ]),
    available: Type.Boolean(),
  },
  { $id: 'Backup' },
);

const Restore = Type.Object(
  {
    id: Str(),
    backupId: Str(),
    state: Type.Union([
      Type.Literal('queued'),
      Type.Literal('running'),
      Type.Literal('done'),
      Type.Literal('failed'),
    ]),
    counted: Type.Boolean(),
    requestedAt: Str(),
    finishedAt: NullStr,
    error: NullStr,
  },
  { $id: 'BackupRestore' },
);

export function backupRoutes(app: App, s: Services): void {
  app.post(
    '/v1/admin/backup-targets',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary:
          'Register a backup target (R3.6): a restic REST or SFTP repository server and the datacenter it lives in; endpoints sealed',
        body: Type.Object(
          {
            name: Str({ minLength: 1, maxLength: 80 }),
            kind: Kind,
            datacenterId: Uuid,
            appendUrl: Str({ minLength: 6, maxLength: 500, description: 'append-only endpoint (hosts)' }),
            adminUrl: Str({ minLength: 6, maxLength: 500, description: 'full-access endpoint (platform)' }),
            maxConcurrent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Target, ...authErrors },
      },
    },
    async (req, reply) => {
      reply.code(201);
      return s.backups.createTarget(auditActorOf(req), req.body);
    },
  );

  app.get(
    '/v1/admin/backup-targets',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Backup targets',
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(Target), ...authErrors },
      },
    },
    async (req) => s.backups.listTargets({ limit: req.query.limit, cursor: req.query.cursor }),
  );

  app.get(
    '/v1/admin/backup-targets/figures',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'Per target: repositories, last run, failures in 24 h, oldest kept backup, bytes stored, retention (R3.6)',
        response: {
          200: Type.Array(
            Type.Object({
              id: Str(),
              name: Str(),
              repositories: Type.Integer(),
              lastRun: NullStr,
              failuresLastDay: Type.Integer(),
              oldestBackup: NullStr,
              bytesAdded: Type.Integer(),
              retentionDays: Type.Integer(),
            }),
          ),
          ...authErrors,
        },
      },
    },
    async () => s.backups.targetFigures(),
  );

  app.get(
    '/v1/admin/backups/unprotected',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'Live VPSs without a valid backup target (R3.6): no repository, a disabled target, or one in their own datacenter',
        response: {
          200: Type.Array(
            Type.Object({
              vpsId: Str(),
              hostname: Str(),
              datacenterId: Str(),
              targetId: NullStr,
              reason: Type.Union([
                Type.Literal('no_repository'),
                Type.Literal('same_datacenter'),
                Type.Literal('target_disabled'),
              ]),
            }),
          ),
          ...authErrors,
        },
      },
    },
    async () => s.backups.unprotected(),
  );

  app.post(
    '/v1/admin/vps/:id/backup-repo',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary:
          "Give a VPS its repository on a target (R3.6): refused when the target is in the VPS's datacenter; the key generated and sealed",
        params: IdParams,
        body: Type.Object({ targetId: Uuid }, { additionalProperties: false }),
        response: {
          200: Type.Object({ vpsId: Str(), targetId: Str(), initialized: Type.Boolean() }),
          ...authErrors,
        },
      },
    },
    async (req) => s.backups.assign(auditActorOf(req), req.params.id, req.body.targetId),
  );

  app.post(
    '/v1/admin/vps/:id/backups',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Back a VPS up now (outside its daily slot); answers when done, with its figures',
        params: IdParams,
        response: { 200: Backup, ...authErrors },
      },
    },
    async (req) => s.backups.run(req.params.id, 'staff'),
  );

  app.get(
    '/v1/vps/:id/backups',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary:
          "A VPS's backups, newest first, and the restores its client may still ask for this month (R3.7)",
        params: IdParams,
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            items: Type.Array(Backup),
            nextCursor: NullStr,
            restoresLeftThisMonth: Type.Integer(),
          }),
          ...authErrors,
        },
      },
    },
    async (req) =>
      s.backups.list(principalOf(req).scope, req.params.id, {
        limit: req.query.limit,
        cursor: req.query.cursor,
      }),
  );

  app.get(
    '/v1/vps/:id/restores',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary: "A VPS's restores, newest first, with their state",
        params: IdParams,
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(Restore), ...authErrors },
      },
    },
    async (req) =>
      s.backups.listRestores(principalOf(req).scope, req.params.id, {
        limit: req.query.limit,
        cursor: req.query.cursor,
      }),
  );

  app.post(
    '/v1/vps/:id/restores',
    {
      config: { access: 'any' },
      schema: {
        tags,
        summary:
          "Restore a VPS's whole disk from one of its backups (R3.7): the VM stops, boots on the restored disk; a client's requests: 2 per calendar month (Europe/Paris), staff's not counted",
        params: IdParams,
        body: Type.Object({ backupId: Uuid }, { additionalProperties: false }),
        response: { 202: Restore, ...authErrors },
      },
    },
    async (req, reply) => {
      reply.code(202);
      return s.backups.requestRestore(
        principalOf(req).scope,
        auditActorOf(req),
        req.params.id,
        req.body.backupId,
      );
    },
  );
}
