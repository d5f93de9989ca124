// Provider console: hypervisor hosts with their capacity (R2.2: vCPU placed against cores ×
// ratio, RAM against memory × ratio; R2.1: disk placed against the host's disk, never
// overcommitted) and, when the agent is open, the driver's own figures and orphans.
import { useState } from 'react';
import { api, call, type ApiError, type ResponseBody } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { Bar } from '../../components/VpsParts.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { useMe } from '../../session.tsx';

type Host = ResponseBody<'/v1/admin/hosts', 'get'>[number];
type Orphans = ResponseBody<'/v1/admin/hosts/{id}/orphans', 'get'>;
const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);

function HostDetail({ host }: { host: Host }) {
  const { t } = useI18n();
  const me = useMe();
  const detail = useResource(() =>
    call(api.GET('/v1/admin/hosts/{id}', { params: { path: { id: host.id } } })),
  );
  const [orphans, setOrphans] = useState<Orphans | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  async function scan(clean: boolean) {
    if (clean && !window.confirm(t('hosts.confirmClean'))) return;
    setBusy(true);
    const r = clean
      ? await call(api.POST('/v1/admin/hosts/{id}/orphans/clean', { params: { path: { id: host.id } } }))
      : await call(api.GET('/v1/admin/hosts/{id}/orphans', { params: { path: { id: host.id } } }));
    setBusy(false);
    setError(r.ok ? null : r.error);
    setOrphans(r.ok ? r.data : null);
    detail.reload();
  }
  const live = detail.status === 'ready' ? detail.data.live : null;
  const orphanRows = orphans
    ? [
        ...orphans.processes.map((p) => `process ${p.pid} (${p.vmId})`),
        ...orphans.sockets.map((x) => `socket ${x}`),
        ...orphans.disks.map((x) => `disk ${x}`),
        ...orphans.stateDirs.map((x) => `state ${x}`),
        ...orphans.taps.map((x) => `tap ${x}`),
      ]
    : [];
  return (
    <div data-testid="host-detail">
      {detail.status === 'error' ? <ErrorNote error={detail.error} /> : null}
      {detail.status === 'ready' && !live ? <p className="muted">{t('hosts.agentClosed')}</p> : null}
      {live ? (
        <dl className="facts">
          <dt>{t('hosts.accel')}</dt>
          <dd>
            <code>{live.accel}</code> <span className="muted">{live.accelReason}</span> — QEMU{' '}
            {live.qemuVersion}
          </dd>
          <dt>{t('hosts.liveCpu')}</dt>
          <dd>
            {live.vcpusPlaced} / {live.cores} × {live.cpuRatio}
          </dd>
          <dt>{t('hosts.liveRam')}</dt>
          <dd>
            {live.memoryMiBPlaced} / {live.memoryMiB} MiB × {live.ramRatio}
          </dd>
          <dt>{t('hosts.liveDisk')}</dt>
          <dd>
            {t('hosts.diskFigures', { reserved: gib(live.diskReservedBytes), free: gib(live.diskFreeBytes) })}
          </dd>
        </dl>
      ) : null}
      <div className="inline-form">
        <button type="button" className="button-quiet" disabled={busy} onClick={() => void scan(false)}>
          {t('hosts.orphans')}
        </button>
        {me.role === 'admin' ? (
          <button type="button" className="button-quiet" disabled={busy} onClick={() => void scan(true)}>
            {t('hosts.cleanOrphans')}
          </button>
        ) : null}
      </div>
      <ErrorNote error={error} />
      {orphans ? (
        orphanRows.length ? (
          <ul data-testid="host-orphans">
            {orphanRows.map((r) => (
              <li key={r}>
                <code>{r}</code>
              </li>
            ))}
          </ul>
        ) : (
          <p className="note note-ok" data-testid="host-orphans">
            {t('hosts.noOrphan')}
          </p>
        )
      ) : null}
    </div>
  );
}

export function HostsPage() {
  const { t } = useI18n();
  const hosts = useResource(() => call(api.GET('/v1/admin/hosts')));
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Page title={t('nav.console.hosts')}>
      <p className="muted">{t('hosts.intro')}</p>
      {hosts.status === 'loading' ? <Loading /> : null}
      {hosts.status === 'error' ? <ErrorNote error={hosts.error} /> : null}
      {hosts.status === 'ready' && hosts.data.length === 0 ? <EmptyState text={t('hosts.none')} /> : null}
      {hosts.status === 'ready'
        ? hosts.data.map((h) => {
            const cpuCap = h.cpuCores * h.cpuOvercommit;
            const ramCap = Math.floor(h.memoryMiB * h.ramOvercommit);
            return (
              <section key={h.id} className="card" data-testid="host-card" aria-labelledby={`host-${h.id}`}>
                <h2 id={`host-${h.id}`}>
                  {h.name} <span className="badge">{h.state}</span>
                </h2>
                <dl className="facts">
                  <dt>{t('hosts.vcpu')}</dt>
                  <dd>
                    <Bar value={h.vcpusPlaced} max={cpuCap} label={t('hosts.vcpu')} />
                    {t('hosts.cpuFigures', {
                      placed: h.vcpusPlaced,
                      cores: h.cpuCores,
                      ratio: h.cpuOvercommit,
                      cap: cpuCap,
                    })}
                  </dd>
                  <dt>{t('hosts.ram')}</dt>
                  <dd>
                    <Bar value={h.memoryMiBPlaced} max={ramCap} label={t('hosts.ram')} />
                    {t('hosts.ramFigures', {
                      placed: h.memoryMiBPlaced,
                      total: h.memoryMiB,
                      ratio: h.ramOvercommit,
                      cap: ramCap,
                    })}
                  </dd>
                  <dt>{t('hosts.disk')}</dt>
                  <dd>
                    <Bar value={h.diskGiBPlaced} max={h.diskGiB} label={t('hosts.disk')} />
                    {t('hosts.diskPlaced', { placed: h.diskGiBPlaced, total: h.diskGiB })}
                  </dd>
                  <dt>{t('hosts.vpsCount')}</dt>
                  <dd>
                    <Link to={`/console/vps?host=${h.id}`}>{h.vpsCount}</Link>
                  </dd>
                </dl>
                <button
                  type="button"
                  className="button-quiet"
                  onClick={() => setOpen(open === h.id ? null : h.id)}
                >
                  {open === h.id ? t('hosts.hideDetail') : t('hosts.showDetail')}
                </button>
                {open === h.id ? <HostDetail host={h} /> : null}
              </section>
            );
          })
        : null}
    </Page>
  );
}
