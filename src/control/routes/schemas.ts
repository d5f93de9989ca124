// Shared TypeBox schemas of the API (they also make the OpenAPI document).
import { Type, type Static } from 'typebox';
import type { User } from '../db/schema.ts';
import { accountEmails } from '../repositories/users.ts';
import type { Scope } from '../repositories/scope.ts';
import type { Services } from '../services/index.ts';

export const ErrorSchema = Type.Object(
  { code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) },
  { $id: 'Error', description: 'Every error: a stable code and a message for people.' },
);

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const Language = Type.Union([Type.Literal('fr'), Type.Literal('en')]);

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

export function meOf(u: User): Me {
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
export async function ownEmailsOf(s: Services, scope: Scope): Promise<ReadonlySet<string> | null> {
  return scope.kind === 'client' ? accountEmails(s.ctx.db, scope.accountId) : null;
}
