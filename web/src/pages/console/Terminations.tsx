// Terminations (R12.1–R12.4). Provider console: terminations scheduled (or all), soonest first,
// with a cancel before the date; forms to record a registered letter (the product proposes the
// effective date, R12.2), force majeure (either side, R12.1) or a breach (immediate, R12.3); the
// deletion records (R12.4). Recording and cancelling are an admin's (docs/security.md, Roles):
// support sees the list and the records. Client: its VPS page shows a scheduled termination and
// its date.
import { useState, type FormEvent } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { useMe } from '../../session.tsx';

type Kind = 'letter' | 'force_majeure' | 'breach';
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

function RecordForm({ onDone }: { onDone: () => void }) {
  const { t, formatDateTime } = useI18n();
  const [kind, setKind] = useState<Kind>('letter');
  const [contractId, setContractId] = useState('');
  const [receivedAt, setReceivedAt] = useState('');
  const [requestedAt, setRequestedAt] = useState('');
  const [effectiveAt, setEffectiveAt] = useState('');
  const [side, setSide] = useState<'client' | 'provider'>('client');
  const [reason, setReason] = useState('');
  const [proposal, setProposal] = useState<{ effectiveAt: string; rule: string } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function propose() {
    const r = await call(
      api.GET('/v1/contracts/{id}/terminations/letter-proposal', {
        params: {
          path: { id: contractId.trim() },
          query: {
            letterReceivedAt: iso(receivedAt)!,
            ...(requestedAt ? { requestedEffectiveAt: iso(requestedAt)! } : {}),
          },
        },
      }),
    );
    setError(r.ok ? null : r.error);
    setProposal(r.ok ? r.data : null);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const id = contractId.trim();
    const path = { params: { path: { id } } };
    const r =
      kind === 'letter'
        ? await call(
            api.POST('/v1/contracts/{id}/terminations/letter', {
              ...path,
              body: {
                letterReceivedAt: iso(receivedAt)!,
                ...(requestedAt ? { requestedEffectiveAt: iso(requestedAt)! } : {}),
                ...(effectiveAt ? { effectiveAt: iso(effectiveAt)! } : {}),
                ...(reason ? { reason } : {}),
              },
            }),
          )
        : kind === 'force_majeure'
          ? await call(
              api.POST('/v1/contracts/{id}/terminations/force-majeure', {
                ...path,
                body: { side, effectiveAt: iso(effectiveAt) ?? new Date().toISOString(), reason },
              }),
            )
          : await call(api.POST('/v1/contracts/{id}/terminations/breach', { ...path, body: { reason } }));
    setError(r.ok ? null : r.error);
    if (r.ok) {
      const eff = 'termination' in r.data ? r.data.termination.effectiveAt : r.data.effectiveAt;
      setDone(t('termination.recorded', { date: formatDateTime(eff) }));
      setProposal(null);
      onDone();
    }
  }

  return (
    <form className="card" onSubmit={(e) => void submit(e)} data-testid="termination-form">
      <h2>{t('termination.record')}</h2>
      <label>
        {t('termination.kind')}{' '}
        <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
          <option value="letter">{t('termination.cause.client_letter')}</option>
          <option value="force_majeure">{t('termination.forceMajeure')}</option>
          <option value="breach">{t('termination.cause.provider_breach')}</option>
        </select>
      </label>
      <label>
        {t('termination.contractId')}{' '}
        <input required value={contractId} onChange={(e) => setContractId(e.target.value)} />
      </label>
      {kind === 'letter' ? (
        <>
          <label>
            {t('termination.letterReceivedAt')}{' '}
            <input
              type="datetime-local"
              required
              value={receivedAt}
              onChange={(e) => setReceivedAt(e.target.value)}
            />
          </label>
          <label>
            {t('termination.requestedEffectiveAt')}{' '}
            <input
              type="datetime-local"
              value={requestedAt}
              onChange={(e) => setRequestedAt(e.target.value)}
            />
          </label>
          <button
            type="button"
            className="button-quiet"
            onClick={() => void propose()}
            disabled={!contractId || !receivedAt}
          >
            {t('termination.propose')}
          </button>
          {proposal ? (
            <p data-testid="termination-proposal">
              {t('termination.proposed', { date: formatDateTime(proposal.effectiveAt) })}{' '}
              <span className="muted">
                ({t(`termination.rule.${proposal.rule as 'requested' | 'paid_period_end' | 'now'}`)})
              </span>
            </p>
          ) : null}
        </>
      ) : null}
      {kind === 'force_majeure' ? (
        <label>
          {t('termination.side')}{' '}
          <select value={side} onChange={(e) => setSide(e.target.value as 'client' | 'provider')}>
            <option value="client">{t('termination.sideClient')}</option>
            <option value="provider">{t('termination.sideProvider')}</option>
          </select>
        </label>
      ) : null}
      {kind !== 'breach' ? (
        <label>
          {t('termination.effectiveAt')}{' '}
          <input type="datetime-local" value={effectiveAt} onChange={(e) => setEffectiveAt(e.target.value)} />
        </label>
      ) : (
        <p className="muted">{t('termination.breachNote')}</p>
      )}
      <label>
        {t('termination.reason')}{' '}
        <input required={kind !== 'letter'} value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <ErrorNote error={error} />
      {done ? <p role="status">{done}</p> : null}
      <button type="submit">{t('termination.submit')}</button>
    </form>
  );
}

