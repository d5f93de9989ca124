// Shared TypeBox schemas of the API (they also make the OpenAPI document).
import { Type, type Static, type TSchema } from 'typebox';
import { MAX_PAGE_SIZE } from '../../domain/pagination.ts';
import type { Scope } from '../services/context.ts';
import type { Services } from '../services/index.ts';
import { powerActionsFor, type VpsView } from '../services/vps.ts';

export const ErrorSchema = Type.Object(
  { code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) },
  { $id: 'Error', description: 'Every error: a stable code and a message for people.' },
);

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const Language = Type.Union([Type.Literal('fr'), Type.Literal('en')]);

/** The query parameters of every paginated list (spread into its querystring object). */
export const PageQuery = {
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_PAGE_SIZE,
      description: `Rows per page (default 50, at most ${MAX_PAGE_SIZE})`,
    }),
  ),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: 'The nextCursor of the previous page' }),
  ),
};

/** A page of a list: its rows, and the cursor of the next page (null on the last). */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const MeSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.String(),
    kind: Type.Union([Type.Literal('staff'), Type.Literal('client')]),
    role: Type.Union([Type.Literal('admin'), Type.Literal('support'), Type.Literal('client')]),
    accountId: Type.Union([Type.String(), Type.Null()]),
    language: Language,
    totpEnabled: Type.Boolean(),
  },
  { $id: 'Me' },
);
export type Me = Static<typeof MeSchema>;

/** A user row as services return it (only what `Me` shows). */
type UserFacts = {
  id: string;
  email: string;
  name: string;
  kind: Me['kind'];
  role: Me['role'];
  account_id: string | null;
  language: Me['language'];
  totp_enabled: boolean;
};

export function meOf(u: UserFacts): Me {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    kind: u.kind,
    role: u.role,
    accountId: u.account_id,
    language: u.language,
    totpEnabled: u.totp_enabled,
  };
}

/** The usual error responses of an authenticated route, for the OpenAPI document. */
export const authErrors = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
};

/** A client's account emails (who it may see named in its records); null for staff, who see all. */
export function ownEmailsOf(s: Services, scope: Scope): Promise<ReadonlySet<string> | null> {
  return s.identity.ownEmails(scope);
}

export const VpsSchema = Type.Object(
  {
    id: Type.String(),
    accountId: Type.String(),
    datacenterId: Type.String(),
    hostId: Type.Union([Type.String(), Type.Null()]),
    hostname: Type.String(),
    vcpus: Type.Integer(),
    memoryMiB: Type.Integer(),
    diskGiB: Type.Integer(),
    state: Type.String(),
    /** Staff only: why it is in this state, in the platform's words (null for clients). */
    stateReason: Type.Union([Type.String(), Type.Null()]),
    /** A suspension holds it (its own, apart from the power state, or its account's): no start. */
    suspended: Type.Boolean(),
    stateChangedAt: Type.String(),
    ipv4: Type.Union([Type.String(), Type.Null()]),
    username: Type.String(),
    /** Power actions the caller may ask for now (clients: their subset). */
    actions: Type.Array(Type.String()),
    /** Last provisioning step done and its percent (the panel's live progress, R3.1). */
    provisionStep: Type.Union([Type.String(), Type.Null()]),
    provisionPercent: Type.Integer(),
    createdAt: Type.String(),
  },
  { $id: 'Vps' },
);

/** A VPS as the caller may see it (its suspensions as the VPS service reads them). */
export function vpsOut(v: VpsView, scope: Scope) {
  const flags = v.suspension;
  const client = scope.kind === 'client';
  return {
    id: v.id,
    accountId: v.account_id,
    datacenterId: v.datacenter_id,
    hostId: v.host_id,
    hostname: v.hostname,
    vcpus: v.vcpus,
    memoryMiB: v.memory_mib,
    diskGiB: v.disk_gib,
    state: v.state,
    // The reason names staff, commands and host paths: clients read the state, the suspension
    // flag and their sanctions in force instead.
    stateReason: client ? null : v.state_reason,
    suspended: flags.held || flags.accountSuspended,
    stateChangedAt: v.state_changed_at.toISOString(),
    ipv4: v.ipv4,
    username: v.client_username,
    actions: powerActionsFor(scope, v.state, flags),
    provisionStep: v.provision_step,
    provisionPercent: v.provision_percent,
    createdAt: v.created_at.toISOString(),
  };
}
