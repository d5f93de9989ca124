// The client area (/client/...): the client's own VPS, invoices, tickets and account.
import { Link } from '../../router.tsx';
import { Page } from '../../components/ui.tsx';
import { navFor } from '../../components/Shell.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { useMe } from '../../session.tsx';
import { AccountPage } from '../Account.tsx';
import { CataloguePage } from './Catalogue.tsx';
import { InvoiceDetailPage, InvoicesPage } from './Invoices.tsx';
import { OrdersPage } from './Orders.tsx';
import { IdentityPage } from './Identity.tsx';
import { NotFound } from '../Status.tsx';
import { VpsNetworkPage } from '../NetworkOfVps.tsx';
import { ClientVpsDetailPage } from './VpsDetail.tsx';
import { ClientContractPage } from './Contract.tsx';
import { ClientVpsListPage } from './VpsList.tsx';
import { PlanChangePage } from './PlanChange.tsx';
import { TicketDetailPage, TicketsPage } from './Tickets.tsx';

function Dashboard() {
  const { t } = useI18n();
  const me = useMe();
  return (
    <Page title={t('dashboard.hello', { name: me.name })}>
      <p className="lead">{t('dashboard.clientIntro')}</p>
      {me.totpEnabled ? null : (
        <p className="note">
          {t('dashboard.totpAdvice')} <Link to="/client/account">{t('dashboard.totpAdviceLink')}</Link>
        </p>
      )}
      <ul className="tiles">
        {navFor(me)
          .slice(1)
          .map((item) => (
            <li key={item.path}>
              <Link to={item.path}>{t(item.label)}</Link>
            </li>
          ))}
      </ul>
    </Page>
  );
}

export function ClientArea({ path }: { path: string }) {
  const invoice = /^\/client\/invoices\/([0-9a-f-]{36})$/.exec(path);
  if (invoice) return <InvoiceDetailPage id={invoice[1]!} />;
  const ticket = /^\/client\/tickets\/([0-9a-f-]{36})$/.exec(path);
  if (ticket) return <TicketDetailPage id={ticket[1]!} />;
  const contract = /^\/client\/contracts\/([0-9a-f-]{36})$/.exec(path);
  if (contract) return <ClientContractPage id={contract[1]!} />;
  const vpsNetwork = /^\/client\/vps\/([0-9a-f-]{36})\/network$/.exec(path);
  if (vpsNetwork) return <VpsNetworkPage id={vpsNetwork[1]!} />;
  const vpsPlan = /^\/client\/vps\/([0-9a-f-]{36})\/plan$/.exec(path);
  if (vpsPlan) return <PlanChangePage id={vpsPlan[1]!} />;
  const vpsDetail = /^\/client\/vps\/([0-9a-f-]{36})$/.exec(path);
  if (vpsDetail) return <ClientVpsDetailPage id={vpsDetail[1]!} />;
  switch (path) {
    case '/client':
      return <Dashboard />;
    case '/client/vps':
      return <ClientVpsListPage />;
    case '/client/invoices':
      return <InvoicesPage />;
    case '/client/catalogue':
      return <CataloguePage />;
    case '/client/orders':
      return <OrdersPage />;
    case '/client/tickets':
      return <TicketsPage />;
    case '/client/identity':
      return <IdentityPage />;
    case '/client/account':
      return <AccountPage />;
    default:
      return <NotFound />;
  }
}
