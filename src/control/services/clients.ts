// Client accounts (R6.1), as other modules and the routes see them: one `services.clients` over
// the sign-up (client-signup.ts), identity data and proofs (identity-proofs.ts) and account
// suspensions (suspensions.ts), plus the account's standing and the provider console's lists.
//
// What an unverified account may do (its sign-up email not confirmed yet): log in, read and
// complete its identity, answer proof requests, ask for a new link. It may not order:
// `assertMayOrder` refuses with 403 `account.email_unverified` (and `account.suspended` for
// a suspended account).
import { identityStatus } from '../../domain/identity.ts';
import { notAllowed } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import {
  findIdentity,
  hasActiveSuspension,
  isEmailUnverified,
  listClients,
  listSuspensions,
} from '../repositories/clients.ts';
import { listRequestsOf } from '../repositories/identity.ts';
import type { Scope } from '../repositories/scope.ts';
import { getAccount, listUsers } from '../repositories/users.ts';
import type { AuditService } from './audit.ts';
import { createSignup } from './client-signup.ts';
import { PROVIDER } from './client-views.ts';
import type { ServiceContext } from './context.ts';
import { createIdentityProofs, identityView } from './identity-proofs.ts';
import type { MailService } from './mail.ts';
import { createSuspensions, suspensionView } from './suspensions.ts';
import type { PageRequest } from '../repositories/pagination.ts';

export type { SuspensionChange, SuspensionListener, SuspensionView } from './suspensions.ts';

export function createClientsService(ctx: ServiceContext, audit: AuditService, mail: MailService) {
  const suspensions = createSuspensions(ctx, audit);
  // recordChanges is for the identity proofs, which suspend and lift in their own transactions.
  const { recordChanges: _recordChanges, ...suspensionsApi } = suspensions;
  const proofs = createIdentityProofs(ctx, audit, mail, suspensions);
  const { viewsOf, ...proofsApi } = proofs;

  return {
    ...createSignup(ctx, audit, mail),
    ...suspensionsApi,
    ...proofsApi,

    // ----- standing: what other modules ask ----------------------------------------------

    isEmailUnverified: (db: Db, accountId: string) => isEmailUnverified(db, accountId),

    /** Ordering needs a confirmed email and no active suspension (commerce calls this). */
    async assertMayOrder(db: Db, accountId: string): Promise<void> {
      if (await isEmailUnverified(db, accountId))
        throw notAllowed(
          'account.email_unverified',
          'Confirm your email address (see the link we sent) before ordering',
        );
      if (await hasActiveSuspension(db, accountId))
        throw notAllowed('account.suspended', 'This account is suspended');
    },

    async standing(scope: Scope, accountId: string) {
      const now = ctx.clock.now();
      const suspensions = await listSuspensions(ctx.db, scope, accountId);
      const requests = await listRequestsOf(ctx.db, scope, accountId);
      return {
        now: now.toISOString(),
        emailVerified: !(await isEmailUnverified(ctx.db, accountId)),
        suspended: suspensions.some((s) => !s.lifted_at),
        identityStatus: identityStatus(
          requests.map((r) => ({ state: r.state, dueAt: r.due_at })),
          now,
        ),
        // A client reads "provider" for who lifted a suspension, never a staff member's email.
        suspensions: suspensions
          .map(suspensionView)
          .map((v) => (scope.kind === 'client' && v.liftedBy !== null ? { ...v, liftedBy: PROVIDER } : v)),
      };
    },

    // ----- the provider console ----------------------------------------------------------

    /** A page of client accounts, soonest open proof deadline first (R6.1). */
    async listClients(page: PageRequest) {
      const now = ctx.clock.now();
      const { items: rows, nextCursor } = await listClients(ctx.db, page);
      return {
        now: now.toISOString(),
        nextCursor,
        items: rows.map((r) => ({
          id: r.id,
          name: r.name,
          language: r.language,
          createdAt: r.created_at.toISOString(),
          contact: r.last_name
            ? {
                lastName: r.last_name,
                firstName: r.first_name ?? '',
                organisation: r.organisation,
                country: r.country ?? '',
                email: r.email ?? '',
              }
            : null,
          emailVerified: !r.email_unverified,
          identityStatus:
            r.open_requests > 0 && r.next_due_at && r.next_due_at <= now
              ? ('overdue' as const)
              : r.open_requests > 0
                ? ('requested' as const)
                : r.approved_requests > 0
                  ? ('verified' as const)
                  : ('none' as const),
          openRequests: r.open_requests,
          nextDueAt: r.next_due_at?.toISOString() ?? null,
          suspended: r.active_suspensions > 0,
        })),
      };
    },

    async clientDetail(scope: Scope, accountId: string) {
      const account = await getAccount(ctx.db, scope, accountId);
      const now = ctx.clock.now();
      const [identity, suspensions, rows, users, unverified] = await Promise.all([
        findIdentity(ctx.db, scope, accountId),
        listSuspensions(ctx.db, scope, accountId),
        listRequestsOf(ctx.db, scope, accountId),
        listUsers(ctx.db, scope, accountId),
        isEmailUnverified(ctx.db, accountId),
      ]);
      return {
        now: now.toISOString(),
        account: {
          id: account.id,
          name: account.name,
          language: account.language,
          createdAt: account.created_at.toISOString(),
        },
        users: users.map((u) => ({ id: u.id, email: u.email, name: u.name })),
        identity: identity ? identityView(identity) : null,
        emailVerified: !unverified,
        suspended: suspensions.some((s) => !s.lifted_at),
        identityStatus: identityStatus(
          rows.map((r) => ({ state: r.state, dueAt: r.due_at })),
          now,
        ),
        suspensions: suspensions.map(suspensionView),
        requests: await viewsOf(ctx.db, rows, now),
      };
    },
  };
}

export type ClientsService = ReturnType<typeof createClientsService>;
