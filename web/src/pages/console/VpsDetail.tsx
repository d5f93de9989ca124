// Provider console: one VPS — facts, live provisioning progress, power actions (every legal
// one), the serial console's last lines, the actions and events.
import { useState } from 'react';
import { api, call } from '../../api/client.ts';
import { ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import {
  EventsList,
  ipOnly,
  PowerButtons,
  ProvisionProgress,
  StateBadge,
  SuspendedBadge,
  useDatacenters,
  usePolling,
} from '../../components/VpsParts.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';

function ConsoleLog({ id }: { id: string }) {
  const { t } = useI18n();
  const log = useResource(() =>
    call(api.GET('/v1/admin/vps/{id}/console', { params: { path: { id }, query: { lines: 100 } } })),
  );
  return (
    <section className="card" aria-labelledby="console-title">
      <h2 id="console-title">{t('vps.consoleLog')}</h2>
      <button type="button" className="button-quiet" onClick={log.reload}>
        {t('vps.refresh')}
      </button>
      {log.status === 'loading' ? <Loading /> : null}
      {log.status === 'error' ? <ErrorNote error={log.error} /> : null}
      {log.status === 'ready' ? (
        log.data.available ? (
          <pre data-testid="vps-console" style={{ maxHeight: 320, overflow: 'auto', whiteSpace: 'pre-wrap' }}>
            {log.data.lines.join('\n')}
          </pre>
        ) : (
          <p className="muted">{t('vps.consoleNone')}</p>
        )
      ) : null}
    </section>
  );
}

function Actions({ id, generation }: { id: string; generation: number }) {
  const { t, formatDateTime } = useI18n();
  const actions = useResource(() => call(api.GET('/v1/vps/{id}/actions', { params: { path: { id } } })));
  const [seen, setSeen] = useState(generation);
  if (seen !== generation) {
    setSeen(generation);
    actions.reload();
  }
  if (actions.status !== 'ready' || actions.data.length === 0) return null;
  return (
    <section className="card" aria-labelledby="actions-title">
      <h2 id="actions-title">{t('vps.actionsDone')}</h2>
      <div className="table-wrap">
        <table data-testid="vps-actions">
          <thead>
            <tr>
              <th scope="col">{t('vps.at')}</th>
              <th scope="col">{t('vps.actions')}</th>
              <th scope="col">{t('vps.state')}</th>
              <th scope="col">{t('vps.details')}</th>
            </tr>
          </thead>
          <tbody>
            {actions.data.map((a) => (
              <tr key={a.id}>
                <td className="nowrap">{formatDateTime(a.requestedAt)}</td>
                <td>
                  {t(`vps.action.${a.action}`)} <span className="muted">({a.requestedBy})</span>
                </td>
                <td>{a.state}</td>
                <td className="break">
                  {a.error ??
                    (a.result && 'endedBy' in a.result
                      ? t('vps.endedBy', { rung: String(a.result.endedBy) })
                      : '')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function ConsoleVpsDetailPage({ id }: { id: string }) {
  const { t, formatDateTime } = useI18n();
  const vps = useResource(() => call(api.GET('/v1/vps/{id}', { params: { path: { id } } })));
  const [generation, setGeneration] = useState(0);
  const dcName = useDatacenters();
  const state = vps.status === 'ready' ? vps.data.state : undefined;
  usePolling(state, () => {
    vps.reload();
    setGeneration((g) => g + 1);
  });
  if (vps.status === 'loading') return <Loading />;
  if (vps.status === 'error') return <ErrorNote error={vps.error} />;
  const v = vps.data;
  const reload = () => {
    vps.reload();
    setGeneration((g) => g + 1);
  };
  return (
    <Page title={v.hostname} actions={<Link to="/console/vps">{t('vps.backToList')}</Link>}>
      <ProvisionProgress vps={v} />
      <section className="card" aria-labelledby="vps-facts">
        <h2 id="vps-facts">{t('vps.facts')}</h2>
        <dl className="facts">
          <dt>{t('vps.state')}</dt>
          <dd>
            <StateBadge state={v.state} /> <SuspendedBadge vps={v} />{' '}
            {v.stateReason ? <span className="muted">{v.stateReason}</span> : null}
          </dd>
          <dt>{t('vps.ipv4')}</dt>
          <dd>
            <code>{ipOnly(v.ipv4)}</code>
          </dd>
          <dt>{t('vps.account')}</dt>
          <dd>
            <Link to={`/console/clients/${v.accountId}`}>{v.accountId}</Link>
          </dd>
          <dt>{t('vps.datacenter')}</dt>
          <dd>{dcName(v.datacenterId)}</dd>
          <dt>{t('vps.plan')}</dt>
          <dd>{t('vps.planFigures', { vcpus: v.vcpus, ram: v.memoryMiB, disk: v.diskGiB })}</dd>
          <dt>{t('vps.username')}</dt>
          <dd>
            <code>{v.username}</code>
          </dd>
          <dt>{t('vps.since')}</dt>
          <dd>{formatDateTime(v.stateChangedAt)}</dd>
        </dl>
        <p>
          <Link to={`/console/vps/${v.id}/network`}>{t('vps.networkLink')}</Link>
        </p>
      </section>
      <section className="card" aria-labelledby="vps-power">
        <h2 id="vps-power">{t('vps.power')}</h2>
        <PowerButtons vps={v} onDone={reload} />
      </section>
      <Actions id={id} generation={generation} />
      <ConsoleLog id={id} />
      <EventsList id={id} generation={generation} />
    </Page>
  );
}
