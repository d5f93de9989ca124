import { appendAudit, listAudit, verifyAuditChain, type ChainReport } from '../repositories/audit.ts';
import type { PageRequest } from '../repositories/pagination.ts';
import type { AuditActor, ServiceContext } from './context.ts';

export function createAuditService(ctx: ServiceContext) {
  return {
    record(
      actor: AuditActor,
      action: string,
      target?: { type: string; id: string },
      details?: Record<string, unknown>,
    ) {
      return appendAudit(ctx.db, {
        at: ctx.clock.now(),
        actorUserId: actor.userId,
        actor: actor.label,
        action,
        targetType: target?.type ?? null,
        targetId: target?.id ?? null,
        ip: actor.ip,
        details: details ?? {},
      });
    },
    /** The log, newest first, one page at a time. */
    list(page: PageRequest) {
      return listAudit(ctx.db, page);
    },
    verify(): Promise<ChainReport> {
      return verifyAuditChain(ctx.db);
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
