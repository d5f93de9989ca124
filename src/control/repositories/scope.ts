// Who is asking. Every query a client can reach takes a Scope and filters by its account here,
// in the repository layer, so a forgotten check in a route cannot leak another account's data.
import type { Role } from '../db/schema.ts';

export type Scope =
  | { readonly kind: 'staff'; readonly userId: string; readonly role: Exclude<Role, 'client'> }
  | { readonly kind: 'client'; readonly userId: string; readonly accountId: string };

/** The platform itself (scheduler, jobs, CLI): sees everything. */
export const SYSTEM_SCOPE: Scope = Object.freeze({
  kind: 'staff',
  userId: '00000000-0000-0000-0000-000000000000',
  role: 'admin',
});

export const isStaff = (s: Scope): s is Extract<Scope, { kind: 'staff' }> => s.kind === 'staff';
