// Client area: one VPS — state, IPv4, datacenter, plan, contract term or renewal date, live
// provisioning progress (polled every 2 s while it moves), power buttons the API allows, events,
// and the managed-service note (R3.4: the provider is the only administrator).
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
import { TerminationFacts } from '../console/Terminations.tsx';
import { SanctionsList } from '../../components/SanctionsList.tsx';

function ContractFacts({ id }: { id: string }) {
  const { t, formatDateTime } = useI18n();
  const contract = useResource(() => call(api.GET('/v1/vps/{id}/contract', { params: { path: { id } } })));
  if (contract.status !== 'ready') return null;
  const c = contract.data;
  return (
    <>
      <dt>{t('vps.contract')}</dt>
      <dd data-testid="vps-contract">
        {c.kind === 'fixed'
          ? t('vps.contractFixed', { months: c.termMonths ?? 0, end: formatDateTime(c.expiresAt) })
          : c.nextRenewalAt
            ? t('vps.contractRenews', { date: formatDateTime(c.nextRenewalAt) })
            : t('vps.contractEnds', { date: formatDateTime(c.expiresAt) })}{' '}
        · <Link to={`/client/contracts/${c.id}`}>{t('contract.manage')}</Link>
      </dd>
    </>
  );
}

export function ClientVpsDetailPage({ id }: { id: string }) {
  const { t, formatDateTime } = useI18n();
  const vps = useResource(() => call(api.GET('/v1/vps/{id}', { params: { path: { id } } })));
  const [generation, setGeneration] = useState(0);
  const dcName = useDatacenters();
  const reload = () => {
    vps.reload();
    setGeneration((g) => g + 1);
  };
  usePolling(vps.status === 'ready' ? vps.data.state : undefined, vps.reload);
  if (vps.status === 'loading') return <Loading />;
  if (vps.status === 'error') return <ErrorNote error={vps.error} />;
  const v = vps.data;
  return (
    <Page title={v.hostname} actions={<Link to="/client/vps">{t('vps.backToList')}</Link>}>
      <p className="note" data-testid="vps-managed-note">
        {t('vps.managedNote')}
      </p>
      <ProvisionProgress vps={v} />
      <section className="card" aria-labelledby="vps-facts">
        <h2 id="vps-facts">{t('vps.facts')}</h2>
        <dl className="facts">
          <dt>{t('vps.state')}</dt>
          <dd>
            <StateBadge state={v.state} /> <SuspendedBadge vps={v} />
            {v.suspended ? (
              <p className="note" data-testid="vps-suspended-note">
                {t('vps.suspendedNote')}
              </p>
            ) : v.state === 'failed' ? (
              <p className="note">{t('vps.failedNote')}</p>
            ) : null}
          </dd>
          <dt>{t('vps.ipv4')}</dt>
          <dd>
            <code data-testid="vps-ipv4">{ipOnly(v.ipv4)}</code>
          </dd>
          <dt>{t('vps.username')}</dt>
          <dd>
            <code>{v.username}</code>
          </dd>
          <dt>{t('vps.datacenter')}</dt>
          <dd>{dcName(v.datacenterId)}</dd>
          <dt>{t('vps.plan')}</dt>
          <dd>{t('vps.planFigures', { vcpus: v.vcpus, ram: v.memoryMiB, disk: v.diskGiB })}</dd>
          <ContractFacts id={id} />
          <TerminationFacts vpsId={id} />
          <dt>{t('vps.since')}</dt>
          <dd>{formatDateTime(v.stateChangedAt)}</dd>
        </dl>
        <p>
          <Link to={`/client/vps/${v.id}/network`}>{t('vps.networkLink')}</Link> ·{' '}
          <Link to={`/client/vps/${v.id}/plan`}>{t('vps.planChangeLink')}</Link>
        </p>
      </section>
      <SanctionsList vpsId={id} />
      <section className="card" aria-labelledby="vps-power">
        <h2 id="vps-power">{t('vps.power')}</h2>
        <PowerButtons vps={v} onDone={reload} />
      </section>
      <EventsList id={id} generation={generation} />
    </Page>
  );
}
