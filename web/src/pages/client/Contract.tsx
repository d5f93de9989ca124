// Client area: a contract's term and renewal (R11.1, R11.2, R11.3) — the end date of a fixed
// term or the next renewal of a subscription, the renewal invoice, an unpaid renewal's grace,
// the reminders sent, and the client's choices, each confirmed first: switch to a monthly
// subscription (renewed from the current end date, not from today), stop the renewal (the
// contract then ends at its expiry), resume it before the expiry. Dates are shown in the
// time zone the API gives (the client's; Europe/Paris by default).
import { useState } from 'react';
import { api, call, type ApiError, type ResponseBody } from '../../api/client.ts';
import { ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n, type Language } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { formatMoney, invoiceStatusLabel } from './InvoicesFormat.tsx';

type Renewal = ResponseBody<'/v1/contracts/{id}/renewal', 'get'>;
type Action = Renewal['actions'][number];

/** An API instant (UTC ISO string) as a reader in `timeZone` sees it. */
export function formatInZone(iso: string | null | undefined, language: Language, timeZone: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(language === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone,
  }).format(new Date(iso));
}

const endpoint = {
  switch_to_subscription: '/v1/contracts/{id}/switch-to-subscription',
  stop_renewal: '/v1/contracts/{id}/stop-renewal',
  resume_renewal: '/v1/contracts/{id}/resume-renewal',
} as const;

const labels = {
  switch_to_subscription: {
    button: 'contract.switch',
    help: 'contract.switchHelp',
    confirm: 'contract.switchConfirm',
  },
  stop_renewal: { button: 'contract.stop', help: 'contract.stopHelp', confirm: 'contract.stopConfirm' },
  resume_renewal: {
    button: 'contract.resume',
    help: 'contract.resumeHelp',
    confirm: 'contract.resumeConfirm',
  },
} as const;

export function ClientContractPage({ id }: { id: string }) {
  const { t, language } = useI18n();
  const renewal = useResource(() =>
    call(api.GET('/v1/contracts/{id}/renewal', { params: { path: { id } } })),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<Action | null>(null);

  if (renewal.status === 'loading') return <Loading />;
  if (renewal.status === 'error') return <ErrorNote error={renewal.error} />;
  const r = renewal.data;
  const at = (iso: string | null | undefined) => formatInZone(iso, language, r.timeZone);
  // The date each choice is about: the current expiry.
  const expiry = at(r.expiresAt);

  async function run(action: Action) {
    if (!window.confirm(t(labels[action].confirm, { date: expiry }))) return;
    setBusy(true);
    setError(null);
    const res = await call(api.POST(endpoint[action], { params: { path: { id } } }));
    setBusy(false);
    if (res.ok) setDone(action);
    else setError(res.error);
    renewal.reload();
  }

  return (
    <Page
      title={t('contract.title', { hostname: r.hostname })}
      actions={<Link to={`/client/vps/${r.vpsId}`}>{t('contract.backToVps')}</Link>}
    >
      <section className="card" aria-labelledby="contract-facts">
        <h2 id="contract-facts">{t('contract.facts')}</h2>
        <dl className="facts" data-testid="contract-facts">
          <dt>{t('contract.kind')}</dt>
          <dd data-testid="contract-kind" data-kind={r.kind}>
            {r.kind === 'fixed'
              ? t('contract.kindFixed', { months: r.termMonths ?? 0 })
              : t('contract.kindSubscription')}
          </dd>
          <dt>{t('contract.startedAt')}</dt>
          <dd>{at(r.startedAt)}</dd>
          {r.endsAt ? (
            <>
              <dt>{t('contract.endsAt')}</dt>
              <dd data-testid="contract-ends">
                <strong>{at(r.endsAt)}</strong>
              </dd>
            </>
          ) : null}
          {r.renews ? (
            <>
              <dt>{t('contract.renewsAt')}</dt>
              <dd data-testid="contract-renews">
                <strong>{at(r.nextRenewalAt)}</strong>
              </dd>
            </>
          ) : null}
          {!r.endsAt && !r.renews ? (
            <>
              <dt>{t('contract.paidUntil')}</dt>
              <dd>{at(r.expiresAt)}</dd>
            </>
          ) : null}
          <dt>{t('contract.price')}</dt>
          <dd>{formatMoney(r.monthlyPriceCents, language)}</dd>
        </dl>
        {r.renewalStoppedAt ? (
          <p className="muted">{t('contract.stoppedAt', { date: at(r.renewalStoppedAt) })}</p>
        ) : null}
        {r.endsAt ? <p className="note">{t('contract.endNote')}</p> : null}
        {r.termination ? (
          <p className="note note-error" data-testid="contract-termination">
            {t('contract.termination', { state: r.termination.state, date: at(r.termination.effectiveAt) })}
          </p>
        ) : null}
        <p className="muted">{t('contract.timeZone', { zone: r.timeZone })}</p>
      </section>

      {r.kind === 'subscription' && (r.renewalInvoice || r.renewalInvoiceAt || r.graceEndsAt) ? (
        <section className="card" aria-labelledby="contract-renewal">
          <h2 id="contract-renewal">{t('contract.renewal')}</h2>
          {r.renewalInvoice ? (
            <p data-testid="contract-renewal-invoice" data-status={r.renewalInvoice.status}>
              <Link to={`/client/invoices/${r.renewalInvoice.id}`}>
                {t('contract.renewalInvoice', {
                  number: r.renewalInvoice.number,
                  amount: formatMoney(r.renewalInvoice.totalCents, language),
                  from: at(r.renewalInvoice.periodStart),
                  to: at(r.renewalInvoice.periodEnd),
                  status: invoiceStatusLabel(t, r.renewalInvoice.status),
                })}
              </Link>
            </p>
          ) : null}
          {r.renewalInvoiceAt ? (
            <p>{t('contract.renewalInvoiceAt', { date: at(r.renewalInvoiceAt) })}</p>
          ) : null}
          {r.graceEndsAt ? (
            <p className="note note-error" role="alert" data-testid="contract-grace">
              {t('contract.grace', { date: at(r.graceEndsAt) })}
            </p>
          ) : null}
        </section>
      ) : null}

      {r.warningsSent.length || r.nextWarningAt ? (
        <section className="card" aria-labelledby="contract-warnings">
          <h2 id="contract-warnings">{t('contract.warnings')}</h2>
          <ul>
            {r.warningsSent.map((w) => (
              <li key={w.daysBefore}>
                {t('contract.warningSent', { date: at(w.sentAt), days: w.daysBefore })}
              </li>
            ))}
          </ul>
          {r.nextWarningAt ? (
            <p className="muted">{t('contract.nextWarning', { date: at(r.nextWarningAt) })}</p>
          ) : null}
        </section>
      ) : null}

      <section className="card" aria-labelledby="contract-actions">
        <h2 id="contract-actions">{t('contract.actions')}</h2>
        {done ? (
          <p className="note note-ok" role="status">
            {t(`contract.done.${done}`)}
          </p>
        ) : null}
        <ErrorNote error={error} />
        {r.actions.length === 0 ? <p className="muted">{t('contract.noAction')}</p> : null}
        {r.actions.map((a) => (
          <div key={a} className="action-block">
            <p>{t(labels[a].help, { date: expiry })}</p>
            <button
              type="button"
              className={a === 'stop_renewal' ? 'button-danger' : 'button-primary'}
              disabled={busy}
              data-action={a}
              onClick={() => void run(a)}
            >
              {t(labels[a].button)}
            </button>
          </div>
        ))}
      </section>
    </Page>
  );
}
