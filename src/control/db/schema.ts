// Typed tables for Kysely. One interface per table; migrations in ./migrations create them.
// The foundation's tables are here; each later module keeps its own in ./tables/<module>.ts,
// and `Database` joins them all.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { Json, Timestamp } from './column-types.ts';
import type { BackupTables } from './tables/backups.ts';
import type { ClientTables } from './tables/clients.ts';
import type { CommerceTables } from './tables/commerce.ts';
import type { InfraTables } from './tables/infra.ts';
import type { MailTables } from './tables/mail.ts';
import type { VpsPowerTables } from './tables/vps-power.ts';
import type { TrafficTables } from './tables/traffic.ts';
import type { RenewalTables } from './tables/renewals.ts';
import type { PlanChangeTables } from './tables/plan-changes.ts';
import type { SanctionsTables } from './tables/sanctions.ts';
import type { TerminationTables } from './tables/terminations.ts';
import type { TicketTables } from './tables/tickets.ts';
import type { LegalRecordTables } from './tables/legal-records.ts';
import type { SpamTables } from './tables/spam.ts';
import type { DdosTables } from './tables/ddos.ts';
import type { OsTemplateTables } from './tables/os-templates.ts';

export type Language = 'fr' | 'en';
export type UserKind = 'staff' | 'client';
export type Role = 'admin' | 'support' | 'client';

export interface AccountsTable {
  id: Generated<string>;
  name: string;
  language: Language;
  created_at: Timestamp;
}

export interface UsersTable {
  id: Generated<string>;
  kind: UserKind;
  role: Role;
  /** Set for client users only (check constraint). */
  account_id: string | null;
  email: string;
  name: string;
  language: Language;
  password_hash: string;
  /** TOTP secret, encrypted with the master key (secretbox). */
  totp_secret_enc: string | null;
  totp_enabled: boolean;
  /** Last TOTP time step used, so a code cannot be replayed. */
  totp_last_step: ColumnType<string | null, number | string | null, number | string | null>;
  created_at: Timestamp;
  disabled_at: Timestamp | null;
  /** When the owner was last mailed about repeated failed logins (once per window). */
  login_alert_at: Timestamp | null;
}

export interface SessionsTable {
  /** sha256 of the cookie token: a stolen database does not give live sessions. */
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiTokensTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  /** sha256 of the token. */
  token_hash: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  /** Refused from this instant on (auth.token_expired). */
  expires_at: Timestamp;
  /** The widest role the token acts with: the caller's role is min(owner's role, this). */
  role: Role;
}

export interface LoginAttemptsTable {
  id: Generated<string>;
  at: Timestamp;
  email: string;
  ip: string;
  /** NULL while the password is being checked: it counts as a failure until decided. */
  success: boolean | null;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: Timestamp;
  actor_user_id: string | null;
  /** Who, in words, kept even if the user is later deleted ("system", "admin@x"). */
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Json<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}

export interface DeadlinesTable {
  id: Generated<string>;
  /** Which handler acts when it falls due ("identity.proof_due", ...). */
  kind: string;
  subject_type: string;
  subject_id: string;
  due_at: Timestamp;
  status: 'pending' | 'done' | 'cancelled' | 'failed';
  payload: Json<Record<string, unknown>>;
  created_at: Timestamp;
  done_at: Timestamp | null;
  attempts: Generated<number>;
  last_error: string | null;
}

export interface MailOutboxTable {
  id: Generated<string>;
  created_at: Timestamp;
  to_address: string;
  subject: string;
  body_text: string;
  body_html: string | null;
  template: string;
  language: Language;
  account_id: string | null;
  status: 'pending' | 'sent' | 'failed';
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  sent_at: Timestamp | null;
  message_id: string | null;
  last_error: string | null;
}

export interface Database
  extends
    InfraTables,
    MailTables,
    ClientTables,
    CommerceTables,
    TrafficTables,
    VpsPowerTables,
    RenewalTables,
    TerminationTables,
    SanctionsTables,
    PlanChangeTables,
    TicketTables,
    LegalRecordTables,
    SpamTables,
    BackupTables,
    DdosTables,
    OsTemplateTables {
  accounts: AccountsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  login_attempts: LoginAttemptsTable;
  audit_log: AuditLogTable;
  deadlines: DeadlinesTable;
  mail_outbox: MailOutboxTable;
}

export type Account = Selectable<AccountsTable>;
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type Session = Selectable<SessionsTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type Deadline = Selectable<DeadlinesTable>;
export type MailOutbox = Selectable<MailOutboxTable>;
