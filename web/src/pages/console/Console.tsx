// The provider console (/console/...): staff only.
import { ConsoleTicketPage, LedgerHistoryPage, TicketQueuePage } from './Tickets.tsx';
import { api, call } from '../../api/client.ts';
import {
  EmptyState,
  ErrorNote,
  Loading,
  LoadMore,
  Page,
  usePagedResource,
  useResource,
} from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { useMe } from '../../session.tsx';
import { AccountPage } from '../Account.tsx';
import { InvoiceDetailPage } from '../client/Invoices.tsx';
import { OrdersConsolePage } from './Orders.tsx';
import { RenewalsPage } from './Renewals.tsx';
import { PaymentsPage } from './Payments.tsx';
import { PlansPage } from './Plans.tsx';
import { NotAllowed, NotFound } from '../Status.tsx';
import { ClientDetailPage, ClientsPage } from './Clients.tsx';
import { IdentityChecksPage } from './IdentityChecks.tsx';
import { NoticesPage } from './Notices.tsx';
import { OutboxPage } from './Outbox.tsx';
import { AlertsPage } from './Alerts.tsx';
import { ConsoleHome } from './Home.tsx';
import { HostsPage } from './Hosts.tsx';
import { ProvisioningPage } from './Provisioning.tsx';
import { ConsoleVpsPage } from './Vps.tsx';
import { ConsoleVpsDetailPage } from './VpsDetail.tsx';
import { NetworkBlocksInForcePage, PoolsPage } from './Network.tsx';
import { VpsNetworkPage } from '../NetworkOfVps.tsx';
import { PlanChangesPage } from './PlanChanges.tsx';
import { TerminationsPage } from './Terminations.tsx';
import { SanctionsPage } from './Sanctions.tsx';
import { AuthorityNoticeDetailPage, AuthorityNoticesPage } from './AuthorityNotices.tsx';

function Audit() {
  const { t, formatDateTime } = useI18n();
  const verify = useResource(() => call(api.GET('/v1/admin/audit/verify')));
  const entries = usePagedResource((cursor) =>
    call(api.GET('/v1/admin/audit', { params: { query: cursor ? { cursor } : {} } })),
  );
  return (
    <Page title={t('nav.console.audit')}>
      <section className="card" aria-labelledby="verify-title">
        <h2 id="verify-title">{t('audit.verifyTitle')}</h2>
        {verify.status === 'loading' ? <Loading /> : null}
        {verify.status === 'error' ? <ErrorNote error={verify.error} /> : null}
        {verify.status === 'ready' ? (
          <p
            className={verify.data.ok ? 'note note-ok' : 'note note-error'}
            role="status"
            data-testid="audit-verify"
            data-ok={String(verify.data.ok)}
          >
            {verify.data.ok
              ? t('audit.verifyOk', { checked: verify.data.checked })
              : t('audit.verifyBad', {
                  id: String(verify.data.firstBadId ?? '?'),
                  checked: verify.data.checked,
                })}
          </p>
        ) : null}
        <button
          type="button"
          className="button-quiet"
          onClick={() => {
            verify.reload();
            entries.reload();
          }}
        >
          {t('audit.verifyAgain')}
        </button>
      </section>
      <section className="card" aria-labelledby="latest-title">
        <h2 id="latest-title">{t('audit.latest')}</h2>
        {entries.status === 'loading' ? <Loading /> : null}
        {entries.status === 'error' ? <ErrorNote error={entries.error} /> : null}
        {entries.status === 'ready' && entries.data.length === 0 ? (
          <EmptyState text={t('common.none')} />
        ) : null}
        {entries.status === 'ready' && entries.data.length > 0 ? (
          <div className="table-wrap">
            <table className="audit">
              <thead>
                <tr>
                  <th scope="col">{t('audit.at')}</th>
                  <th scope="col">{t('audit.actor')}</th>
                  <th scope="col">{t('audit.action')}</th>
                  <th scope="col">{t('audit.target')}</th>
                  <th scope="col">{t('audit.ip')}</th>
                </tr>
              </thead>
              <tbody>
                {entries.data.map((entry) => (
                  <tr key={String(entry.id)}>
                    <td className="nowrap">{formatDateTime(entry.at)}</td>
                    <td>{entry.actor ?? '—'}</td>
                    <td>
                      <code>{entry.action}</code>
                    </td>
                    <td>{entry.target ?? '—'}</td>
                    <td className="nowrap">{entry.ip ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <LoadMore list={entries} />
      </section>
    </Page>
  );
}

export function Console({ path }: { path: string }) {
  const me = useMe();
  const ticket = /^\/console\/tickets\/([0-9a-f-]{36})$/.exec(path);
  if (ticket) return <ConsoleTicketPage id={ticket[1]!} />;
  const ledger = /^\/console\/tickets\/ledger\/([0-9a-f-]{36})$/.exec(path);
  if (ledger) return <LedgerHistoryPage accountId={ledger[1]!} />;
  const invoice = /^\/console\/invoices\/([0-9a-f-]{36})$/.exec(path);
  if (invoice) return <InvoiceDetailPage id={invoice[1]!} />;
  const client = /^\/console\/clients\/([0-9a-f-]{36})$/.exec(path);
  if (client) return <ClientDetailPage id={client[1]!} />;
  const vpsNetwork = /^\/console\/vps\/([0-9a-f-]{36})\/network$/.exec(path);
  if (vpsNetwork) return <VpsNetworkPage id={vpsNetwork[1]!} />;
  const notice = /^\/console\/authority-notices\/([0-9a-f-]{36})$/.exec(path);
  if (notice) return <AuthorityNoticeDetailPage id={notice[1]!} />;
  const vpsDetail = /^\/console\/vps\/([0-9a-f-]{36})$/.exec(path);
  if (vpsDetail) return <ConsoleVpsDetailPage id={vpsDetail[1]!} />;
  switch (path) {
    case '/console':
      return <ConsoleHome />;
    case '/console/tickets':
      return <TicketQueuePage />;
    case '/console/clients':
      return <ClientsPage />;
    case '/console/identity':
      return <IdentityChecksPage />;
    case '/console/hosts':
      return <HostsPage />;
    case '/console/vps':
      return <ConsoleVpsPage />;
    case '/console/provisioning':
      return <ProvisioningPage />;
    case '/console/alerts':
      return <AlertsPage />;
    case '/console/plan-changes':
      return <PlanChangesPage />;
    case '/console/terminations':
      return <TerminationsPage />;
    case '/console/network-blocks':
      return <NetworkBlocksInForcePage />;
    case '/console/sanctions':
      return <SanctionsPage />;
    case '/console/authority-notices':
      return <AuthorityNoticesPage />;
    case '/console/pools':
      return <PoolsPage />;
    case '/console/orders':
      return <OrdersConsolePage />;
    case '/console/renewals':
      return <RenewalsPage />;
    case '/console/payments':
      return <PaymentsPage />;
    case '/console/plans':
      return <PlansPage />;
    case '/console/outbox':
      return <OutboxPage />;
    case '/console/notices':
      return <NoticesPage />;
    case '/console/audit':
      return me.role === 'admin' ? <Audit /> : <NotAllowed />;
    case '/console/account':
      return <AccountPage />;
    default:
      return <NotFound />;
  }
}
