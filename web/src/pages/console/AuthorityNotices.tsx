// Authority notices (R12.6). Provider console: the list, a form to record a notice (the ordered
// sanction is applied at once; "withheld" sends the client nothing), the detail with its scan
// and the sanctions it caused. Recording a notice is an admin's (docs/security.md, Roles):
// support reads them.
import { useState, type FormEvent } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import {
  EmptyState,
  ErrorNote,
  Loading,
  LoadMore,
  Page,
  usePagedResource,
  useResource,
} from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { useMe } from '../../session.tsx';

type NoticeType = 'administrative' | 'arbitral' | 'judicial';
type Ordered = 'restriction' | 'limitation' | 'suspension';

/** Multipart upload of the scan with the session's CSRF token. */
async function uploadScan(id: string, file: File): Promise<ApiError | null> {
  const session = await call(api.GET('/v1/auth/session'));
  if (!session.ok) return session.error;
  const form = new FormData();
  form.append('file', file, file.name);
  try {
    const r = await fetch(`/v1/admin/authority-notices/${encodeURIComponent(id)}/scan`, {
      method: 'POST',
      body: form,
      credentials: 'same-origin',
      headers: { 'x-csrf-token': session.data.csrfToken },
    });
    if (r.ok) return null;
    const body = (await r.json().catch(() => ({}))) as { code?: string; message?: string };
    return { status: r.status, code: body.code ?? `http_${r.status}`, message: body.message ?? '' };
  } catch {
    return { status: 0, code: 'network', message: '' };
  }
}

function RecordForm({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [vpsId, setVpsId] = useState('');
  const [authority, setAuthority] = useState('');
  const [type, setType] = useState<NoticeType>('judicial');
  const [reference, setReference] = useState('');
  const [receivedOn, setReceivedOn] = useState('');
  const [ordered, setOrdered] = useState<Ordered>('suspension');
  const [withheld, setWithheld] = useState(false);
  const [protocol, setProtocol] = useState<'tcp' | 'udp' | 'icmp' | 'all'>('tcp');
  const [port, setPort] = useState('');
  const [direction, setDirection] = useState<'in' | 'out' | 'both'>('in');
  const [plannedEnd, setPlannedEnd] = useState('');
  const [notes, setNotes] = useState('');
  const [scan, setScan] = useState<File | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await call(
      api.POST('/v1/admin/authority-notices', {
        body: {
          vpsId: vpsId.trim(),
          authority,
          type,
          reference,
          receivedOn,
          sanctionOrdered: ordered,
          withheld,
          ...(notes ? { notes } : {}),
          ...(ordered === 'restriction'
            ? { protocol, direction, ...(port ? { port: Number(port) } : {}) }
            : {}),
          ...(plannedEnd ? { plannedEnd: new Date(plannedEnd).toISOString() } : {}),
        },
      }),
    );
    if (!r.ok) {
      setError(r.error);
      return;
    }
    setError(scan ? await uploadScan(r.data.notice.id, scan) : null);
    setDone(r.data.notice.id);
    onDone();
  }

  return (
    <form className="card" onSubmit={(e) => void submit(e)} data-testid="notice-form">
      <h2>{t('authNotices.record')}</h2>
      <label>
        VPS <input required placeholder="UUID" value={vpsId} onChange={(e) => setVpsId(e.target.value)} />
      </label>
      <label>
        {t('authNotices.authority')}{' '}
        <input required value={authority} onChange={(e) => setAuthority(e.target.value)} />
      </label>
      <label>
        {t('authNotices.type')}{' '}
        <select value={type} onChange={(e) => setType(e.target.value as NoticeType)}>
          <option value="administrative">{t('authNotices.type.administrative')}</option>
          <option value="arbitral">{t('authNotices.type.arbitral')}</option>
          <option value="judicial">{t('authNotices.type.judicial')}</option>
        </select>
      </label>
      <label>
        {t('authNotices.reference')}{' '}
        <input required value={reference} onChange={(e) => setReference(e.target.value)} />
      </label>
      <label>
        {t('authNotices.receivedOn')}{' '}
        <input type="date" required value={receivedOn} onChange={(e) => setReceivedOn(e.target.value)} />
      </label>
      <label>
        {t('authNotices.ordered')}{' '}
        <select value={ordered} onChange={(e) => setOrdered(e.target.value as Ordered)}>
          <option value="restriction">{t('sanctions.rung.restriction')}</option>
          <option value="limitation">{t('sanctions.rung.limitation')}</option>
          <option value="suspension">{t('sanctions.rung.suspension')}</option>
        </select>
      </label>
      {ordered === 'restriction' ? (
        <fieldset>
          <legend>{t('sanctions.restriction')}</legend>
          <select value={protocol} onChange={(e) => setProtocol(e.target.value as typeof protocol)}>
            <option value="tcp">TCP</option>
            <option value="udp">UDP</option>
            <option value="icmp">ICMP</option>
            <option value="all">{t('sanctions.allProtocols')}</option>
          </select>{' '}
          <input
            type="number"
            min={1}
            max={65535}
            placeholder={t('sanctions.port')}
            value={port}
            onChange={(e) => setPort(e.target.value)}
          />{' '}
          <select value={direction} onChange={(e) => setDirection(e.target.value as typeof direction)}>
            <option value="in">{t('sanctions.dir.in')}</option>
            <option value="out">{t('sanctions.dir.out')}</option>
            <option value="both">{t('sanctions.dir.both')}</option>
          </select>
        </fieldset>
      ) : null}
      <label>
        {t('sanctions.plannedEnd')}{' '}
        <input type="datetime-local" value={plannedEnd} onChange={(e) => setPlannedEnd(e.target.value)} />
      </label>
      <label>
        {t('authNotices.scan')}{' '}
        <input
          type="file"
          accept="application/pdf,image/jpeg,image/png"
          onChange={(e) => setScan(e.target.files?.[0] ?? null)}
        />
      </label>
      <label>
        {t('authNotices.notes')} <textarea value={notes} onChange={(e) => setNotes(e.target.value)} />
      </label>
      <label className="inline">
        <input type="checkbox" checked={withheld} onChange={(e) => setWithheld(e.target.checked)} />{' '}
        {t('sanctions.withheld')}
      </label>
      <ErrorNote error={error} />
      {done ? (
        <p role="status">
          <Link to={`/console/authority-notices/${done}`}>{t('authNotices.recorded')}</Link>
        </p>
      ) : null}
      <button type="submit">{t('authNotices.submit')}</button>
    </form>
  );
}

