// Commerce (R11.1, R11.2): what every part of the service shares — its dependencies, the
// inputs it takes, the listeners other modules register, and the audit line appended after a
// commit. The service is services/commerce.ts (its header gives the steps and the lock order).
import type { PaymentMethod } from '../../domain/invoices.ts';
import type { Db } from '../db/database.ts';
import type { ContractRow } from '../repositories/contracts.ts';
import type { InvoiceRow } from '../repositories/invoices.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';
import type { InfraService } from './infra.ts';
import type { OsTemplatesService } from './os-templates.ts';
import type { MailService } from './mail.ts';

export interface CommerceDeps {
  infra: InfraService;
  mail: MailService;
  /** The order form's OS template check (services/os-templates.ts). */
  osTemplates: OsTemplatesService;
}

export interface PlanInput {
  code: string;
  name: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  monthlyPriceCents: number;
  vatRateBp: number;
  active?: boolean;
  datacenterIds: string[];
}

export interface OrderInput {
  planId: string;
  datacenterId: string;
  kind: 'fixed' | 'subscription';
  termMonths?: number | null;
  hostname: string;
  /** The client's account on the VPS (R3.4); default: derived from the orderer's email. */
  username?: string | null;
  /** The OS template chosen; the plan must allow it (default: the platform's default image). */
  osTemplateId?: string | null;
}

export interface PaymentInput {
  method: PaymentMethod;
  reference: string;
  amountCents: number;
  receivedAt?: Date;
}

export const uniqueViolation = (e: unknown, constraint?: string): boolean => {
  const x = e as { code?: string; constraint?: string };
  return x.code === '23505' && (constraint === undefined || x.constraint === constraint);
};

export function createCommerceKit(ctx: ServiceContext, audit: AuditService, deps: CommerceDeps) {
  const now = () => ctx.clock.now();
  /**
   * Called inside the paying transaction once an invoice is paid (e.g. plan changes: R3.12).
   * A listener's mail goes through the outbox in this transaction, last (the notice chain's lock).
   */
  const invoicePaidListeners: ((tx: Db, invoice: InvoiceRow) => Promise<void>)[] = [];
  /** Called inside the validating transaction once a contract is opened (its renewal deadlines: services/renewals.ts). */
  const contractOpenedListeners: ((tx: Db, contract: ContractRow) => Promise<void>)[] = [];

  async function auditAfter(
    actor: AuditActor,
    action: string,
    target: { type: string; id: string },
    details: Record<string, unknown>,
  ) {
    try {
      await audit.record(actor, action, target, details);
    } catch (e) {
      // The fact is committed; a lost audit line is logged loudly rather than failing the request.
      ctx.log.error({ err: e, action, target }, 'audit append failed after commit');
    }
  }

  return { ctx, deps, db: ctx.db, now, auditAfter, invoicePaidListeners, contractOpenedListeners };
}
export type CommerceKit = ReturnType<typeof createCommerceKit>;
