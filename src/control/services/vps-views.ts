// What the API reads of VPSs: records with their suspensions (a VPS hold, its account's
// suspension), the staff list, a VPS's history and its power actions. Client calls are scoped to
// the account in the repositories: another account's VPS is "not found" (R2.1). Part of the VPS
// service (services/vps.ts), which spreads these reads into its object.
import type { Db } from '../db/database.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';
import type { Scope } from '../repositories/scope.ts';
import { listVpsActions, listVpsForStaff } from '../repositories/vps-actions.ts';
import { suspensionFlags } from '../repositories/vps-holds.ts';
import { getVps, listVps, vpsEvents, type VpsRow } from '../repositories/vps.ts';

/** What suspends a VPS apart from its power state: a hold on it, or its account's suspension. */
export interface VpsSuspension {
  readonly held: boolean;
  readonly accountSuspended: boolean;
}
/** A VPS record with its suspensions, as the API shows it. */
export type VpsView<R extends VpsRow = VpsRow> = R & { readonly suspension: VpsSuspension };

const NOT_SUSPENDED: VpsSuspension = Object.freeze({ held: false, accountSuspended: false });

export function createVpsViews(db: Db) {
  /** The rows with their suspensions, in one query for them all. */
  async function withSuspensions<R extends VpsRow>(rows: readonly R[]): Promise<VpsView<R>[]> {
    const flags = await suspensionFlags(
      db,
      rows.map((v) => v.id),
    );
    return rows.map((v) => ({ ...v, suspension: flags.get(v.id) ?? NOT_SUSPENDED }));
  }

  return {
    withSuspensions,

    /** A page of the caller's VPSs (a client: its account's; staff: all), destroyed ones left out. */
    async list(scope: Scope, page: PageRequest): Promise<Page<VpsView>> {
      const p = await listVps(db, scope, page);
      return { items: await withSuspensions(p.items), nextCursor: p.nextCursor };
    },

    /** One VPS the caller may see. */
    async get(scope: Scope, vpsId: string): Promise<VpsView> {
      return (await withSuspensions([await getVps(db, scope, vpsId)]))[0]!;
    },

    /** Every VPS with its account, datacenter and host names (staff), by state, host or account. */
    async listForStaff(f: { states?: string[]; hostId?: string; accountId?: string }, page: PageRequest) {
      const p = await listVpsForStaff(db, f, page);
      return { items: await withSuspensions(p.items), nextCursor: p.nextCursor };
    },

    /** A VPS's history, newest first (what a client may read of it is services/client-views.ts's). */
    async events(scope: Scope, vpsId: string, page: PageRequest) {
      await getVps(db, scope, vpsId);
      return vpsEvents(db, vpsId, page);
    },

    /** A VPS's latest power actions, newest first. */
    async listActions(scope: Scope, vpsId: string) {
      await getVps(db, scope, vpsId);
      return listVpsActions(db, scope, vpsId);
    },
  };
}
