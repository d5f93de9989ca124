// Provider console: client accounts with their identity status and proof deadlines (R6.1),
// and one client's page: identity data, proof requests (ask, approve, reject, withdraw),
// suspensions.
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
import { hasKey, useI18n, type MessageKey } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { NotFound } from '../Status.tsx';
import {
  cap,
  clockOffset,
  Countdown,
  DocumentList,
  kindKey,
  PhaseBadge,
  type ProofRequest,
} from '../client/Identity.tsx';

const statusKey = (s: string) => `identity.status.${s}` as MessageKey;

export function ClientsPage() {
  const { t, formatDateTime } = useI18n();
  // The server's time of the latest page: the countdowns run on it, not on this machine's clock.
  const [now, setNow] = useState<string | null>(null);
  const list = usePagedResource(async (cursor) => {
    const r = await call(api.GET('/v1/admin/clients', { params: { query: cursor ? { cursor } : {} } }));
    if (r.ok) setNow(r.data.now);
    return r;
  });
  return (
    <Page title={t('nav.console.clients')}>
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.length === 0 ? <EmptyState text={t('common.none')} /> : null}
      {list.status === 'ready' && list.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="clients">
            <thead>
              <tr>
                <th scope="col">{t('clients.name')}</th>
                <th scope="col">{t('clients.contact')}</th>
                <th scope="col">{t('clients.identity')}</th>
                <th scope="col">{t('clients.nextDeadline')}</th>
                <th scope="col">{t('clients.standing')}</th>
                <th scope="col">{t('clients.createdAt')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((c) => {
                const overdue = c.identityStatus === 'overdue';
                return (
                  <tr
                    key={c.id}
                    data-overdue={overdue}
                    style={overdue ? { background: 'var(--danger-soft)' } : undefined}
                  >
                    <td>
                      <Link to={`/console/clients/${c.id}`}>{c.name}</Link>
                    </td>
                    <td>
                      {c.contact
                        ? `${c.contact.firstName} ${c.contact.lastName} (${c.contact.country})`
                        : '—'}
                      {c.emailVerified ? null : <div className="muted">{t('clients.unverified')}</div>}
                    </td>
                    <td>{t(statusKey(c.identityStatus))}</td>
                    <td className="nowrap">
                      {c.nextDueAt ? (
                        <>
                          {formatDateTime(c.nextDueAt)}
                          <br />
                          <Countdown
                            dueAt={c.nextDueAt}
                            offset={clockOffset(now ?? new Date().toISOString())}
                          />
                        </>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td>
                      {c.suspended ? (
                        <strong style={{ color: 'var(--danger)' }}>{t('clients.suspended')}</strong>
                      ) : (
                        t('clients.active')
                      )}
                    </td>
                    <td className="nowrap">{formatDateTime(c.createdAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <LoadMore list={list} />
    </Page>
  );
}

function RequestProofForm({ accountId, onDone }: { accountId: string; onDone: () => void }) {
  const { t } = useI18n();
  const [kind, setKind] = useState<ProofRequest['kind']>('identity');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const r = await call(
      api.POST('/v1/admin/clients/{id}/identity/requests', {
        params: { path: { id: accountId } },
        body: { kind, note },
      }),
    );
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setNote('');
    onDone();
  }
  return (
    <section className="card" aria-labelledby="ask-proof">
      <h2 id="ask-proof">{t('clients.askProof')}</h2>
      <p className="muted">{t('clients.askProofHint')}</p>
      <ErrorNote error={error} />
      <form onSubmit={(e) => void submit(e)}>
        <label>
          {t('clients.kind')}
          <select
            name="kind"
            value={kind}
            onChange={(e) => setKind(e.target.value as ProofRequest['kind'])}
            style={{ display: 'block', marginTop: '0.3rem', font: 'inherit', padding: '0.4rem' }}
          >
            {(['identity', 'sites', 'identity_and_sites'] as const).map((k) => (
              <option key={k} value={k}>
                {t(kindKey(k))}
              </option>
            ))}
          </select>
        </label>
        <label>
          {cap(t('field.note'))}
          <input name="note" value={note} maxLength={2000} onChange={(e) => setNote(e.target.value)} />
        </label>
        <button type="submit" className="button-primary" disabled={busy}>
          {t('clients.askProofSubmit')}
        </button>
      </form>
    </section>
  );
}

export function Decision({ request, onDone }: { request: ProofRequest; onDone: () => void }) {
  const { t } = useI18n();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  if (request.state !== 'open') return null;
  const waiting = request.documents.some((d) => d.status === 'submitted');
  async function run(verb: 'approve' | 'reject' | 'cancel') {
    setBusy(true);
    setError(null);
    const params = { params: { path: { id: request.id } } };
    const r =
      verb === 'approve'
        ? await call(api.POST('/v1/admin/identity/requests/{id}/approve', { ...params, body: {} }))
        : verb === 'reject'
          ? await call(api.POST('/v1/admin/identity/requests/{id}/reject', { ...params, body: { reason } }))
          : await call(api.POST('/v1/admin/identity/requests/{id}/cancel', { ...params, body: { reason } }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setReason('');
    onDone();
  }
  return (
    <div className="decision">
      <ErrorNote error={error} />
      <div className="inline-form">
        <button
          type="button"
          className="button-primary"
          disabled={busy || !waiting}
          onClick={() => void run('approve')}
        >
          {t('clients.approve')}
        </button>
        <label>
          {cap(t('field.reason'))}
          <input name="reason" value={reason} maxLength={2000} onChange={(e) => setReason(e.target.value)} />
        </label>
        <button
          type="button"
          className="button-danger"
          disabled={busy || !waiting || !reason.trim()}
          onClick={() => void run('reject')}
        >
          {t('clients.reject')}
        </button>
        <button
          type="button"
          className="button-quiet"
          disabled={busy || !reason.trim()}
          onClick={() => void run('cancel')}
        >
          {t('clients.cancelRequest')}
        </button>
      </div>
      {waiting ? null : <p className="hint">{t('clients.nothingToReview')}</p>}
    </div>
  );
}

export function ClientDetailPage({ id }: { id: string }) {
  const { t, formatDateTime } = useI18n();
  const detail = useResource(() => call(api.GET('/v1/admin/clients/{id}', { params: { path: { id } } })));
  if (detail.status === 'loading') return <Loading />;
  if (detail.status === 'error')
    return detail.error.status === 404 ? <NotFound /> : <ErrorNote error={detail.error} />;
  const d = detail.data;
  const offset = clockOffset(d.now);
  const i = d.identity;
  return (
    <Page title={d.account.name}>
      <p>
        <Link to="/console/clients">← {t('nav.console.clients')}</Link>
      </p>
      {d.suspended ? (
        <p className="note note-error" role="status" data-testid="client-suspended">
          {t('clients.suspendedNote')}
        </p>
      ) : null}
      <section className="card" aria-labelledby="client-identity">
        <h2 id="client-identity">{t('identity.dataTitle')}</h2>
        <dl className="facts">
          <dt>{t('clients.identity')}</dt>
          <dd>{t(statusKey(d.identityStatus))}</dd>
          <dt>{t('clients.emailVerified')}</dt>
          <dd>{d.emailVerified ? t('common.yes') : t('common.no')}</dd>
          <dt>{t('clients.users')}</dt>
          <dd>{d.users.map((u) => `${u.name} <${u.email}>`).join(', ') || '—'}</dd>
          {i ? (
            <>
              <dt>{t('clients.person')}</dt>
              <dd>
                {i.firstName} {i.lastName}
                {i.organisation ? ` — ${i.organisation}` : ''}
              </dd>
              <dt>{t('clients.address')}</dt>
              <dd>
                {i.address.line1}
                {i.address.line2 ? `, ${i.address.line2}` : ''}, {i.address.postalCode} {i.address.city},{' '}
                {i.address.country}
              </dd>
              <dt>{cap(t('field.phone'))}</dt>
              <dd>{i.phone}</dd>
              <dt>{cap(t('field.email'))}</dt>
              <dd>{i.email}</dd>
            </>
          ) : (
            <>
              <dt>{t('clients.person')}</dt>
              <dd className="muted">{t('clients.noIdentity')}</dd>
            </>
          )}
        </dl>
      </section>
      <section className="card" aria-labelledby="client-requests">
        <h2 id="client-requests">{t('identity.requestsTitle')}</h2>
        {d.requests.length === 0 ? <p className="muted">{t('identity.noRequests')}</p> : null}
        {d.requests.map((r) => (
          <article key={r.id} className="request" data-testid="proof-request" data-phase={r.phase}>
            <h3>
              {t(kindKey(r.kind))} <PhaseBadge phase={r.phase} />
            </h3>
            <dl className="facts">
              <dt>{t('identity.requestedAt')}</dt>
              <dd>{formatDateTime(r.requestedAt)}</dd>
              <dt>{t('identity.dueAt')}</dt>
              <dd>
                {formatDateTime(r.dueAt)}{' '}
                <Countdown dueAt={r.dueAt} offset={offset} closed={r.state !== 'open'} />
              </dd>
              {r.note ? (
                <>
                  <dt>{t('identity.note')}</dt>
                  <dd>{r.note}</dd>
                </>
              ) : null}
              {r.decisionReason ? (
                <>
                  <dt>{t('clients.decision')}</dt>
                  <dd>
                    {r.lastDecision ? t(`clients.decision.${r.lastDecision}` as MessageKey) : ''} —{' '}
                    {r.decisionReason}
                  </dd>
                </>
              ) : null}
            </dl>
            <DocumentList documents={r.documents} />
            <Decision request={r} onDone={detail.reload} />
          </article>
        ))}
      </section>
      <RequestProofForm accountId={d.account.id} onDone={detail.reload} />
      <section className="card" aria-labelledby="client-suspensions">
        <h2 id="client-suspensions">{t('clients.suspensions')}</h2>
        {d.suspensions.length === 0 ? (
          <p className="muted">{t('common.none')}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('clients.cause')}</th>
                  <th scope="col">{t('clients.startedAt')}</th>
                  <th scope="col">{t('clients.liftedAt')}</th>
                </tr>
              </thead>
              <tbody>
                {d.suspensions.map((s) => (
                  <tr key={s.id}>
                    <td>
                      {hasKey(`suspension.cause.${s.cause}`)
                        ? t(`suspension.cause.${s.cause}` as MessageKey)
                        : s.cause}
                      <div className="muted">{s.reason}</div>
                    </td>
                    <td className="nowrap">{formatDateTime(s.startedAt)}</td>
                    <td>
                      {s.liftedAt ? (
                        <>
                          {formatDateTime(s.liftedAt)}
                          <div className="muted">
                            {s.liftedBy} — {s.liftReason}
                          </div>
                        </>
                      ) : (
                        <strong style={{ color: 'var(--danger)' }}>{t('clients.activeSuspension')}</strong>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Page>
  );
}
