// Payments recorded (by staff or the webhook) and every invoice, for staff.
import { api, call } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { formatMoney } from '../client/InvoicesFormat.tsx';
import { InvoicesPage } from '../client/Invoices.tsx';

export function PaymentsPage() {
  const { t, language, formatDateTime } = useI18n();
  const payments = useResource(() => call(api.GET('/v1/payments', { params: { query: {} } })));
  return (
    <>
      <Page title={t('nav.console.payments')}>
        {payments.status === 'loading' ? <Loading /> : null}
        {payments.status === 'error' ? <ErrorNote error={payments.error} /> : null}
        {payments.status === 'ready' && payments.data.length === 0 ? (
          <EmptyState text={t('commerce.noPayments')} />
        ) : null}
        {payments.status === 'ready' && payments.data.length > 0 ? (
          <div className="table-wrap">
            <table data-testid="payments">
              <thead>
                <tr>
                  <th scope="col">{t('commerce.recordedAt')}</th>
                  <th scope="col">{t('commerce.invoice')}</th>
                  <th scope="col">{t('commerce.methodLabel')}</th>
                  <th scope="col">{t('commerce.reference')}</th>
                  <th scope="col" className="num">
                    {t('commerce.amount')}
                  </th>
                  <th scope="col">{t('commerce.recordedBy')}</th>
                </tr>
              </thead>
              <tbody>
                {payments.data.map((p) => (
                  <tr key={p.id}>
                    <td className="nowrap">{formatDateTime(p.recordedAt)}</td>
                    <td>{p.invoiceNumber}</td>
                    <td>{t(`commerce.method.${p.method}`)}</td>
                    <td>
                      <code>{p.reference}</code>
                    </td>
                    <td className="num">{formatMoney(p.amountCents, language)}</td>
                    <td>{p.recordedBy}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Page>
      <InvoicesPage base="/console/invoices" />
    </>
  );
}
