// The service container: built once per platform (or per test), passed to routes and jobs.
import { createAlertsService } from './alerts.ts';
import { createBackupsService } from './backups.ts';
import { createAuditService } from './audit.ts';
import { createDashboardService } from './dashboard.ts';
import { createFirstRunService } from './first-run.ts';
import { createAuthService } from './auth.ts';
import { createClientsService } from './clients.ts';
import { createCommerceService } from './commerce.ts';
import { createOsTemplatesService } from './os-templates.ts';
import { createMailService } from './mail.ts';
import type { ServiceContext } from './context.ts';
import { createHealthService } from './health.ts';
import { createIdentityService } from './identity.ts';
import { createInfraService } from './infra.ts';
import { createAccessCodesService } from './access-codes.ts';
import { createVpsService } from './vps.ts';
import { createNetworkBlocksService } from './network-blocks.ts';
import { createTrafficService } from './traffic.ts';
import { createRenewalsService } from './renewals.ts';
import { createTerminationsService } from './terminations.ts';
import { createTerminationWorkflow } from './termination-workflow.ts';
import { createSanctionsService } from './sanctions.ts';
import { createAuthorityNoticesService } from './authority-notices.ts';
import { createPlanChangesService } from './plan-changes.ts';
import { createProvisioningService } from './provisioning.ts';
import { createVmEventsService } from './vm-events.ts';
import { createTicketsService } from './tickets.ts';
import { createRetentionService } from './retention.ts';
import { createTicketInbound } from './ticket-inbound.ts';
import { createSpamService } from './spam.ts';
import { createLogStoreService } from './log-store.ts';
import { createDdosService } from './ddos.ts';

export function createServices(ctx: ServiceContext) {
  const audit = createAuditService(ctx);
  const mail = createMailService(ctx, audit);
  const infra = createInfraService(ctx, audit);
  const clients = createClientsService(ctx, audit, mail);
  // R6.1: an account suspension pauses its running VPSs, its lifting resumes them.
  const vps = createVpsService(ctx, audit, clients);
  clients.onSuspensionChange((change) => vps.onSuspensionChange(change));
  const networkBlocks = createNetworkBlocksService(ctx, audit);
  const terminations = createTerminationsService(ctx, audit, { mail, vps, networkBlocks });
  // R12.5: sanctions apply through network blocks, vps.suspend, clients.suspend, terminations.
  const sanctions = createSanctionsService(ctx, audit, {
    mail,
    networkBlocks,
    vps,
    clients,
    terminations: () => terminations,
  });
  const osTemplates = createOsTemplatesService(ctx, audit);
  const commerce = createCommerceService(ctx, audit, { infra, mail, osTemplates });
  const identity = createIdentityService(ctx, audit);
  // R3.12: a plan change's invoice paid starts its 48 h deadline (services/plan-changes.ts).
  // Paid, the contract bills the new plan: its unpaid renewal invoices are issued again at that price.
  const planChanges = createPlanChangesService(ctx, audit, {
    mail,
    clients,
    vps,
    renewals: () => renewals,
  });
  commerce.onInvoicePaid((tx, invoice) => planChanges.onInvoicePaid(tx, invoice));
  // R11.1–R11.3: a contract's term and renewal deadlines, set when it opens; a renewal paid moves its expiry.
  const renewals = createRenewalsService(ctx, audit, { mail, terminations });
  commerce.onContractOpened((tx, contract) => renewals.onContractOpened(tx, contract));
  commerce.onInvoicePaid((tx, invoice) => renewals.onInvoicePaid(tx, invoice));
  // R3.12: a renewal paid at the old price while a change waits: the change's invoice bills that month too.
  renewals.onRenewed((tx, contract, now) => planChanges.onContractRenewed(tx, contract, now));
  const accessCodes = createAccessCodesService(ctx, audit);
  const traffic = createTrafficService(ctx, audit, mail);
  // R3.1, R3.2, R3.4, R2.1: the workflow the `vps.provision` job runs.
  const provisioning = createProvisioningService(ctx, audit, { infra, accessCodes, mail, traffic });
  // R12.4: the deletion the `contract.terminate` job runs at a termination's effective date.
  const terminationWorkflow = createTerminationWorkflow(ctx, audit, { terminations, traffic, infra, mail });
  const tickets = createTicketsService(ctx, audit, { mail });
  // R3.6, R3.7, R12.4: backups; the termination's deletion removes the VPS's repository and key.
  const backups = createBackupsService(ctx, audit, { mail });
  backups.registerTerminationHook(backups);
  // R6.2: the log store; its segments leave with the retention schedule's daily purge.
  const retention = createRetentionService(ctx, audit);
  const logStore = createLogStoreService(ctx, audit);
  retention.addPurger('logStore', (now) => logStore.purgeDue(now));
  return {
    ctx,
    audit,
    backups,
    alerts: createAlertsService(ctx, audit),
    dashboard: createDashboardService(ctx),
    auth: createAuthService(ctx, audit, mail),
    mail,
    health: createHealthService(ctx),
    identity,
    firstRun: createFirstRunService(ctx, { infra, identity, commerce }),
    infra,
    accessCodes,
    traffic,
    provisioning,
    networkBlocks,
    clients,
    commerce,
    osTemplates,
    planChanges,
    renewals,
    vps,
    terminations,
    terminationWorkflow,
    sanctions,
    authorityNotices: createAuthorityNoticesService(ctx, audit, sanctions),
    vmEvents: createVmEventsService(ctx, audit),
    // R4.3, R3.10: the support desk; other modules open tickets with tickets.openForPlatform.
    tickets,
    // R4.3: replies by email, from the inbound SMTP listener (support-smtp.ts).
    ticketInbound: createTicketInbound(ctx, tickets),
    // R12.4: the retention schedule's daily purge and what is held per client.
    // R7.1–R7.6: port-25 statistics, identifications and blocks (owned network blocks).
    spam: createSpamService(ctx, audit, { mail, networkBlocks }),
    retention,
    logStore,
    // R9.1, R9.3, R9.4: DDoS detection each second, tier-1 mitigations with a stored end date.
    ddos: createDdosService(ctx, audit),
  };
}
export type Services = ReturnType<typeof createServices>;
