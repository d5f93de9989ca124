// Tables of the support desk (R4.3, R3.10, R3.8's ticket side): 0100_tickets.
import type { Generated } from 'kysely';
import type { Timestamp } from '../column-types.ts';
import type { TicketKind, TicketParty, TicketPriority, TicketStatus } from '../../../domain/tickets.ts';

export interface TicketsTable {
  id: Generated<string>;
  /** The number people quote ("#1234"); never reused. */
  number: Generated<string>;
  account_id: string;
  vps_id: string | null;
  /** The contract of the VPS when the ticket was opened: whose included time (R3.10) it uses. */
  contract_id: string | null;
  kind: TicketKind;
  priority: TicketPriority;
  status: TicketStatus;
  subject: string;
  /** panel, api, email, staff, supervision, incident, works. */
  source: string;
  opened_by_kind: TicketParty;
  opened_by: string | null;
  /** Caused by the provider (a host incident, supervision): never consumes the client's time (R3.10). */
  provider_caused: Generated<boolean>;
  /** An external record the ticket belongs to (a host incident, R4.1); no foreign key here. */
  incident_id: string | null;
  assignee_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  status_changed_at: Timestamp;
  first_response_due_at: Timestamp;
  resolution_due_at: Timestamp;
  first_response_at: Timestamp | null;
  resolved_at: Timestamp | null;
  closed_at: Timestamp | null;
  /** The Message-ID of the ticket's first mail: later mails thread under it (In-Reply-To). */
  thread_message_id: string | null;
}

export interface TicketMessagesTable {
  id: Generated<string>;
  ticket_id: string;
  author_kind: TicketParty;
  author_id: string | null;
  /** Staff-only note: never shown to the client, never mailed. */
  internal: Generated<boolean>;
  body: string;
  via: 'panel' | 'api' | 'email' | 'platform';
  /** An inbound mail's Message-ID (stored once per ticket). */
  mail_message_id: string | null;
  created_at: Timestamp;
}

export interface TicketAttachmentsTable {
  id: string;
  ticket_id: string;
  account_id: string;
  uploaded_by_kind: TicketParty;
  uploaded_by: string | null;
  /** Relative to the data directory: uploads/tickets/<accountId>/<id>. */
  path: string;
  file_name: string;
  content_type: string;
  size: number;
  sha256: string;
  created_at: Timestamp;
}

export interface TicketQuotesTable {
  id: Generated<string>;
  ticket_id: string;
  account_id: string;
  contract_id: string;
  minutes: number;
  hourly_rate_cents: number;
  net_cents: number;
  vat_rate_bp: number;
  description: string;
  status: 'proposed' | 'accepted' | 'declined' | 'withdrawn';
  proposed_by: string;
  proposed_at: Timestamp;
  decided_by: string | null;
  decided_at: Timestamp | null;
  invoice_id: string | null;
}

/** R3.10: the minutes a staff member spent, per reply or action. */
export interface TicketTimeEntriesTable {
  id: Generated<string>;
  ticket_id: string;
  message_id: string | null;
  account_id: string;
  contract_id: string | null;
  author_id: string;
  /** reply, note, status, assign… */
  action: string;
  minutes: number;
  /** Of which taken from the month's included time (0 when the ticket does not consume it). */
  included_minutes: number;
  /** Of which covered by an accepted quote. */
  quoted_minutes: number;
  quote_id: string | null;
  /** The contract's billing month the included minutes were taken from. */
  month_start: Timestamp | null;
  created_at: Timestamp;
  edited_at: Timestamp | null;
}

export interface CannedRepliesTable {
  id: Generated<string>;
  title: string;
  language: 'fr' | 'en';
  body: string;
  created_by: string;
  created_at: Timestamp;
}

export interface TicketTables {
  tickets: TicketsTable;
  ticket_messages: TicketMessagesTable;
  ticket_attachments: TicketAttachmentsTable;
  ticket_quotes: TicketQuotesTable;
  ticket_time_entries: TicketTimeEntriesTable;
  canned_replies: CannedRepliesTable;
}
