// Tables of term and renewal (R11.1, R11.2, R11.3).
import type { Timestamp } from '../column-types.ts';

/** A warning sent before the end of a contract that does not renew: once per contract, expiry and point. */
export interface ContractTermWarningsTable {
  contract_id: string;
  /** The expiry it announced (a later switch or resume makes another expiry, other warnings). */
  expires_at: Timestamp;
  days_before: number;
  sent_at: Timestamp;
  outbox_id: string;
}

/** A renewal invoice (R11.2): the contract and the month it bills. */
export interface RenewalInvoicesTable {
  invoice_id: string;
  contract_id: string;
  period_start: Timestamp;
  period_end: Timestamp;
}

export interface RenewalTables {
  contract_term_warnings: ContractTermWarningsTable;
  renewal_invoices: RenewalInvoicesTable;
}
