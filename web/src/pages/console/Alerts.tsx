// Provider console: staff alerts (a VM that crashed, a provisioning or a power action that
// failed). The dashboard shows the open ones; the page lists all, with acknowledge.
import { useState } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, LoadMore, Page, usePagedResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';

function AlertsTable({ open }: { open: boolean }) {
  const { t, formatDateTime } = useI18n();
  const alerts = usePagedResource((cursor) =>
    call(
      api.GET('/v1/admin/alerts', {
        params: { query: { ...(open ? { open: true } : {}), ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  const [error, setError] = useState<ApiError | null>(null);
  async function ack(id: string) {
    const r = await call(api.POST('/v1/admin/alerts/{id}/ack', { params: { path: { id } } }));
    setError(r.ok ? null : r.error);
    alerts.reload();
  }
  if (alerts.status === 'loading') return <Loading />;
  if (alerts.status === 'error') return <ErrorNote error={alerts.error} />;
  if (alerts.data.length === 0) return <EmptyState text={t(open ? 'alerts.noneOpen' : 'alerts.none')} />;
  return (
    <>
      <ErrorNote error={error} />
      <div className="table-wrap">
        <table data-testid="alerts-table">
          <thead>
            <tr>
              <th scope="col">{t('vps.at')}</th>
              <th scope="col">{t('alerts.kind')}</th>
              <th scope="col">{t('alerts.message')}</th>
              <th scope="col">{t('alerts.ack')}</th>
            </tr>
          </thead>
          <tbody>
            {alerts.data.map((a) => (
              <tr key={a.id}>
                <td className="nowrap">{formatDateTime(a.at)}</td>
                <td>
                  <code>{a.kind}</code>
                </td>
                <td className="break">
                  {a.subjectType === 'vps' ? (
                    <Link to={`/console/vps/${a.subjectId}`}>{a.message}</Link>
                  ) : (
                    a.message
                  )}
                </td>
                <td>
                  {a.acknowledgedAt ? (
                    <span className="muted">
                      {a.acknowledgedBy} · {formatDateTime(a.acknowledgedAt)}
                    </span>
                  ) : (
                    <button type="button" className="button-quiet" onClick={() => void ack(a.id)}>
                      {t('alerts.acknowledge')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <LoadMore list={alerts} />
    </>
  );
}

/** On the console dashboard: the open alerts. */
export function OpenAlertsCard() {
  const { t } = useI18n();
  return (
    <section className="card" aria-labelledby="alerts-title" data-testid="dashboard-alerts">
      <h2 id="alerts-title">
        {t('alerts.open')} · <Link to="/console/alerts">{t('alerts.all')}</Link>
      </h2>
      <AlertsTable open />
    </section>
  );
}

export function AlertsPage() {
  const { t } = useI18n();
  return (
    <Page title={t('nav.console.alerts')}>
      <AlertsTable open={false} />
    </Page>
  );
}
