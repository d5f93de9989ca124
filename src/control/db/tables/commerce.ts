// Tables of the commerce module: catalogue, orders, invoices, payments, contracts (R11).
import type { Generated } from 'kysely';
import type { Json, Timestamp } from '../column-types.ts';

/** A plan of the catalogue. Prices in integer cents excluding tax; VAT in basis points (2000 = 20 %). */
export interface PlansTable {
  id: Generated<string>;
  code: string;
  name: string;
  vcpus: number;
  memory_mib: number;
  /** Dedicated disk (R2.1). */
  disk_gib: number;
  monthly_price_cents: number;
  vat_rate_bp: number;
  active: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Where a plan is sold. */
export interface PlanDatacentersTable {
  plan_id: string;
  datacenter_id: string;
}

/** An order; the plan's facts and price are copied at order time (a later plan edit changes no order). */
export interface OrdersTable {
  id: Generated<string>;
  account_id: string;
  /** The user who ordered. */
  user_id: string | null;
  plan_id: string;
  datacenter_id: string;
  kind: 'fixed' | 'subscription';
  /** R11.1: the term ordered; null for a subscription (R11.2). */
  term_months: number | null;
  hostname: string;
  /** The client's non-root account on the VPS (R3.4). */
  client_username: string;
  /** The OS template chosen (null: the platform's default image); its image copied at order time. */
  os_template_id: Generated<string | null>;
  os_image: Generated<string | null>;
  plan_code: string;
  plan_name: string;
  vcpus: number;
  memory_mib: number;
  disk_gib: number;
  monthly_price_cents: number;
  vat_rate_bp: number;
  state: 'awaiting_payment' | 'paid' | 'validated' | 'cancelled';
  state_changed_at: Timestamp;
  created_at: Timestamp;
  paid_at: Timestamp | null;
  validated_at: Timestamp | null;
  validated_by: string | null;
  cancelled_at: Timestamp | null;
  cancelled_by: string | null;
  cancel_reason: string | null;
}

/** One row per numbering series (a UTC year), locked while an invoice is issued: gap-free numbers. */
export interface InvoiceCountersTable {
  year: number;
  last_seq: number;
}

export interface InvoicesTable {
  id: Generated<string>;
  /** YYYY-NNNNNN, unique, never reused. */
  number: string;
  year: number;
  seq: number;
  account_id: string;
  /** The order it bills (first invoice), or null (a renewal bills a contract). */
  order_id: string | null;
  contract_id: string | null;
  /** Who is billed, as at issue (the account's name then). */
  customer_name: string;
  issued_at: Timestamp;
  currency: string;
  /** R11.1 / R11.2: the term shown on the invoice. */
  term_kind: 'fixed' | 'subscription';
  term_months: number | null;
  /** The period billed when known (renewals); the first invoice's starts at validation. */
  period_start: Timestamp | null;
  period_end: Timestamp | null;
  net_cents: number;
  vat_rate_bp: number;
  vat_cents: number;
  total_cents: number;
  status: 'issued' | 'paid' | 'void';
  paid_at: Timestamp | null;
  voided_at: Timestamp | null;
  void_reason: string | null;
}

export interface InvoiceLinesTable {
  invoice_id: string;
  position: number;
  description: string;
  quantity: number;
  unit_cents: number;
  total_cents: number;
}

/** One payment per invoice (the amount must match it): a unique index refuses a second. */
export interface PaymentsTable {
  id: Generated<string>;
  invoice_id: string;
  account_id: string;
  method: 'transfer' | 'card' | 'direct_debit' | 'check' | 'cash' | 'webhook';
  reference: string;
  amount_cents: number;
  received_at: Timestamp;
  recorded_at: Timestamp;
  /** Staff email, or "webhook". */
  recorded_by: string;
  source: 'staff' | 'webhook';
  /** The webhook's event id (replay protection), or null. */
  event_id: string | null;
}

/** Every authenticated webhook event, once: a replay (same event id) changes nothing. */
export interface PaymentWebhookEventsTable {
  event_id: string;
  received_at: Timestamp;
  body_sha256: string;
  outcome: string;
  details: Json<Record<string, unknown>>;
}

export interface ContractsTable {
  id: Generated<string>;
  account_id: string;
  order_id: string;
  /** The VPS this contract delivers. */
  vps_id: string;
  plan_id: string;
  datacenter_id: string;
  terms_version: string;
  kind: 'fixed' | 'subscription';
  term_months: number | null;
  started_at: Timestamp;
  /** Start of the billing cycles: the bandwidth quota's anchor (R3.13); = started_at. */
  billing_anchor: Timestamp;
  /** Subscription: renewals are counted from here (start, or the expiry at a switch: R11.3). */
  renewal_anchor: Timestamp | null;
  /** Subscription: months paid since the renewal anchor. */
  periods: number;
  /** The service's current expiry: end of term (R11.1) or of the paid month = next renewal (R11.2). */
  expires_at: Timestamp;
  renewal_stopped_at: Timestamp | null;
  /** The price the contract runs at (renewals bill this, not the plan's later price). */
  monthly_price_cents: number;
  vat_rate_bp: number;
  state: 'active' | 'suspended' | 'ended' | 'terminated';
  state_changed_at: Timestamp;
  ended_at: Timestamp | null;
  created_at: Timestamp;
}

export interface CommerceTables {
  plans: PlansTable;
  plan_datacenters: PlanDatacentersTable;
  orders: OrdersTable;
  invoice_counters: InvoiceCountersTable;
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  payments: PaymentsTable;
  payment_webhook_events: PaymentWebhookEventsTable;
  contracts: ContractsTable;
}
