// Every mail template of the platform: one file per template in this folder, one line here.
// (Templates are data; see ../render.ts. A golden test renders each in French and English.)
import type { MailTemplate } from '../render.ts';
import { accountWelcome } from './account.welcome.ts';
import { authLoginFailures } from './auth-login-failures.ts';
import { identityProofApproved } from './identity-proof-approved.ts';
import { identityProofRejected } from './identity-proof-rejected.ts';
import { identityProofRequested } from './identity-proof-requested.ts';
import { identitySuspended } from './identity-suspended.ts';
import { invoiceIssued } from './invoice-issued.ts';
import { invoiceReissued } from './invoice-reissued.ts';
import { signupVerify } from './signup-verify.ts';
import { trafficThrottled } from './traffic-throttled.ts';
import { vpsAccessCodes } from './vps-access-codes.ts';
import { contractRenewalInvoice } from './contract-renewal-invoice.ts';
import { contractRenewalUnpaid } from './contract-renewal-unpaid.ts';
import { contractTermEnding } from './contract-term-ending.ts';
import { sanctionApplied } from './sanction-applied.ts';
import { sanctionLifted } from './sanction-lifted.ts';
import { contractTerminated } from './contract-terminated.ts';
import { contractTerminationScheduled } from './contract-termination-scheduled.ts';
import { contractTerminationCancelled } from './contract-termination-cancelled.ts';
import { vpsPlanChangeReboot } from './vps-plan-change-reboot.ts';
import { vpsPlanChanged } from './vps-plan-changed.ts';
import { vpsRestoreDone, vpsRestoreFailed, vpsRestoreStarted } from './vps-restore.ts';
import { spamBlocked } from './spam-blocked.ts';
import { spamUnblocked, spamUnblockRefused } from './spam-unblock-decided.ts';

import { ticketOpened } from './ticket-opened.ts';
import { ticketReply } from './ticket-reply.ts';
import { ticketQuote } from './ticket-quote.ts';
import { ticketQuoteInvoiced } from './ticket-quote-invoiced.ts';
import { ticketClosed } from './ticket-closed.ts';
import { ticketMailRefused } from './ticket-mail-refused.ts';
import { ticketClientReplied } from './ticket-client-replied.ts';
export const templates: MailTemplate[] = [
  accountWelcome,
  signupVerify,
  identityProofRequested,
  identityProofRejected,
  identityProofApproved,
  identitySuspended,
  invoiceIssued,
  vpsAccessCodes,
  trafficThrottled,
  contractTermEnding,
  contractRenewalInvoice,
  contractRenewalUnpaid,
  contractTerminationScheduled,
  contractTerminated,
  contractTerminationCancelled,
  sanctionApplied,
  sanctionLifted,
  vpsPlanChangeReboot,
  vpsPlanChanged,
  authLoginFailures,
  invoiceReissued,
  spamBlocked,
  spamUnblocked,
  spamUnblockRefused,
  // Other modules: add your template's line here.
  // R3.7: restores, told before and after.
  vpsRestoreStarted,
  vpsRestoreDone,
  vpsRestoreFailed,
  // R4.3, R3.10: the support desk.
  ticketOpened,
  ticketReply,
  ticketQuote,
  ticketQuoteInvoiced,
  ticketClosed,
  ticketMailRefused,
  ticketClientReplied,
];
