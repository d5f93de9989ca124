// Provider console (R3.12): plan changes not yet applied, soonest deadline first; near ones
// marked, late ones highlighted (past 48 h from payment), with the last error and a retry.
import { useState } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { formatMoney } from '../client/InvoicesFormat.tsx';
import { DeadlineBadge, useNow } from '../client/PlanChange.tsx';

export function PlanChangesPage() {
  const { t, language, formatDateTime } = useI18n();
  const now = useNow();
  const [all, setAll] = useState(false);
  const list = useResource(() =>
    call(api.GET('/v1/admin/plan-changes', { params: { query: all ? { all: true } : {} } })),
  );
  const [error, setError] = useState<ApiError | null>(null);
  async function retry(id: string) {
    const r = await call(api.POST('/v1/admin/plan-changes/{id}/retry', { params: { path: { id } } }));
    setError(r.ok ? null : r.error);
    list.reload();
  }
  return (
    <Page title={t('nav.console.planChanges')}>
      <p className="lead">{t('planChange.consoleIntro')}</p>
      <label className="inline">
        <input
          type="checkbox"
          checked={all}
          onChange={(e) => {
            setAll(e.target.checked);
            list.reload();
          }}
        />{' '}
        {t('planChange.showApplied')}
      </label>
      <ErrorNote error={error} />
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.length === 0 ? (
        <EmptyState text={t('planChange.noneOpen')} />
      ) : null}
      {list.status === 'ready' && list.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="console-plan-changes">
            <thead>
              <tr>
                <th scope="col">{t('planChange.deadline')}</th>
                <th scope="col">VPS</th>
                <th scope="col">{t('planChange.account')}</th>
                <th scope="col">{t('planChange.plan')}</th>
                <th scope="col">{t('planChange.amount')}</th>
                <th scope="col">{t('planChange.state')}</th>
                <th scope="col">{t('planChange.paidAt')}</th>
                <th scope="col">{t('planChange.dueAt')}</th>
                <th scope="col">{t('planChange.lastError')}</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {list.data.map((c) => (
                <tr
                  key={c.id}
                  data-deadline={c.deadline}
                  style={
                    c.deadline === 'late'
                      ? { background: 'var(--danger-soft)', fontWeight: 600 }
                      : c.deadline === 'near'
                        ? { background: '#fff4e0' }
                        : undefined
                  }
                >
                  <td>
                    <DeadlineBadge change={c} now={now} />
                  </td>
                  <td>
                    <Link to={`/console/vps/${c.vpsId}`}>{c.hostname}</Link>
                  </td>
                  <td>{c.accountName}</td>
                  <td>
                    {c.toPlanName}{' '}
                    <span className="muted">
                      {t('vps.planFigures', { vcpus: c.to.vcpus, ram: c.to.memoryMiB, disk: c.to.diskGiB })}
                    </span>
                  </td>
                  <td>{formatMoney(c.amountCents, language)}</td>
                  <td>{t(`planChange.stateName.${c.state}`)}</td>
                  <td className="nowrap">{c.paidAt ? formatDateTime(c.paidAt) : '—'}</td>
                  <td className="nowrap">{c.dueAt ? formatDateTime(c.dueAt) : '—'}</td>
                  <td className="break">
                    {c.lastError ? (
                      <span>
                        {c.lastError} <span className="muted">({c.attempts})</span>
                      </span>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    {c.state === 'paid' ? (
                      <button type="button" className="button-quiet" onClick={() => void retry(c.id)}>
                        {t('planChange.retry')}
                      </button>
                    ) : null}
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
