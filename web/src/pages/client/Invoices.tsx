// The client's invoices and one invoice's detail (R11.1: the term is on it); the printable
// page is served by the API (/v1/invoices/{id}/print).
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
import { Link } from '../../router.tsx';
import { formatMoney, formatRate, invoiceStatusLabel, termLabel } from './InvoicesFormat.tsx';

export function InvoicesPage({ base = '/client/invoices' }: { base?: string }) {
  const { t, language, formatDateTime } = useI18n();
  const invoices = usePagedResource((cursor) =>
    call(api.GET('/v1/invoices', { params: { query: cursor ? { cursor } : {} } })),
  );
  return (
    <Page title={t('nav.client.invoices')}>
      {invoices.status === 'loading' ? <Loading /> : null}
      {invoices.status === 'error' ? <ErrorNote error={invoices.error} /> : null}
      {invoices.status === 'ready' && invoices.data.length === 0 ? (
        <EmptyState text={t('commerce.noInvoices')} />
      ) : null}
      {invoices.status === 'ready' && invoices.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="invoices">
            <thead>
              <tr>
                <th scope="col">{t('commerce.number')}</th>
                <th scope="col">{t('commerce.issuedAt')}</th>
                <th scope="col">{t('commerce.duration')}</th>
                <th scope="col" className="num">
                  {t('commerce.totalInclVat')}
                </th>
                <th scope="col">{t('commerce.status')}</th>
              </tr>
            </thead>
            <tbody>
              {invoices.data.map((i) => (
                <tr key={i.id} data-status={i.status}>
                  <td>
                    <Link to={`${base}/${i.id}`}>{i.number}</Link>
                  </td>
                  <td className="nowrap">{formatDateTime(i.issuedAt)}</td>
                  <td>{termLabel(t, i.termKind, i.termMonths)}</td>
                  <td className="num">{formatMoney(i.totalCents, language)}</td>
                  <td>
                    <span className="badge">{invoiceStatusLabel(t, i.status)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <LoadMore list={invoices} />
    </Page>
  );
}

export function InvoiceDetailPage({ id }: { id: string }) {
  const { t, language, formatDateTime } = useI18n();
  const invoice = useResource(() => call(api.GET('/v1/invoices/{id}', { params: { path: { id } } })));
  if (invoice.status === 'loading') return <Loading />;
  if (invoice.status === 'error') return <ErrorNote error={invoice.error} />;
  const i = invoice.data;
  return (
    <Page
      title={t('commerce.invoiceTitle', { number: i.number })}
      actions={
        <a href={`/v1/invoices/${i.id}/print?lang=${language}`} target="_blank" rel="noreferrer">
          {t('commerce.printable')}
        </a>
      }
    >
      <dl className="facts" data-testid="invoice">
        <dt>{t('commerce.status')}</dt>
        <dd>
          <span className="badge">{invoiceStatusLabel(t, i.status)}</span>
          {i.voidReason ? ` (${i.voidReason})` : null}
        </dd>
        <dt>{t('commerce.issuedAt')}</dt>
        <dd>{formatDateTime(i.issuedAt)}</dd>
        <dt>{t('commerce.customer')}</dt>
        <dd>{i.customerName}</dd>
        <dt>{t('commerce.duration')}</dt>
        <dd data-testid="invoice-term">{i.termText[language]}</dd>
        {i.paidAt ? (
          <>
            <dt>{t('commerce.paidAt')}</dt>
            <dd>{formatDateTime(i.paidAt)}</dd>
          </>
        ) : null}
      </dl>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('commerce.description')}</th>
              <th scope="col" className="num">
                {t('commerce.quantityMonths')}
              </th>
              <th scope="col" className="num">
                {t('commerce.unitPrice')}
              </th>
              <th scope="col" className="num">
                {t('commerce.totalExclVat')}
              </th>
            </tr>
          </thead>
          <tbody>
            {(i.lines ?? []).map((l) => (
              <tr key={l.position}>
                <td>{l.description}</td>
                <td className="num">{l.quantity}</td>
                <td className="num">{formatMoney(l.unitCents, language)}</td>
                <td className="num">{formatMoney(l.totalCents, language)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={3}>
                {t('commerce.totalExclVat')}
              </th>
              <td className="num">{formatMoney(i.netCents, language)}</td>
            </tr>
            <tr>
              <th scope="row" colSpan={3}>
                {t('commerce.vat')} {formatRate(i.vatRateBp, language)}
              </th>
              <td className="num">{formatMoney(i.vatCents, language)}</td>
            </tr>
            <tr>
              <th scope="row" colSpan={3}>
                {t('commerce.totalInclVat')}
              </th>
              <td className="num" data-testid="invoice-total">
                <strong>{formatMoney(i.totalCents, language)}</strong>
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
    </Page>
  );
}
