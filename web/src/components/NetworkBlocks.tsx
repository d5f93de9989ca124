// R5.1, R6.4, R3.13: the network blocks on a VPS (isolation, blocked port/protocol,
// quota throttle), each with its reason; staff can add and lift them from the console, except
// a rule owned by a sanction (or an authority notice's): that one is lifted with its sanction.
import { useState, type FormEvent } from 'react';
import { api, call, type ApiError } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';
import { Link } from '../router.tsx';
import { useMe } from '../session.tsx';
import { EmptyState, ErrorNote, Loading, useResource } from './ui.tsx';

export function describeNetworkBlock(
  t: ReturnType<typeof useI18n>['t'],
  m: { kind: string; protocol: string | null; port: number | null; direction: string | null },
): string {
  if (m.kind === 'isolate') return t('networkBlocks.isolate');
  if (m.kind === 'throttle') return t('networkBlocks.throttle');
  return t('networkBlocks.blockOf', {
    what: `${m.protocol ?? ''}${m.port ? `/${m.port}` : ''}`,
    direction: t(`networkBlocks.direction.${(m.direction ?? 'both') as 'in' | 'out' | 'both'}`),
  });
}

export function NetworkBlocksCard({ vpsId }: { vpsId: string }) {
  const { t, formatDateTime } = useI18n();
  const me = useMe();
  const staff = me.kind === 'staff';
  const blocks = useResource(() =>
    call(api.GET('/v1/vps/{id}/network-blocks', { params: { path: { id: vpsId } } })),
  );
  const [error, setError] = useState<ApiError | null>(null);
  async function lift(id: string) {
    setError(null);
    const r = await call(
      api.POST('/v1/admin/vps/{id}/network-blocks/{blockId}/lift', {
        params: { path: { id: vpsId, blockId: id } },
      }),
    );
    if (!r.ok) setError(r.error);
    blocks.reload();
  }
  return (
    <section className="card" aria-labelledby="blocks-title" data-testid="blocks-card">
      <h2 id="blocks-title">{t('networkBlocks.title')}</h2>
      <ErrorNote error={error} />
      {blocks.status === 'loading' ? <Loading /> : null}
      {blocks.status === 'error' ? <ErrorNote error={blocks.error} /> : null}
      {blocks.status === 'ready' && blocks.data.length === 0 ? (
        <EmptyState text={t('networkBlocks.none')} />
      ) : null}
      {blocks.status === 'ready' && blocks.data.length > 0 ? (
        <ul>
          {blocks.data.map((m) => (
            <li key={m.id}>
              <strong>{describeNetworkBlock(t, m)}</strong> — {m.reason}{' '}
              <span className="muted">
                ({t('networkBlocks.since', { at: formatDateTime(m.createdAt) })}
                {m.until ? `, ${t('networkBlocks.until', { at: formatDateTime(m.until) })}` : ''})
              </span>
              {staff && m.owner ? (
                <>
                  {' '}
                  <span className="muted" data-testid="block-owned">
                    {t('networkBlocks.ownedBy')} <Link to="/console/sanctions">{m.owner.id.slice(0, 8)}</Link>
                  </span>
                </>
              ) : null}
              {staff && !m.owner ? (
                <>
                  {' '}
                  <button type="button" className="button-quiet" onClick={() => void lift(m.id)}>
                    {t('networkBlocks.lift')}
                  </button>
                </>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {staff ? <AddNetworkBlock vpsId={vpsId} onDone={blocks.reload} /> : null}
    </section>
  );
}

function AddNetworkBlock({ vpsId, onDone }: { vpsId: string; onDone(): void }) {
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
    const r = await call(
      api.POST('/v1/admin/vps/{id}/network-blocks', { params: { path: { id: vpsId } }, body }),
    );
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setReason('');
    onDone();
  }
  return (
    <form onSubmit={(e) => void submit(e)} aria-label={t('networkBlocks.add')}>
      <h3>{t('networkBlocks.add')}</h3>
      <ErrorNote error={error} />
      <label>
        {t('networkBlocks.kind')}
        <select value={kind} onChange={(e) => setKind(e.target.value as 'isolate' | 'block')}>
          <option value="block">{t('networkBlocks.kind.block')}</option>
          <option value="isolate">{t('networkBlocks.kind.isolate')}</option>
        </select>
      </label>
      {kind === 'block' ? (
        <>
          <label>
            {t('networkBlocks.protocol')}
            <select
              value={protocol}
              onChange={(e) => setProtocol(e.target.value as 'tcp' | 'udp' | 'icmp' | 'all')}
            >
              <option value="tcp">TCP</option>
              <option value="udp">UDP</option>
              <option value="icmp">ICMP</option>
              <option value="all">{t('networkBlocks.allProtocols')}</option>
            </select>
          </label>
          <label>
            {t('networkBlocks.port')}
            <input type="number" min={1} max={65535} value={port} onChange={(e) => setPort(e.target.value)} />
          </label>
          <label>
            {t('networkBlocks.directionLabel')}
            <select value={direction} onChange={(e) => setDirection(e.target.value as 'in' | 'out' | 'both')}>
              <option value="out">{t('networkBlocks.direction.out')}</option>
              <option value="in">{t('networkBlocks.direction.in')}</option>
              <option value="both">{t('networkBlocks.direction.both')}</option>
            </select>
          </label>
        </>
      ) : null}
      <label>
        {t('networkBlocks.reason')}
        <input
          required
          minLength={3}
          maxLength={1000}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
      <button type="submit" className="button-danger" disabled={busy}>
        {t('networkBlocks.apply')}
      </button>
    </form>
  );
}
