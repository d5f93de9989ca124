// The retention schedule at work (R12.4, R12.6; domain/retention.ts; connections are recorded by
// services/auth.ts): a daily purge that deletes what reached the end
// of its legal period and only that (idempotent, counts logged and audited), and what is held
// per client for staff.
import { dueCutoff, retentionEnd, RETENTION_SCHEDULE, type RecordKind } from '../../domain/retention.ts';
import {
  accountsEndedBefore,
  contractEndOf,
  heldOf,
  purgeAccountData,
  purgeConnectionRecords,
  purgeIdentity,
  purgeIpAssignments,
} from '../repositories/retention.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { getAccount } from '../repositories/users.ts';
import { createUploadsStore } from '../storage/uploads.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type ServiceContext } from './context.ts';

export interface PurgeCounts {
  identityAccounts: number;
  identityDocuments: number;
  accountUsers: number;
  connections: number;
  ipAssignments: number;
  /** Other stores' purges (the log store's segments), by name. */
  [other: string]: number;
}

/** Another store's daily purge (the log store): returns what it deleted, by name. */
export type Purger = (now: Date) => Promise<Record<string, number>>;

export function createRetentionService(ctx: ServiceContext, audit: AuditService) {
  const uploads = createUploadsStore(ctx.config.dataDir);
  const purgers = new Map<string, Purger>();
  return {
    schedule: () => RETENTION_SCHEDULE,

    /** Another store's purge, run by the same daily job. */
    addPurger(name: string, fn: Purger) {
      purgers.set(name, fn);
    },

    /**
     * Deletes every record whose period has run at `now`, and nothing else. Safe to run twice
     * (the second run finds nothing) and after a crash (each kind in its own transaction).
     */
    async purgeDue(now: Date = ctx.clock.now()): Promise<PurgeCounts> {
      const identity = await inTransaction(ctx.db, async (tx) =>
        purgeIdentity(tx, await accountsEndedBefore(tx, dueCutoff('identity', now))),
      );
      // Files after the rows' commit: a crash between leaves an orphan file, never a row without its file.
      for (const p of identity.documents) await uploads.remove(p);
      const account = await inTransaction(ctx.db, async (tx) =>
        purgeAccountData(tx, await accountsEndedBefore(tx, dueCutoff('account', now)), now),
      );
      const counts: PurgeCounts = {
        identityAccounts: identity.identities,
        identityDocuments: identity.documents.length,
        accountUsers: account.users,
        connections: await purgeConnectionRecords(ctx.db, dueCutoff('connections', now)),
        ipAssignments: await purgeIpAssignments(ctx.db, dueCutoff('ip_assignments', now)),
      };
      for (const [name, fn] of purgers)
        for (const [k, v] of Object.entries(await fn(now))) counts[`${name}.${k}`] = v;
      ctx.log.info({ purged: counts }, 'retention purge');
      if (Object.values(counts).some((v) => v > 0))
        await audit.record(SYSTEM_ACTOR, 'retention.purge', undefined, { ...counts, at: now.toISOString() });
      return counts;
    },

    /** What the provider holds of a client, by kind, and until when (staff view). */
    async heldFor(accountId: string) {
      await getAccount(ctx.db, SYSTEM_SCOPE, accountId); // unknown: 404
      const end = await contractEndOf(ctx.db, accountId);
      const h = await heldOf(ctx.db, accountId);
      const until = (kind: RecordKind) => (end ? retentionEnd(kind, end).toISOString() : null);
      return {
        accountId,
        contractEndedAt: end?.toISOString() ?? null,
        held: [
          { kind: 'identity' as const, count: h.identity + h.identityDocuments, until: until('identity') },
          { kind: 'account' as const, count: h.users - h.purgedUsers, until: until('account') },
          {
            kind: 'connections' as const,
            count: h.connections,
            until: h.oldestConnection ? retentionEnd('connections', h.oldestConnection).toISOString() : null,
          },
          { kind: 'ip_assignments' as const, count: h.ipAssignments, until: null },
          { kind: 'invoices' as const, count: h.invoices, until: null },
        ],
      };
    },
  };
}
export type RetentionService = ReturnType<typeof createRetentionService>;
