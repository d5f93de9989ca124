// Orders for staff: record the payment of an unpaid order's invoice, validate a paid order
// (opens the contract and starts provisioning), cancel an unpaid one (its invoice is voided).
// The buttons are the API's `actions` for the caller: paying and cancelling are an admin's.
import { useState } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, LoadMore, Page, usePagedResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { useMe } from '../../session.tsx';
import { formatMoney, orderStateLabel, termLabel } from '../client/InvoicesFormat.tsx';

type State = 'awaiting_payment' | 'paid' | 'validated' | 'cancelled';
const methods = ['transfer', 'card', 'direct_debit', 'check', 'cash'] as const;

export function OrdersConsolePage() {
  const { t, language, formatDateTime } = useI18n();
  const admin = useMe().role === 'admin';
  const [state, setState] = useState<State | ''>('paid');
  const orders = usePagedResource((cursor) =>
    call(
      api.GET('/v1/orders', {
        params: { query: { ...(state ? { state } : {}), ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [payFor, setPayFor] = useState<string | null>(null);
  const [method, setMethod] = useState<(typeof methods)[number]>('transfer');
  const [reference, setReference] = useState('');

  function reload() {
    orders.reload();
  }

  async function act(kind: 'validate' | 'cancel', id: string) {
    setError(null);
    setDone(null);
    const r =
      kind === 'validate'
        ? await call(api.POST('/v1/admin/orders/{id}/validate', { params: { path: { id } } }))
        : await call(api.POST('/v1/orders/{id}/cancel', { params: { path: { id } }, body: {} }));
    if (!r.ok) setError(r.error);
    else setDone(kind === 'validate' ? t('commerce.validated') : t('commerce.cancelled'));
    reload();
  }

  async function pay(invoiceId: string, amountCents: number) {
    setError(null);
    setDone(null);
    const r = await call(
      api.POST('/v1/admin/invoices/{id}/payments', {
        params: { path: { id: invoiceId } },
        body: { method, reference: reference.trim(), amountCents },
      }),
    );
    if (!r.ok) {
      setError(r.error);
      return;
    }
    setPayFor(null);
    setReference('');
    setDone(t('commerce.paymentRecorded'));
    reload();
  }

  return (
    <Page title={t('nav.console.orders')}>
      {admin ? null : <p className="muted">{t('commerce.adminOnlyNote')}</p>}
      <label className="inline-form">
        {t('commerce.state')}
        <select
          value={state}
          onChange={(e) => {
            setState(e.target.value as State | '');
            setTimeout(reload, 0);
          }}
        >
          <option value="">{t('commerce.all')}</option>
          {(['awaiting_payment', 'paid', 'validated', 'cancelled'] as const).map((s) => (
            <option key={s} value={s}>
              {orderStateLabel(t, s)}
            </option>
          ))}
        </select>
      </label>
      {done ? (
        <p className="note note-ok" role="status">
          {done}
        </p>
      ) : null}
      <ErrorNote error={error} />
      {orders.status === 'loading' ? <Loading /> : null}
      {orders.status === 'error' ? <ErrorNote error={orders.error} /> : null}
      {orders.status === 'ready' && orders.data.length === 0 ? (
        <EmptyState text={t('commerce.noOrders')} />
      ) : null}
      {orders.status === 'ready' && orders.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="console-orders">
            <thead>
              <tr>
                <th scope="col">{t('commerce.orderedAt')}</th>
                <th scope="col">{t('commerce.hostname')}</th>
                <th scope="col">{t('commerce.plan')}</th>
                <th scope="col">{t('commerce.duration')}</th>
                <th scope="col">{t('commerce.invoice')}</th>
                <th scope="col">{t('commerce.state')}</th>
                <th scope="col">{t('commerce.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {orders.data.map((o) => {
                const total = o.invoiceTotalCents;
                return (
                  <tr key={o.id} data-state={o.state}>
                    <td className="nowrap">{formatDateTime(o.createdAt)}</td>
                    <td>
                      <code>{o.hostname}</code>
                    </td>
                    <td>{o.planName}</td>
                    <td>{termLabel(t, o.kind, o.termMonths)}</td>
                    <td>
                      {o.invoiceId ? (
                        <Link to={`/console/invoices/${o.invoiceId}`}>{o.invoiceNumber}</Link>
                      ) : (
                        '—'
                      )}
                      {total !== null ? ` · ${formatMoney(total, language)}` : null}
                    </td>
                    <td>
                      <span className="badge">{orderStateLabel(t, o.state)}</span>
                    </td>
                    <td className="actions">
                      {o.actions.includes('pay') && o.invoiceId && total !== null ? (
                        payFor === o.id ? (
                          <form
                            className="inline-form"
                            onSubmit={(e) => {
                              e.preventDefault();
                              void pay(o.invoiceId!, total);
                            }}
                          >
                            <select
                              value={method}
                              onChange={(e) => setMethod(e.target.value as (typeof methods)[number])}
                            >
                              {methods.map((m) => (
                                <option key={m} value={m}>
                                  {t(`commerce.method.${m}`)}
                                </option>
                              ))}
                            </select>
                            <input
                              required
                              placeholder={t('commerce.reference')}
                              aria-label={t('commerce.reference')}
                              value={reference}
                              onChange={(e) => setReference(e.target.value)}
                            />
                            <button type="submit" className="button-primary">
                              {t('commerce.recordPayment', { amount: formatMoney(total, language) })}
                            </button>
                          </form>
                        ) : (
                          <button type="button" onClick={() => setPayFor(o.id)}>
                            {t('commerce.pay')}
                          </button>
                        )
                      ) : null}
                      {o.actions.includes('validate') ? (
                        <button
                          type="button"
                          className="button-primary"
                          onClick={() => void act('validate', o.id)}
                        >
                          {t('commerce.validate')}
                        </button>
                      ) : null}
                      {o.actions.includes('cancel') ? (
                        <button
                          type="button"
                          className="button-danger"
                          onClick={() => void act('cancel', o.id)}
                        >
                          {t('commerce.cancel')}
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <LoadMore list={orders} />
    </Page>
  );
}