export function TerminationsPage() {
  const { t, formatDateTime } = useI18n();
  const admin = useMe().role === 'admin';
  const [all, setAll] = useState(false);
  const list = useResource(() =>
    call(api.GET('/v1/terminations', { params: { query: all ? {} : { state: 'scheduled' } } })),
  );
  const records = useResource(() => call(api.GET('/v1/deletion-records', { params: { query: {} } })));
  const [error, setError] = useState<ApiError | null>(null);
  async function cancel(id: string) {
    const reason = window.prompt(t('termination.cancelReason'));
    if (!reason) return;
    const r = await call(
      api.POST('/v1/terminations/{id}/cancel', { params: { path: { id } }, body: { reason } }),
    );
    setError(r.ok ? null : r.error);
    list.reload();
  }
  return (
    <Page title={t('nav.console.terminations')}>
      <p className="lead">{t('termination.consoleIntro')}</p>
      <label className="inline">
        <input
          type="checkbox"
          checked={all}
          onChange={(e) => {
            setAll(e.target.checked);
            list.reload();
          }}
        />{' '}
        {t('termination.showAll')}
      </label>
      <ErrorNote error={error} />
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.length === 0 ? <EmptyState text={t('termination.none')} /> : null}
      {list.status === 'ready' && list.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="console-terminations">
            <thead>
              <tr>
                <th scope="col">{t('termination.effectiveAt')}</th>
                <th scope="col">VPS</th>
                <th scope="col">{t('termination.kind')}</th>
                <th scope="col">{t('termination.state')}</th>
                <th scope="col">{t('termination.reason')}</th>
                <th scope="col">{t('termination.recordedBy')}</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {list.data.map((x) => (
                <tr key={x.id}>
                  <td className="nowrap">{formatDateTime(x.effectiveAt)}</td>
                  <td>
                    <Link to={`/console/vps/${x.vpsId}`}>{x.vpsId.slice(0, 8)}</Link>
                  </td>
                  <td>{t(`termination.cause.${x.cause}`)}</td>
                  <td>
                    {t(`termination.stateName.${x.state}`)}
                    {x.lastError ? <span className="muted"> — {x.lastError}</span> : null}
                  </td>
                  <td className="break">{x.reason}</td>
                  <td>{x.recordedBy}</td>
                  <td>
                    {admin && x.state === 'scheduled' ? (
                      <button type="button" className="button-quiet" onClick={() => void cancel(x.id)}>
                        {t('termination.cancel')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {admin ? (
        <RecordForm onDone={() => list.reload()} />
      ) : (
        <p className="note" data-testid="termination-admin-only">
          {t('termination.adminOnly')}
        </p>
      )}
      <h2>{t('termination.records')}</h2>
      {records.status === 'ready' && records.data.length === 0 ? <EmptyState /> : null}
      {records.status === 'ready' && records.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="deletion-records">
            <thead>
              <tr>
                <th scope="col">{t('termination.hostname')}</th>
                <th scope="col">{t('termination.kind')}</th>
                <th scope="col">{t('termination.completedAt')}</th>
                <th scope="col">{t('termination.deleted')}</th>
              </tr>
            </thead>
            <tbody>
              {records.data.map((r) => (
                <tr key={r.id}>
                  <td>{r.hostname}</td>
                  <td>{r.cause}</td>
                  <td className="nowrap">{r.completedAt ? formatDateTime(r.completedAt) : '—'}</td>
                  <td className="break">
                    {r.deleted.map((d) => `${d.what} (${formatDateTime(d.at)})`).join(', ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}

/** Client's VPS page: a termination in force on its contract, with its date (R12.1–R12.4). */
export function TerminationFacts({ vpsId }: { vpsId: string }) {
  const { t, formatDateTime } = useI18n();
  const r = useResource(() => call(api.GET('/v1/vps/{id}/termination', { params: { path: { id: vpsId } } })));
  if (r.status !== 'ready' || !r.data.termination) return null;
  const x = r.data.termination;
  return (
    <>
      <dt>{t('termination.title')}</dt>
      <dd data-testid="vps-termination">
        {t('termination.clientLine', {
          date: formatDateTime(x.effectiveAt),
          cause: t(`termination.cause.${x.cause}`),
        })}
      </dd>
    </>
  );
}
