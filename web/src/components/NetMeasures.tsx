// R5.1, R6.4, R3.13: the network measures on a VPS (isolation, blocked port/protocol,
// quota throttle), each with its reason; staff can add and lift them from the console, except
// a rule owned by a sanction (or an authority notice's): that one is lifted with its sanction.
import { useState, type FormEvent } from 'react';
import { api, call, type ApiError } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';
import { Link } from '../router.tsx';
import { useMe } from '../session.tsx';
import { EmptyState, ErrorNote, Loading, useResource } from './ui.tsx';

export function describeMeasure(
  t: ReturnType<typeof useI18n>['t'],
  m: { kind: string; protocol: string | null; port: number | null; direction: string | null },
): string {
  if (m.kind === 'isolate') return t('measures.isolate');
  if (m.kind === 'throttle') return t('measures.throttle');
  return t('measures.blockOf', {
    what: `${m.protocol ?? ''}${m.port ? `/${m.port}` : ''}`,
    direction: t(`measures.direction.${(m.direction ?? 'both') as 'in' | 'out' | 'both'}`),
  });
}

export function MeasuresCard({ vpsId }: { vpsId: string }) {
  const { t, formatDateTime } = useI18n();
  const me = useMe();
  const staff = me.kind === 'staff';
  const measures = useResource(() =>
    call(api.GET('/v1/vps/{id}/measures', { params: { path: { id: vpsId } } })),
  );
  const [error, setError] = useState<ApiError | null>(null);
  async function lift(id: string) {
    setError(null);
    const r = await call(
      api.POST('/v1/admin/vps/{id}/measures/{measureId}/lift', {
        params: { path: { id: vpsId, measureId: id } },
      }),
    );
    if (!r.ok) setError(r.error);
    measures.reload();
  }
  return (
    <section className="card" aria-labelledby="measures-title" data-testid="measures-card">
      <h2 id="measures-title">{t('measures.title')}</h2>
      <ErrorNote error={error} />
      {measures.status === 'loading' ? <Loading /> : null}
      {measures.status === 'error' ? <ErrorNote error={measures.error} /> : null}
      {measures.status === 'ready' && measures.data.length === 0 ? (
        <EmptyState text={t('measures.none')} />
      ) : null}
      {measures.status === 'ready' && measures.data.length > 0 ? (
        <ul>
          {measures.data.map((m) => (
            <li key={m.id}>
              <strong>{describeMeasure(t, m)}</strong> — {m.reason}{' '}
              <span className="muted">
                ({t('measures.since', { at: formatDateTime(m.createdAt) })}
                {m.until ? `, ${t('measures.until', { at: formatDateTime(m.until) })}` : ''})
              </span>
              {staff && m.owner ? (
                <>
                  {' '}
                  <span className="muted" data-testid="measure-owned">
                    {t('measures.ownedBy')} <Link to="/console/sanctions">{m.owner.id.slice(0, 8)}</Link>
                  </span>
                </>
              ) : null}
              {staff && !m.owner ? (
                <>
                  {' '}
                  <button type="button" className="button-quiet" onClick={() => void lift(m.id)}>
                    {t('measures.lift')}
                  </button>
                </>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {staff ? <AddMeasure vpsId={vpsId} onDone={measures.reload} /> : null}
    </section>
  );
}

function AddMeasure({ vpsId, onDone }: { vpsId: string; onDone(): void }) {
  const { t } = useI18n();
  const [kind, setKind] = useState<'isolate' | 'block'>('block');
  const [protocol, setProtocol] = useState<'tcp' | 'udp' | 'icmp' | 'all'>('tcp');
  const [port, setPort] = useState('');
  const [direction, setDirection] = useState<'in' | 'out' | 'both'>('out');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body =
      kind === 'isolate'
        ? { kind, reason }
        : {
            kind,
            protocol,
            direction,
            reason,
            ...(port && (protocol === 'tcp' || protocol === 'udp') ? { port: Number(port) } : {}),
          };
    const r = await call(api.POST('/v1/admin/vps/{id}/measures', { params: { path: { id: vpsId } }, body }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setReason('');
    onDone();
  }
  return (
    <form onSubmit={(e) => void submit(e)} aria-label={t('measures.add')}>
      <h3>{t('measures.add')}</h3>
      <ErrorNote error={error} />
      <label>
        {t('measures.kind')}
        <select value={kind} onChange={(e) => setKind(e.target.value as 'isolate' | 'block')}>
          <option value="block">{t('measures.kind.block')}</option>
          <option value="isolate">{t('measures.kind.isolate')}</option>
        </select>
      </label>
      {kind === 'block' ? (
        <>
          <label>
            {t('measures.protocol')}
            <select
              value={protocol}
              onChange={(e) => setProtocol(e.target.value as 'tcp' | 'udp' | 'icmp' | 'all')}
            >
              <option value="tcp">TCP</option>
              <option value="udp">UDP</option>
              <option value="icmp">ICMP</option>
              <option value="all">{t('measures.allProtocols')}</option>
            </select>
          </label>
          <label>
            {t('measures.port')}
            <input type="number" min={1} max={65535} value={port} onChange={(e) => setPort(e.target.value)} />
          </label>
          <label>
            {t('measures.directionLabel')}
            <select value={direction} onChange={(e) => setDirection(e.target.value as 'in' | 'out' | 'both')}>
              <option value="out">{t('measures.direction.out')}</option>
              <option value="in">{t('measures.direction.in')}</option>
              <option value="both">{t('measures.direction.both')}</option>
            </select>
          </label>
        </>
      ) : null}
      <label>
        {t('measures.reason')}
        <input
          required
          minLength={3}
          maxLength={1000}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
      <button type="submit" className="button-danger" disabled={busy}>
        {t('measures.apply')}
      </button>
    </form>
  );
}
