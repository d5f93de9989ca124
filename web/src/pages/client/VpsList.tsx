// Client area: "My VPS" — state, hostname, IPv4, datacenter and plan figures of each VPS.
import { api, call } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, LoadMore, Page, usePagedResource } from '../../components/ui.tsx';
import { ipOnly, StateBadge, useDatacenters } from '../../components/VpsParts.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';

export function ClientVpsListPage() {
  const { t } = useI18n();
  const list = usePagedResource((cursor) =>
    call(api.GET('/v1/vps', { params: { query: cursor ? { cursor } : {} } })),
  );
  const dcName = useDatacenters();
  return (
    <Page title={t('nav.client.vps')}>
      <p className="muted">{t('vps.managedNote')}</p>
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.length === 0 ? <EmptyState text={t('vps.none')} /> : null}
      {list.status === 'ready' && list.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="client-vps-table">
            <thead>
              <tr>
                <th scope="col">{t('vps.hostname')}</th>
                <th scope="col">{t('vps.state')}</th>
                <th scope="col">{t('vps.ipv4')}</th>
                <th scope="col">{t('vps.datacenter')}</th>
                <th scope="col">{t('vps.plan')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((v) => (
                <tr key={v.id}>
                  <td>
                    <Link to={`/client/vps/${v.id}`}>{v.hostname}</Link>
                  </td>
                  <td>
                    <StateBadge state={v.state} />
                    {v.state === 'provisioning' ? ` ${v.provisionPercent} %` : null}
                  </td>
                  <td>
                    <code>{ipOnly(v.ipv4)}</code>
                  </td>
                  <td>{dcName(v.datacenterId)}</td>
                  <td>{t('vps.planFigures', { vcpus: v.vcpus, ram: v.memoryMiB, disk: v.diskGiB })}</td>
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
