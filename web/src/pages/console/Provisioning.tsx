// Provider console: the provisioning queue — VPSs pending, provisioning or failed, with their
// last step, percent and reason; refreshed every 5 s.
import { useEffect } from 'react';
import { api, call } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, LoadMore, Page, usePagedResource } from '../../components/ui.tsx';
import { Bar, StateBadge } from '../../components/VpsParts.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';

export function ProvisioningPage() {
  const { t, formatDateTime } = useI18n();
  const list = usePagedResource((cursor) =>
    call(
      api.GET('/v1/admin/vps', {
        params: { query: { state: ['pending', 'provisioning', 'failed'], ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  const { reload } = list;
  useEffect(() => {
    const timer = setInterval(reload, 5000);
    return () => clearInterval(timer);
  }, [reload]);
  return (
    <Page title={t('nav.console.provisioning')}>
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.length === 0 ? (
        <EmptyState text={t('provisioning.none')} />
      ) : null}
      {list.status === 'ready' && list.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="provisioning-table">
            <thead>
              <tr>
                <th scope="col">{t('vps.hostname')}</th>
                <th scope="col">{t('vps.account')}</th>
                <th scope="col">{t('vps.state')}</th>
                <th scope="col">{t('vps.lastStep')}</th>
                <th scope="col">{t('provisioning.reason')}</th>
                <th scope="col">{t('vps.since')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((v) => (
                <tr key={v.id}>
                  <td>
                    <Link to={`/console/vps/${v.id}`}>{v.hostname}</Link>
                  </td>
                  <td>{v.accountName}</td>
                  <td>
                    <StateBadge state={v.state} />
                  </td>
                  <td style={{ minWidth: 160 }}>
                    <code>{v.provisionStep ?? '—'}</code> {v.provisionPercent} %
                    <Bar value={v.provisionPercent} max={100} label={t('vps.provisioning')} />
                  </td>
                  <td className="break">{v.stateReason ?? '—'}</td>
                  <td className="nowrap">{formatDateTime(v.stateChangedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <LoadMore list={list} />
    </Page>
  );
}
