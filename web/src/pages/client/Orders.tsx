// The client's orders and their state; an unpaid one can be cancelled (its invoice is voided).
import { useState } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, LoadMore, Page, usePagedResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { orderStateLabel, termLabel } from './InvoicesFormat.tsx';

export function OrdersPage() {
  const { t, formatDateTime } = useI18n();
  const orders = usePagedResource((cursor) =>
    call(api.GET('/v1/orders', { params: { query: cursor ? { cursor } : {} } })),
  );
  const [error, setError] = useState<ApiError | null>(null);

  async function cancel(id: string) {
    if (!window.confirm(t('commerce.cancelConfirm'))) return;
    setError(null);
    const r = await call(api.POST('/v1/orders/{id}/cancel', { params: { path: { id } }, body: {} }));
    if (!r.ok) setError(r.error);
    orders.reload();
  }

  return (
    <Page
      title={t('nav.client.orders')}
      actions={<Link to="/client/catalogue">{t('commerce.newOrder')}</Link>}
    >
      <ErrorNote error={error} />
      {orders.status === 'loading' ? <Loading /> : null}
      {orders.status === 'error' ? <ErrorNote error={orders.error} /> : null}
      {orders.status === 'ready' && orders.data.length === 0 ? (
        <EmptyState text={t('commerce.noOrders')} />
      ) : null}
      {orders.status === 'ready' && orders.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="orders">
            <thead>
              <tr>
                <th scope="col">{t('commerce.orderedAt')}</th>
                <th scope="col">{t('commerce.hostname')}</th>
                <th scope="col">{t('commerce.plan')}</th>
                <th scope="col">{t('commerce.duration')}</th>
                <th scope="col">{t('commerce.state')}</th>
                <th scope="col">{t('commerce.invoice')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('commerce.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {orders.data.map((o) => (
                <tr key={o.id} data-state={o.state}>
                  <td className="nowrap">{formatDateTime(o.createdAt)}</td>
                  <td>
                    <code>{o.hostname}</code>
                  </td>
                  <td>{o.planName}</td>
                  <td>{termLabel(t, o.kind, o.termMonths)}</td>
                  <td>
                    <span className="badge">{orderStateLabel(t, o.state)}</span>
                  </td>
                  <td>
                    {o.invoiceId ? (
                      <Link to={`/client/invoices/${o.invoiceId}`}>{o.invoiceNumber}</Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td className="actions">
                    {o.actions.includes('cancel') ? (
                      <button type="button" className="button-danger" onClick={() => void cancel(o.id)}>
                        {t('commerce.cancel')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <LoadMore list={orders} />
    </Page>
  );
}