export function AuthorityNoticesPage() {
  const { t, formatDateTime } = useI18n();
  const list = usePagedResource((cursor) =>
    call(api.GET('/v1/admin/authority-notices', { params: { query: cursor ? { cursor } : {} } })),
  );
  const admin = useMe().role === 'admin';
  return (
    <Page title={t('nav.console.authorityNotices')}>
      <p className="lead">{t('authNotices.intro')}</p>
      {admin ? (
        <RecordForm onDone={() => list.reload()} />
      ) : (
        <p className="note" data-testid="notice-admin-only">
          {t('authNotices.adminOnly')}
        </p>
      )}
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.length === 0 ? <EmptyState text={t('authNotices.none')} /> : null}
      {list.status === 'ready' && list.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="console-authority-notices">
            <thead>
              <tr>
                <th scope="col">{t('authNotices.receivedOn')}</th>
                <th scope="col">{t('authNotices.authority')}</th>
                <th scope="col">{t('authNotices.reference')}</th>
                <th scope="col">{t('authNotices.ordered')}</th>
                <th scope="col">{t('authNotices.inForce')}</th>
                <th scope="col">{t('authNotices.recordedAt')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((n) => (
                <tr key={n.id}>
                  <td className="nowrap">{n.receivedOn}</td>
                  <td>
                    <Link to={`/console/authority-notices/${n.id}`}>{n.authority}</Link>{' '}
                    <span className="muted">({t(`authNotices.type.${n.type}`)})</span>
                  </td>
                  <td>{n.reference}</td>
                  <td>
                    {t(`sanctions.rung.${n.sanctionOrdered}`)}
                    {n.withheld ? <span className="muted"> · {t('sanctions.withheldShort')}</span> : null}
                  </td>
                  <td>{n.sanctionsInForce}</td>
                  <td className="nowrap">{formatDateTime(n.recordedAt)}</td>
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

export function AuthorityNoticeDetailPage({ id }: { id: string }) {
  const { t, formatDateTime } = useI18n();
  const d = useResource(() =>
    call(api.GET('/v1/admin/authority-notices/{id}', { params: { path: { id } } })),
  );
  if (d.status === 'loading') return <Loading />;
  if (d.status === 'error') return <ErrorNote error={d.error} />;
  const { notice: n, sanctions } = d.data;
  return (
    <Page
      title={`${n.authority} — ${n.reference}`}
      actions={<Link to="/console/authority-notices">{t('authNotices.back')}</Link>}
    >
      <section className="card">
        <dl className="facts">
          <dt>{t('authNotices.type')}</dt>
          <dd>{t(`authNotices.type.${n.type}`)}</dd>
          <dt>{t('authNotices.receivedOn')}</dt>
          <dd>{n.receivedOn}</dd>
          <dt>{t('authNotices.ordered')}</dt>
          <dd>{t(`sanctions.rung.${n.sanctionOrdered}`)}</dd>
          <dt>{t('sanctions.withheld')}</dt>
          <dd>{n.withheld ? t('authNotices.yes') : t('authNotices.no')}</dd>
          <dt>{t('authNotices.scan')}</dt>
          <dd>
            {n.scan ? (
              <a href={`/v1/admin/authority-notices/${n.id}/scan`}>{n.scan.name}</a>
            ) : (
              <span className="muted">—</span>
            )}
          </dd>
          <dt>{t('authNotices.recordedAt')}</dt>
          <dd>
            {formatDateTime(n.recordedAt)} ({n.recordedBy})
          </dd>
          {n.notes ? (
            <>
              <dt>{t('authNotices.notes')}</dt>
              <dd>{n.notes}</dd>
            </>
          ) : null}
        </dl>
      </section>
      <section className="card" data-testid="notice-sanctions">
        <h2>{t('authNotices.sanctions')}</h2>
        <ul>
          {sanctions.map((m) => (
            <li key={m.id}>
              {t(`sanctions.rung.${m.rung}`)} —{' '}
              {m.vpsId ? (
                <Link to={`/console/vps/${m.vpsId}`}>{m.hostname ?? m.vpsId}</Link>
              ) : (
                t('sanctions.wholeAccount')
              )}{' '}
              · {formatDateTime(m.appliedAt)}
              {m.liftedAt
                ? ` · ${t('sanctions.liftedAt', { date: formatDateTime(m.liftedAt), by: m.liftedBy ?? '' })}`
                : ''}
            </li>
          ))}
        </ul>
      </section>
    </Page>
  );
}
