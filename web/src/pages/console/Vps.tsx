// Provider console: every VPS with filters (state, host, account).
import { useState } from 'react';
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
import { ipOnly, StateBadge } from '../../components/VpsParts.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';

const states = [
  'pending',
  'provisioning',
  'running',
  'stopped',
  'paused',
  'failed',
  'starting',
  'stopping',
  'defined',
];

export function ConsoleVpsPage() {
  const { t } = useI18n();
  const initialHost = new URLSearchParams(location.search).get('host') ?? '';
  const [state, setState] = useState('');
  const [hostId, setHostId] = useState(initialHost);
  const [account, setAccount] = useState('');
  const hosts = useResource(() => call(api.GET('/v1/admin/hosts')));
  const list = usePagedResource((cursor) =>
    call(
      api.GET('/v1/admin/vps', {
        params: {
          query: {
            ...(state ? { state: [state] } : {}),
            ...(hostId ? { hostId } : {}),
            ...(cursor ? { cursor } : {}),
          },
        },
      }),
    ),
  );
  const rows =
    list.status === 'ready'
      ? list.data.filter((v) => !account || v.accountName.toLowerCase().includes(account.toLowerCase()))
      : [];
  return (
    <Page title={t('nav.console.vps')}>
      <form className="inline-form" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('vps.state')}{' '}
          <select
            value={state}
            onChange={(e) => {
              setState(e.target.value);
              setTimeout(list.reload);
            }}
          >
            <option value="">{t('vps.all')}</option>
            {states.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('vps.host')}{' '}
          <select
            value={hostId}
            onChange={(e) => {
              setHostId(e.target.value);
              setTimeout(list.reload);
            }}
          >
            <option value="">{t('vps.all')}</option>
            {hosts.status === 'ready'
              ? hosts.data.map((h) => (
                  <option key={h.id} value={h.id}>
                    {h.name}
                  </option>
                ))
              : null}
          </select>
        </label>
        <label>
          {t('vps.account')} <input value={account} onChange={(e) => setAccount(e.target.value)} />
        </label>
        <button type="button" className="button-quiet" onClick={list.reload}>
          {t('vps.refresh')}
        </button>
      </form>
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && rows.length === 0 ? <EmptyState text={t('vps.none')} /> : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="console-vps-table">
            <thead>
              <tr>
                <th scope="col">{t('vps.hostname')}</th>
                <th scope="col">{t('vps.state')}</th>
                <th scope="col">{t('vps.ipv4')}</th>
                <th scope="col">{t('vps.account')}</th>
                <th scope="col">{t('vps.host')}</th>
                <th scope="col">{t('vps.datacenter')}</th>
                <th scope="col">{t('vps.plan')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((v) => (
                <tr key={v.id}>
                  <td>
                    <Link to={`/console/vps/${v.id}`}>{v.hostname}</Link>
                  </td>
                  <td>
                    <StateBadge state={v.state} />
                  </td>
                  <td>
                    <code>{ipOnly(v.ipv4)}</code>
                  </td>
                  <td>
                    <Link to={`/console/clients/${v.accountId}`}>{v.accountName}</Link>
                  </td>
                  <td>{v.hostName ?? '—'}</td>
                  <td>{v.datacenterCode}</td>
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
