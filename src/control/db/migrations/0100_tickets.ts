import { sql, type Kysely } from 'kysely';

// The support desk (R4.3, R3.10, R3.8's ticket side): tickets, their messages (internal notes
// flagged), attachments (files in the uploads store), the R3.10 time entries and the quotes for
// work beyond the included time, canned replies; and the outbox columns that thread ticket mails
// (Reply-To: the signed reply address; In-Reply-To/References: the ticket's first mail).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tickets (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      number bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
      account_id uuid NOT NULL REFERENCES accounts(id),
      vps_id uuid REFERENCES vps(id),
      contract_id uuid REFERENCES contracts(id),
      kind text NOT NULL CHECK (kind IN ('admin_request','incident_report','billing','abuse')),
      priority text NOT NULL CHECK (priority IN ('low','normal','high','urgent')),
      status text NOT NULL CHECK (status IN ('new','open','waiting_client','waiting_provider','resolved','closed')),
      subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
      source text NOT NULL,
      opened_by_kind text NOT NULL CHECK (opened_by_kind IN ('client','staff','platform')),
      opened_by uuid REFERENCES users(id),
      provider_caused boolean NOT NULL DEFAULT false,
      incident_id uuid,
      assignee_id uuid REFERENCES users(id),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      status_changed_at timestamptz NOT NULL,
      first_response_due_at timestamptz NOT NULL,
      resolution_due_at timestamptz NOT NULL,
      first_response_at timestamptz,
      resolved_at timestamptz,
      closed_at timestamptz,
      thread_message_id text,
      search tsvector GENERATED ALWAYS AS (to_tsvector('simple', subject)) STORED
    )`.execute(db);
  await sql`CREATE INDEX tickets_by_account ON tickets (account_id, created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX tickets_queue ON tickets (status, created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX tickets_by_assignee ON tickets (assignee_id, created_at DESC) WHERE assignee_id IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX tickets_by_incident ON tickets (incident_id) WHERE incident_id IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX tickets_search ON tickets USING gin (search)`.execute(db);
  await sql`CREATE INDEX tickets_stale ON tickets (status_changed_at) WHERE status IN ('waiting_client','resolved')`.execute(
    db,
  );

  await sql`
    CREATE TABLE ticket_messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ticket_id uuid NOT NULL REFERENCES tickets(id),
      author_kind text NOT NULL CHECK (author_kind IN ('client','staff','platform')),
      author_id uuid REFERENCES users(id),
      internal boolean NOT NULL DEFAULT false,
      body text NOT NULL CHECK (length(body) BETWEEN 1 AND 100000),
      via text NOT NULL CHECK (via IN ('panel','api','email','platform')),
      mail_message_id text,
      created_at timestamptz NOT NULL,
      search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
      CHECK (NOT internal OR author_kind = 'staff')
    )`.execute(db);
  await sql`CREATE INDEX ticket_messages_by_ticket ON ticket_messages (ticket_id, created_at, id)`.execute(
    db,
  );
  await sql`CREATE INDEX ticket_messages_search ON ticket_messages USING gin (search)`.execute(db);
  // An inbound mail is stored once, however many times the sender's server hands it over.
  await sql`CREATE UNIQUE INDEX ticket_messages_mail_once ON ticket_messages (ticket_id, mail_message_id) WHERE mail_message_id IS NOT NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE ticket_attachments (
      id uuid PRIMARY KEY,
      ticket_id uuid NOT NULL REFERENCES tickets(id),
      account_id uuid NOT NULL REFERENCES accounts(id),
      uploaded_by_kind text NOT NULL CHECK (uploaded_by_kind IN ('client','staff','platform')),
      uploaded_by uuid REFERENCES users(id),
      path text NOT NULL,
      file_name text NOT NULL,
      content_type text NOT NULL,
      size integer NOT NULL,
      sha256 text NOT NULL,
      created_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX ticket_attachments_by_ticket ON ticket_attachments (ticket_id, created_at)`.execute(
    db,
  );

  await sql`
    CREATE TABLE ticket_quotes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ticket_id uuid NOT NULL REFERENCES tickets(id),
      account_id uuid NOT NULL REFERENCES accounts(id),
      contract_id uuid NOT NULL REFERENCES contracts(id),
      minutes integer NOT NULL CHECK (minutes > 0 AND minutes <= 4800),
      hourly_rate_cents integer NOT NULL CHECK (hourly_rate_cents > 0),
      net_cents integer NOT NULL,
      vat_rate_bp integer NOT NULL,
      description text NOT NULL,
      status text NOT NULL CHECK (status IN ('proposed','accepted','declined','withdrawn')),
      proposed_by uuid NOT NULL REFERENCES users(id),
      proposed_at timestamptz NOT NULL,
      decided_by uuid REFERENCES users(id),
      decided_at timestamptz,
      invoice_id uuid REFERENCES invoices(id)
    )`.execute(db);
  await sql`CREATE INDEX ticket_quotes_by_ticket ON ticket_quotes (ticket_id, proposed_at)`.execute(db);

  await sql`
    CREATE TABLE ticket_time_entries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      ticket_id uuid NOT NULL REFERENCES tickets(id),
      message_id uuid REFERENCES ticket_messages(id),
      account_id uuid NOT NULL REFERENCES accounts(id),
      contract_id uuid REFERENCES contracts(id),
      author_id uuid NOT NULL REFERENCES users(id),
      action text NOT NULL,
      minutes integer NOT NULL CHECK (minutes > 0 AND minutes <= 480),
      included_minutes integer NOT NULL CHECK (included_minutes >= 0),
      quoted_minutes integer NOT NULL CHECK (quoted_minutes >= 0),
      quote_id uuid REFERENCES ticket_quotes(id),
      month_start timestamptz,
      created_at timestamptz NOT NULL,
      edited_at timestamptz,
      CHECK (included_minutes + quoted_minutes <= minutes)
    )`.execute(db);
  await sql`CREATE INDEX ticket_time_by_ticket ON ticket_time_entries (ticket_id, created_at)`.execute(db);
  await sql`CREATE INDEX ticket_time_by_contract_month ON ticket_time_entries (contract_id, month_start)`.execute(
    db,
  );
  await sql`CREATE INDEX ticket_time_by_account ON ticket_time_entries (account_id, created_at DESC, id DESC)`.execute(
    db,
  );

  await sql`
    CREATE TABLE canned_replies (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
      language text NOT NULL CHECK (language IN ('fr','en')),
      body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
      created_by uuid NOT NULL REFERENCES users(id),
      created_at timestamptz NOT NULL
    )`.execute(db);

  await sql`ALTER TABLE mail_outbox ADD COLUMN reply_to text, ADD COLUMN in_reply_to text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE mail_outbox DROP COLUMN reply_to, DROP COLUMN in_reply_to`.execute(db);
  for (const t of [
    'canned_replies',
    'ticket_time_entries',
    'ticket_quotes',
    'ticket_attachments',
    'ticket_messages',
    'tickets',
  ])
    await sql`DROP TABLE ${sql.table(t)}`.execute(db);
}
