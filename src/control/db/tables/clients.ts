// Tables of the clients module: sign-up and email verification, client identity and
// proof-of-identity requests (R6.1), and account suspensions (a state other modules reuse: unpaid bills
// (R6.5), breaches (R12.3), authority orders (R12.6)).
import type { Generated } from 'kysely';
import type { Timestamp } from '../column-types.ts';

/** R6.1 identity data of a client account (one row per account). */
export interface ClientIdentitiesTable {
  account_id: string;
  last_name: string;
  first_name: string;
  organisation: string | null;
  address_line1: string;
  address_line2: string | null;
  postal_code: string;
  city: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** E.164 (libphonenumber-js). */
  phone: string;
  email: string;
  updated_at: Timestamp;
}

/**
 * One row per self-service sign-up. An account with a row whose `verified_at` is null has not
 * proved its email yet; accounts created by staff have no row (staff vouch for them).
 */
export interface ClientSignupsTable {
  account_id: string;
  user_id: string;
  email: string;
  ip: string;
  created_at: Timestamp;
  verified_at: Timestamp | null;
}

/** One-time email verification links: the token is stored as sha256, usable once, until `expires_at`. */
export interface EmailVerificationsTable {
  id: Generated<string>;
  user_id: string;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

/** Every sign-up attempt (accepted or not), to limit them per address. */
export interface SignupAttemptsTable {
  id: Generated<string>;
  at: Timestamp;
  ip: string;
  email: string;
}

export interface IdentityRequestsTable {
  id: Generated<string>;
  account_id: string;
  kind: 'identity' | 'sites' | 'identity_and_sites';
  note: string;
  requested_by: string | null;
  requested_at: Timestamp;
  due_at: Timestamp;
  /** The terms the deadline comes from (R6.1: 72 h in 2015-06-01). */
  terms_version: string;
  state: 'open' | 'approved' | 'cancelled';
  /** The last staff decision: approve closes; reject keeps the request open. */
  last_decision: 'approved' | 'rejected' | 'cancelled' | null;
  decided_at: Timestamp | null;
  decided_by: string | null;
  decision_reason: string | null;
}

export interface IdentityDocumentsTable {
  id: Generated<string>;
  request_id: string;
  account_id: string;
  file_name: string;
  /** Detected from the bytes (magic numbers), not the declared type. */
  content_type: 'application/pdf' | 'image/jpeg' | 'image/png';
  size_bytes: number;
  sha256: string;
  /** Relative to the data directory: uploads/identity/<accountId>/<uuid>. */
  storage_path: string;
  uploaded_by: string;
  uploaded_at: Timestamp;
  status: 'submitted' | 'accepted' | 'rejected';
}

/** An account-level suspension: active while `lifted_at` is null. */
export interface AccountSuspensionsTable {
  id: Generated<string>;
  account_id: string;
  /** e.g. identity_proof_overdue (R6.1); later: unpaid, breach, authority_order. */
  cause: string;
  /** What caused it (an identity request id, an invoice id…). */
  reference_id: string | null;
  reason: string;
  started_at: Timestamp;
  lifted_at: Timestamp | null;
  lifted_by: string | null;
  lift_reason: string | null;
}

export interface ClientTables {
  client_identities: ClientIdentitiesTable;
  client_signups: ClientSignupsTable;
  email_verifications: EmailVerificationsTable;
  signup_attempts: SignupAttemptsTable;
  identity_requests: IdentityRequestsTable;
  identity_documents: IdentityDocumentsTable;
  account_suspensions: AccountSuspensionsTable;
}
