// Sanctions (R3.14, R5.1, R6.4, R12.5). Provider console: apply a sanction to a VPS or a whole
// account with the ladder's suggested rung shown (another rung needs a reason), the sanctions in
// force or the whole history, lift (R5.1: a refusal to restore needs an admin's override).
// Support is not offered the termination rung nor a withheld notice (an admin's: docs/security.md).
import { useEffect, useState, type FormEvent } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import type { Rung } from '../../components/SanctionsList.tsx';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { useMe } from '../../session.tsx';

const RUNGS: Rung[] = ['warning', 'restriction', 'limitation', 'suspension', 'isolation', 'termination'];
const KINDS = [
  'spam',
  'intrusion',
  'spoofing',
  'proxy',
  'card_sharing',
  'p2p_irc',
  'compromised',
  'security_hole',
  'unpaid',
  'authority_order',
  'other',
] as const;
type Kind = (typeof KINDS)[number];
type Severity = 'minor' | 'serious' | 'critical';
type Protocol = 'tcp' | 'udp' | 'icmp' | 'all';
type Direction = 'in' | 'out' | 'both';
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

function ApplyForm({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const admin = useMe().role === 'admin';
  const rungs = admin ? RUNGS : RUNGS.filter((r) => r !== 'termination');
  const [target, setTarget] = useState<'vps' | 'account'>('vps');
  const [targetId, setTargetId] = useState('');
  const [kind, setKind] = useState<Kind>('spam');
  const [severity, setSeverity] = useState<Severity>('minor');
  const [rung, setRung] = useState<Rung | ''>('');
  const [overrideReason, setOverrideReason] = useState('');
  const [reason, setReason] = useState('');
  const [evidence, setEvidence] = useState('');
  const [protocol, setProtocol] = useState<Protocol | ''>('');
  const [port, setPort] = useState('');
  const [direction, setDirection] = useState<Direction | ''>('');
  const [plannedEnd, setPlannedEnd] = useState('');
  const [liftCondition, setLiftCondition] = useState('');
  const [withheld, setWithheld] = useState(false);
  const [suggestion, setSuggestion] = useState<{
    rung: Rung;
    recurrences: number;
    restoreMayBeRefused: boolean;
  } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const id = targetId.trim();
  const targetQuery = target === 'vps' ? { vpsId: id } : { accountId: id };

  useEffect(() => {
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      setSuggestion(null);
      return;
    }
    void call(
      api.GET('/v1/admin/sanctions/suggest', {
        params: { query: { ...targetQuery, breachKind: kind, severity } },
      }),
    ).then((r) => setSuggestion(r.ok ? r.data : null));
  }, [id, target, kind, severity]);

  const chosen = rung || suggestion?.rung;
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await call(
      api.POST('/v1/admin/sanctions', {
        body: {
          ...targetQuery,
          breachKind: kind,
          severity,
          ...(rung ? { rung } : {}),
          ...(rung && overrideReason ? { overrideReason } : {}),
          reason,
          evidence,
          ...(protocol ? { protocol } : {}),
          ...(port ? { port: Number(port) } : {}),
          ...(direction ? { direction } : {}),
          ...(plannedEnd ? { plannedEnd: iso(plannedEnd)! } : {}),
          ...(liftCondition ? { liftCondition } : {}),
          withheld,
        },
      }),
    );
    setError(r.ok ? null : r.error);
    setDone(r.ok);
    if (r.ok) onDone();
  }

  return (
    <form className="card" onSubmit={(e) => void submit(e)} data-testid="sanction-form">
      <h2>{t('sanctions.apply')}</h2>
      <label>
        {t('sanctions.target')}{' '}
        <select value={target} onChange={(e) => setTarget(e.target.value as 'vps' | 'account')}>
          <option value="vps">VPS</option>
          <option value="account">{t('sanctions.wholeAccount')}</option>
        </select>{' '}
        <input required placeholder="UUID" value={targetId} onChange={(e) => setTargetId(e.target.value)} />
      </label>
      <label>
        {t('sanctions.breachKind')}{' '}
        <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`sanctions.kind.${k}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('sanctions.severity')}{' '}
        <select value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
          <option value="minor">{t('sanctions.severity.minor')}</option>
          <option value="serious">{t('sanctions.severity.serious')}</option>
          <option value="critical">{t('sanctions.severity.critical')}</option>
        </select>
      </label>
      {suggestion ? (
        <p role="status" data-testid="sanction-suggestion">
          {t('sanctions.suggested', {
            rung: t(`sanctions.rung.${suggestion.rung}`),
            n: suggestion.recurrences,
          })}
          {suggestion.restoreMayBeRefused ? <strong> {t('sanctions.mayRefuse')}</strong> : null}
        </p>
      ) : null}
      <label>
        {t('sanctions.rungChoice')}{' '}
        <select value={rung} onChange={(e) => setRung(e.target.value as Rung | '')}>
          <option value="">{t('sanctions.asSuggested')}</option>
          {rungs.map((r) => (
            <option key={r} value={r}>
              {t(`sanctions.rung.${r}`)}
            </option>
          ))}
        </select>
      </label>
      {rung && rung !== suggestion?.rung ? (
        <label>
          {t('sanctions.overrideReason')}{' '}
          <input required value={overrideReason} onChange={(e) => setOverrideReason(e.target.value)} />
        </label>
      ) : null}
      {chosen === 'restriction' ? (
        <fieldset>
          <legend>{t('sanctions.restriction')}</legend>
          <select value={protocol} onChange={(e) => setProtocol(e.target.value as Protocol | '')}>
            <option value="">—</option>
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
          <select value={direction} onChange={(e) => setDirection(e.target.value as Direction | '')}>
            <option value="">—</option>
            <option value="in">{t('sanctions.dir.in')}</option>
            <option value="out">{t('sanctions.dir.out')}</option>
            <option value="both">{t('sanctions.dir.both')}</option>
          </select>
        </fieldset>
      ) : null}
      <label>
        {t('sanctions.reason')}{' '}
        <input required minLength={3} value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <label>
        {t('sanctions.evidence')}{' '}
        <textarea required value={evidence} onChange={(e) => setEvidence(e.target.value)} />
      </label>
      <label>
        {t('sanctions.plannedEnd')}{' '}
        <input type="datetime-local" value={plannedEnd} onChange={(e) => setPlannedEnd(e.target.value)} />
      </label>
      <label>
        {t('sanctions.liftCondition')}{' '}
        <input value={liftCondition} onChange={(e) => setLiftCondition(e.target.value)} />
      </label>
      {admin ? (
        <label className="inline">
          <input type="checkbox" checked={withheld} onChange={(e) => setWithheld(e.target.checked)} />{' '}
          {t('sanctions.withheld')}
        </label>
      ) : null}
      {!admin && suggestion?.rung === 'termination' && !rung ? (
        <p className="note" data-testid="sanction-termination-admin">
          {t('sanctions.terminationAdminOnly')}
        </p>
      ) : null}
      <ErrorNote error={error} />
      {done ? <p role="status">{t('sanctions.applied')}</p> : null}
      <button type="submit">{t('sanctions.submit')}</button>
    </form>
  );
}

export function SanctionsPage() {
  const { t, formatDateTime } = useI18n();
  const me = useMe();
  const [all, setAll] = useState(false);
  const list = useResource(() =>
    call(api.GET('/v1/admin/sanctions', { params: { query: all ? {} : { inForce: true } } })),
  );
  const [error, setError] = useState<ApiError | null>(null);
  async function lift(id: string, refusable: boolean) {
    const reason = window.prompt(t('sanctions.liftReason'));
    if (!reason) return;
    const override =
      refusable && me.role === 'admin' ? window.confirm(t('sanctions.overrideConfirm')) : false;
    const r = await call(
      api.POST('/v1/admin/sanctions/{id}/lift', {
        params: { path: { id } },
        body: { reason, ...(override ? { override: true } : {}) },
      }),
    );
    setError(r.ok ? null : r.error);
    list.reload();
  }
  return (
    <Page title={t('nav.console.sanctions')}>
      <p className="lead">{t('sanctions.intro')}</p>
      <ApplyForm onDone={() => list.reload()} />
      <label className="inline">
        <input
          type="checkbox"
          checked={all}
          onChange={(e) => {
            setAll(e.target.checked);
            list.reload();
          }}
        />{' '}
        {t('sanctions.history')}
      </label>
      <ErrorNote error={error} />
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.length === 0 ? <EmptyState text={t('sanctions.none')} /> : null}
      {list.status === 'ready' && list.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="console-sanctions">
            <thead>
              <tr>
                <th scope="col">{t('sanctions.appliedAt')}</th>
                <th scope="col">{t('sanctions.target')}</th>
                <th scope="col">{t('sanctions.rungChoice')}</th>
                <th scope="col">{t('sanctions.reason')}</th>
                <th scope="col">{t('sanctions.end')}</th>
                <th scope="col">{t('sanctions.by')}</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {list.data.map((m) => (
                <tr key={m.id}>
                  <td className="nowrap">{formatDateTime(m.appliedAt)}</td>
                  <td>
                    {m.vpsId ? (
                      <Link to={`/console/vps/${m.vpsId}`}>{m.hostname ?? m.vpsId}</Link>
                    ) : (
                      <Link to={`/console/clients/${m.accountId}`}>{t('sanctions.wholeAccount')}</Link>
                    )}
                  </td>
                  <td>
                    {t(`sanctions.rung.${m.rung}`)}
                    {m.rung !== m.suggestedRung ? (
                      <span className="muted">
                        {' '}
                        ({t('sanctions.suggestedShort', { rung: t(`sanctions.rung.${m.suggestedRung}`) })})
                      </span>
                    ) : null}
                    {m.port ? <code> {`${m.protocol}/${m.port} ${m.direction}`}</code> : null}
                    {m.withheld ? <span className="muted"> · {t('sanctions.withheldShort')}</span> : null}
                    {m.noticeId ? (
                      <>
                        {' · '}
                        <Link to={`/console/authority-notices/${m.noticeId}`}>{t('sanctions.notice')}</Link>
                      </>
                    ) : null}
                  </td>
                  <td>{m.reason}</td>
                  <td className="nowrap">
                    {m.liftedAt
                      ? t('sanctions.liftedAt', { date: formatDateTime(m.liftedAt), by: m.liftedBy ?? '' })
                      : (m.plannedEnd ? formatDateTime(m.plannedEnd) : '') +
                        (m.liftCondition ? ` ${m.liftCondition}` : '')}
                  </td>
                  <td>{m.appliedBy}</td>
                  <td>
                    {m.inForce ? (
                      <button
                        type="button"
                        className="button-quiet"
                        onClick={() => void lift(m.id, m.restoreRefusable)}
                      >
                        {t('sanctions.lift')}
                      </button>
                    ) : null}
                    {m.inForce && m.restoreRefusable ? (
                      <span className="muted"> {t('sanctions.mayRefuse')}</span>
                    ) : null}
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
