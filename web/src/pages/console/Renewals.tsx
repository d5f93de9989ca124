// Console: renewals due (R11.1, R11.2) — running contracts reaching their expiry within a window
// (7 to 90 days), soonest first, with what happens then (a subscription renews, a fixed term or a
// stopped subscription ends) and the renewal invoice's state; subscriptions past their expiry
// with the renewal unpaid show the end of their grace. Dates in the API's time zone.
import { useState } from 'react';
import { api, call } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { formatInZone } from '../client/Contract.tsx';
import { formatMoney, invoiceStatusLabel, termLabel } from '../client/InvoicesFormat.tsx';

const windows = [7, 30, 90] as const;

export function RenewalsPage() {
  const { t, language } = useI18n();
  const [days, setDays] = useState<(typeof windows)[number]>(30);
  const due = useResource(() => call(api.GET('/v1/admin/renewals', { params: { query: { days } } })));

  return (
    <Page title={t('nav.console.renewals')}>
      <p className="lead">{t('renewals.intro')}</p>
      <div className="inline-form" role="group" aria-label={t('renewals.window')}>
        <span>{t('renewals.window')}</span>
        {windows.map((w) => (
          <button
            key={w}
            type="button"
            className={w === days ? 'button-primary' : 'button-quiet'}
            aria-pressed={w === days}
            onClick={() => {
              setDays(w);
              due.reload();
            }}
          >
            {t('renewals.days', { days: w })}
          </button>
        ))}
      </div>
      {due.status === 'loading' ? <Loading /> : null}
      {due.status === 'error' ? <ErrorNote error={due.error} /> : null}
      {due.status === 'ready' && due.data.contracts.length === 0 ? (
        <EmptyState text={t('renewals.none')} />
      ) : null}
      {due.status === 'ready' && due.data.contracts.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="renewals">
            <thead>
              <tr>
                <th scope="col">{t('renewals.expiresAt')}</th>
                <th scope="col">{t('renewals.client')}</th>
                <th scope="col">{t('renewals.vps')}</th>
                <th scope="col">{t('renewals.kind')}</th>
                <th scope="col">{t('renewals.outcome')}</th>
                <th scope="col">{t('renewals.invoice')}</th>
              </tr>
            </thead>
            <tbody>
              {due.data.contracts.map((c) => (
                <tr key={c.contractId} data-outcome={c.outcome}>
                  <td className="nowrap">{formatInZone(c.expiresAt, language, due.data.timeZone)}</td>
                  <td>
                    <Link to={`/console/clients/${c.accountId}`}>{c.accountName}</Link>
                  </td>
                  <td>
                    <Link to={`/console/vps/${c.vpsId}`}>
                      <code>{c.hostname}</code>
                    </Link>
                  </td>
                  <td>{termLabel(t, c.kind, c.termMonths)}</td>
                  <td>
                    <span className={c.outcome === 'renews' ? 'badge' : 'badge badge-warn'}>
                      {c.outcome === 'unpaid'
                        ? t('renewals.outcome.unpaid', {
                            date: formatInZone(c.graceEndsAt, language, due.data.timeZone),
                          })
                        : t(`renewals.outcome.${c.outcome}`)}
                    </span>
                  </td>
                  <td>
                    {c.renewalInvoice ? (
                      <Link to={`/console/invoices/${c.renewalInvoice.id}`}>
                        {c.renewalInvoice.number} · {formatMoney(c.renewalInvoice.totalCents, language)} ·{' '}
                        {invoiceStatusLabel(t, c.renewalInvoice.status)}
                      </Link>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}
