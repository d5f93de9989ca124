// Hypervisor hosts (R2.1, R2.2): every `/v1/admin/hosts*` route in one place — the hosts and
// what is placed on them, registration, a host's live figures from its driver, what it holds
// that no VPS owns (orphans, R12.4), and which counter its VPSs' quotas read (R3.13).
import { Type } from 'typebox';
import { auditActorOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams } from './schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const Host = Type.Object({
  id: Type.String(),
  name: Type.String(),
  datacenterId: Type.String(),
  state: Type.String(),
  cpuCores: Type.Integer(),
  memoryMiB: Type.Integer(),
  diskGiB: Type.Integer(),
  cpuOvercommit: Type.Number(),
  ramOvercommit: Type.Number(),
  vcpusPlaced: Type.Integer(),
  memoryMiBPlaced: Type.Integer(),
  diskGiBPlaced: Type.Integer(),
  vpsCount: Type.Integer(),
});
const HostLive = Type.Object({
  cores: Type.Integer(),
  cpuRatio: Type.Number(),
  memoryMiB: Type.Integer(),
  ramRatio: Type.Number(),
  vcpusPlaced: Type.Integer(),
  memoryMiBPlaced: Type.Integer(),
  diskFreeBytes: Type.Number(),
  diskReservedBytes: Type.Number(),
  vms: Type.Integer(),
  accel: Type.Union([Type.Literal('kvm'), Type.Literal('tcg')]),
  accelReason: Type.String(),
  qemuVersion: Type.String(),
});
const HostDetail = Type.Object({
  id: Type.String(),
  name: Type.String(),
  datacenterId: Type.String(),
  state: Type.String(),
  cpuCores: Type.Integer(),
  memoryMiB: Type.Integer(),
  diskGiB: Type.Integer(),
  cpuOvercommit: Type.Number(),
  ramOvercommit: Type.Number(),
  vcpusPlaced: Type.Integer(),
  memoryMiBPlaced: Type.Integer(),
  diskGiBPlaced: Type.Integer(),
  vpsCount: Type.Integer(),
  agent: Type.String(),
  /** The agent is open in this control plane (figures below come from the driver). */
  agentOpen: Type.Boolean(),
  live: Nullable(HostLive),
});
const Orphans = Type.Object({
  processes: Type.Array(
    Type.Object({ pid: Type.Integer(), vmId: Type.String(), cmdline: Type.Array(Type.String()) }),
  ),
  sockets: Type.Array(Type.String()),
  disks: Type.Array(Type.String()),
  stateDirs: Type.Array(Type.String()),
  taps: Type.Array(Type.String()),
});

export function hostRoutes(app: App, s: Services): void {
  app.get(
    '/v1/admin/hosts',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['infra'],
        summary: 'Hypervisor hosts and what is placed on them',
        response: { 200: Type.Array(Host), ...authErrors },
      },
    },
    async () => s.infra.hostLoads(),
  );
  app.post(
    '/v1/admin/hosts',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['infra'],
        summary: 'Register a hypervisor host (R2.2: overcommit ratios default to the settings)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9.-]*$' }),
            datacenterId: Type.String({ format: 'uuid' }),
            cpuCores: Type.Integer({ minimum: 1, maximum: 4096 }),
            memoryMiB: Type.Integer({ minimum: 256 }),
            diskGiB: Type.Integer({ minimum: 1 }),
            cpuOvercommit: Type.Optional(Type.Number({ minimum: 1, maximum: 64 })),
            ramOvercommit: Type.Optional(Type.Number({ minimum: 1, maximum: 8 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Host, ...authErrors },
      },
    },
    async (req, reply) => {
      const h = await s.infra.registerHost(req.body, auditActorOf(req));
      return reply.status(201).send((await s.infra.hostLoads()).find((x) => x.id === h.id)!);
    },
  );
  app.get(
    '/v1/admin/hosts/:id',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['infra'],
        summary:
          'A host: what is placed on it (R2.1, R2.2) and, when its agent is open, the driver’s own figures',
        params: IdParams,
        response: { 200: HostDetail, ...authErrors },
      },
    },
    async (req) => s.vps.hostDetail(req.params.id),
  );
  app.get(
    '/v1/admin/hosts/:id/orphans',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['infra'],
        summary: 'What the host holds that no VPS owns: QEMU processes, sockets, disks, state dirs, taps',
        params: IdParams,
        response: { 200: Orphans, ...authErrors },
      },
    },
    async (req) => s.vps.orphans(req.params.id),
  );
  app.post(
    '/v1/admin/hosts/:id/orphans/clean',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['infra'],
        summary:
          'Stops orphan processes, removes their sockets and state, wipes then removes orphan disks (R12.4); taps are only listed',
        params: IdParams,
        response: { 200: Orphans, ...authErrors },
      },
    },
    async (req) => s.vps.cleanOrphans(req.params.id, auditActorOf(req)),
  );
  app.put(
    '/v1/admin/hosts/:id/traffic-source',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['traffic'],
        summary: 'Which counting source the quota of this host’s VPSs reads: tap (default) or snmp',
        params: IdParams,
        body: Type.Object(
          { source: Type.Union([Type.Literal('tap'), Type.Literal('snmp')]) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ hostId: Type.String(), source: Type.String() }), ...authErrors },
      },
    },
    async (req) => {
      await s.traffic.setHostSource(req.params.id, req.body.source, auditActorOf(req));
      return { hostId: req.params.id, source: req.body.source };
    },
  );
}
