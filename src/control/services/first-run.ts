// The first-run setup (docs/first-run.md): what the console's guide needs beyond the ordinary
// routes — this machine's figures, its enrolment as the first host (optionally a lab host in a
// private network namespace), and a test client's VPS ordered, paid and validated in one step
// (R3.1: the order → provisioning path, run by the same services as a real order).
import { randomBytes } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { conflict } from '../../domain/errors.ts';
import { findUserByEmail } from '../repositories/users.ts';
import { findLocalHost } from '../repositories/hosts.ts';
import type { CommerceService } from './commerce.ts';
import type { AuditActor, ServiceContext } from './context.ts';
import type { IdentityService } from './identity.ts';
import type { InfraService } from './infra.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The test client's login (its password is random and never shown: staff act for it). */
export const TEST_CLIENT_EMAIL = 'client.test@infogere.localhost';

export function createFirstRunService(
  ctx: ServiceContext,
  deps: { infra: InfraService; identity: IdentityService; commerce: CommerceService },
) {
  const { db, config } = ctx;
  return {
    /** This machine as a host would be registered: cores, RAM, and the free disk of the data dir. */
    async machine() {
      const fs = await statfs(config.dataDir);
      return {
        hostname: os.hostname(),
        cpuCores: os.availableParallelism(),
        memoryMiB: Math.floor(os.totalmem() / MiB),
        diskGiB: Math.max(1, Math.floor((fs.bavail * fs.bsize) / GiB)),
        dataDir: config.dataDir,
        labNetns: config.labNetns,
        localHost: (await findLocalHost(db))?.name ?? null,
      };
    },

    /**
     * Registers this machine (the in-process agent) as a host. One per platform: a second is a
     * conflict. `lab`: its VMs and network live in the lab namespace, made on first use.
     */
    async enrolThisMachine(
      p: { datacenterId: string; name: string; lab: boolean; cpuOvercommit?: number; ramOvercommit?: number },
      actor: AuditActor,
    ) {
      const m = await this.machine();
      if (m.localHost) throw conflict('host.local_exists', `This machine is already the host ${m.localHost}`);
      return deps.infra.registerHost(
        {
          name: p.name,
          datacenterId: p.datacenterId,
          cpuCores: m.cpuCores,
          memoryMiB: m.memoryMiB,
          diskGiB: m.diskGiB,
          ...(p.cpuOvercommit ? { cpuOvercommit: p.cpuOvercommit } : {}),
          ...(p.ramOvercommit ? { ramOvercommit: p.ramOvercommit } : {}),
          netns: p.lab ? config.labNetns : null,
        },
        actor,
      );
    },

    /**
     * A VPS for the test client (made on first use): ordered as a monthly subscription, its
     * invoice paid in cash with the reference "first-run test" (a real, numbered invoice), then
     * validated — provisioning starts as for any order.
     */
    async testOrder(p: { planId: string; datacenterId: string; hostname: string }, actor: AuditActor) {
      let user = await findUserByEmail(db, TEST_CLIENT_EMAIL);
      if (!user)
        user = (
          await deps.identity.createClientAccount(
            {
              accountName: 'Client test',
              email: TEST_CLIENT_EMAIL,
              name: 'Client test',
              password: randomBytes(24).toString('base64url'),
            },
            actor,
          )
        ).user;
      const scope = { kind: 'client' as const, userId: user.id, accountId: user.account_id! };
      const { order, invoice } = await deps.commerce.placeOrder(
        scope,
        user.id,
        { planId: p.planId, datacenterId: p.datacenterId, kind: 'subscription', hostname: p.hostname },
        actor,
      );
      const paid = await deps.commerce.recordPayment(
        invoice.id,
        { method: 'cash', reference: 'first-run test', amountCents: invoice.total_cents },
        actor,
      );
      const contract = paid.contract ?? (await deps.commerce.validateOrder(order.id, actor)).contract;
      return {
        orderId: order.id,
        invoiceNumber: invoice.number,
        vpsId: contract.vps_id,
        accountId: scope.accountId,
      };
    },
  };
}
export type FirstRunService = ReturnType<typeof createFirstRunService>;
