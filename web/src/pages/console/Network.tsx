// Provider console, network: network blocks in force on every VPS (R5.1, R6.4, R3.13),
// IPv4 pools with their usage (R3.2).
import { api, call } from '../../api/client.ts';
import { describeNetworkBlock } from '../../components/NetworkBlocks.tsx';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';

export function NetworkBlocksInForcePage() {
  const { t, formatDateTime } = useI18n();
  const list = useResource(() => call(api.GET('/v1/admin/network-blocks')));
  return (
    <Page title={t('nav.console.networkBlocks')}>
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.length === 0 ? (
        <EmptyState text={t('networkBlocks.none')} />
      ) : null}
      {list.status === 'ready' && list.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('networkBlocks.vps')}</th>
                <th scope="col">{t('networkBlocks.kind')}</th>
                <th scope="col">{t('networkBlocks.reason')}</th>
                <th scope="col">{t('networkBlocks.by')}</th>
                <th scope="col">{t('networkBlocks.sinceCol')}</th>
                <th scope="col">{t('networkBlocks.untilCol')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((m) => (
                <tr key={m.id}>
                  <td>
                    <Link to={`/console/vps/${m.vpsId}/network`}>{m.hostname}</Link>
                  </td>
                  <td>{describeNetworkBlock(t, m)}</td>
                  <td>{m.reason}</td>
                  <td>{m.createdBy}</td>
                  <td className="nowrap">{formatDateTime(m.createdAt)}</td>
                  <td className="nowrap">{formatDateTime(m.until)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}

export function PoolsPage() {
  const { t } = useI18n();
  const pools = useResource(() => call(api.GET('/v1/admin/pools')));
  return (
    <Page title={t('nav.console.pools')}>
      {pools.status === 'loading' ? <Loading /> : null}
      {pools.status === 'error' ? <ErrorNote error={pools.error} /> : null}
      {pools.status === 'ready' && pools.data.length === 0 ? <EmptyState text={t('pools.none')} /> : null}
      {pools.status === 'ready' && pools.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('pools.prefix')}</th>
                <th scope="col">{t('pools.datacenter')}</th>
                <th scope="col">{t('pools.gateway')}</th>
                <th scope="col">{t('pools.usage')}</th>
              </tr>
            </thead>
            <tbody>
              {pools.data.map((p) => {
                const used = p.size ? p.allocated / p.size : 0;
                const held = p.size ? p.quarantined / p.size : 0;
                return (
                  <tr key={p.id} data-testid="pool-row">
                    <td>
                      <code>{p.cidr}</code>
                    </td>
                    <td>{p.datacenterCode}</td>
                    <td>
                      <code>{p.gateway}</code>
                    </td>
                    <td style={{ minWidth: 220 }}>
                      <div
                        role="progressbar"
                        aria-valuemin={0}
                        aria-valuemax={p.size}
                        aria-valuenow={p.allocated}
                        aria-label={t('pools.usage')}
                        style={{
                          display: 'flex',
                          height: 10,
                          borderRadius: 5,
                          background: '#e3e8ef',
                          overflow: 'hidden',
                        }}
                      >
                        <div
                          style={{ width: `${used * 100}%`, background: used > 0.9 ? '#b3261e' : '#2f6fb3' }}
                        />
                        <div style={{ width: `${held * 100}%`, background: '#c9a227' }} />
                      </div>
                      <span className="muted">
                        {t('pools.counts', {
                          allocated: p.allocated,
                          quarantined: p.quarantined,
                          size: p.size,
                        })}
                      </span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}
