// R3.12: the client changes its VPS's plan. The plans sold in the VPS's datacenter with what a
// change costs now (the difference prorated to the day, the rule shown), those refused (the disk
// only grows), the order, and the changes with their deadline counting down (48 h from payment).
import { useEffect, useState } from 'react';
import { api, call, type ApiError, type ResponseBody } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n, type Translate } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { formatMoney } from './InvoicesFormat.tsx';

export type PlanChangeView = ResponseBody<'/v1/vps/{id}/plan-changes', 'get'>[number];

/** Re-renders every 30 s so countdowns move. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(h);
  }, []);
  return now;
}

/** "47 h 12 min left" / "late by 2 h 3 min" / the state in words. */
export function deadlineText(
  t: Translate,
  c: Pick<PlanChangeView, 'deadline' | 'dueAt'>,
  now: number,
): string {
  if (!c.dueAt || c.deadline === 'none') return t('planChange.deadline.none');
  if (c.deadline === 'done') return t('planChange.deadline.done');
  if (c.deadline === 'done_late') return t('planChange.deadline.doneLate');
  const ms = new Date(c.dueAt).getTime() - now;
  const abs = Math.abs(ms);
  const hours = Math.floor(abs / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  return ms >= 0
    ? t('planChange.deadline.left', { hours, minutes })
    : t('planChange.deadline.late', { hours, minutes });
}

const tone: Record<PlanChangeView['deadline'], string> = {
  none: '#6b7280',
  on_time: '#1f6feb',
  near: '#a15c00',
  late: '#b3261e',
  done: '#1e7d45',
  done_late: '#8a4b00',
};

/** The deadline as a coloured badge (late: red; near: amber). */
export function DeadlineBadge({
  change,
  now,
}: {
  change: Pick<PlanChangeView, 'deadline' | 'dueAt'>;
  now: number;
}) {
  const { t } = useI18n();
  return (
    <span
      className="badge"
      data-testid="plan-change-deadline"
      data-deadline={change.deadline}
      style={{ background: tone[change.deadline], color: '#fff', padding: '0.1rem 0.6rem' }}
    >
      {deadlineText(t, change, now)}
    </span>
  );
}

export function PlanChangesList({
  changes,
  now,
  onCancel,
}: {
  changes: readonly PlanChangeView[];
  now: number;
  onCancel?: () => void;
}) {
  const { t, language, formatDateTime } = useI18n();
  if (changes.length === 0) return <EmptyState text={t('planChange.noneYet')} />;
  return (
    <div className="table-wrap">
      <table data-testid="plan-changes">
        <thead>
          <tr>
            <th scope="col">{t('planChange.plan')}</th>
            <th scope="col">{t('planChange.amount')}</th>
            <th scope="col">{t('planChange.state')}</th>
            <th scope="col">{t('planChange.paidAt')}</th>
            <th scope="col">{t('planChange.dueAt')}</th>
            <th scope="col">{t('planChange.deadline')}</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c) => (
            <tr key={c.id} data-deadline={c.deadline}>
              <td>
                {c.toPlanName}{' '}
                <span className="muted">
                  {t('vps.planFigures', { vcpus: c.to.vcpus, ram: c.to.memoryMiB, disk: c.to.diskGiB })}
                </span>
              </td>
              <td>
                {c.invoiceId ? (
                  <Link to={`/client/invoices/${c.invoiceId}`}>{formatMoney(c.amountCents, language)}</Link>
                ) : (
                  formatMoney(0, language)
                )}
              </td>
              <td>
                {t(`planChange.stateName.${c.state}`)}
                {c.state === 'awaiting_payment' && onCancel ? (
                  <>
                    {' '}
                    <button type="button" className="button-quiet" onClick={onCancel}>
                      {t('planChange.cancel')}
                    </button>
                  </>
                ) : null}
              </td>
              <td className="nowrap">{c.paidAt ? formatDateTime(c.paidAt) : '—'}</td>
              <td className="nowrap">{c.dueAt ? formatDateTime(c.dueAt) : '—'}</td>
              <td>
                <DeadlineBadge change={c} now={now} />
                {c.rebootAt && c.state === 'paid' ? (
                  <div className="muted">{t('planChange.rebootAt', { at: formatDateTime(c.rebootAt) })}</div>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function PlanChangePage({ id }: { id: string }) {
  const { t, language } = useI18n();
  const now = useNow();
  const options = useResource(() =>
    call(api.GET('/v1/vps/{id}/plan-change/options', { params: { path: { id } } })),
  );
  const changes = useResource(() => call(api.GET('/v1/vps/{id}/plan-changes', { params: { path: { id } } })));
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  async function order(planId: string, name: string) {
    if (!window.confirm(t('planChange.confirm', { plan: name }))) return;
    setBusy(true);
    const r = await call(
      api.POST('/v1/vps/{id}/plan-change', { params: { path: { id } }, body: { planId } }),
    );
    setBusy(false);
    setError(r.ok ? null : r.error);
    options.reload();
    changes.reload();
  }
  async function cancel() {
    if (!window.confirm(t('planChange.confirmCancel'))) return;
    const r = await call(api.POST('/v1/vps/{id}/plan-change/cancel', { params: { path: { id } } }));
    setError(r.ok ? null : r.error);
    options.reload();
    changes.reload();
  }
  return (
    <Page
      title={t('planChange.title')}
      actions={<Link to={`/client/vps/${id}`}>{t('planChange.back')}</Link>}
    >
      <p className="note">{t('planChange.rule')}</p>
      <ErrorNote error={error} />
      <section className="card" aria-labelledby="pc-changes">
        <h2 id="pc-changes">{t('planChange.changes')}</h2>
        {changes.status === 'loading' ? <Loading /> : null}
        {changes.status === 'error' ? <ErrorNote error={changes.error} /> : null}
        {changes.status === 'ready' ? (
          <PlanChangesList changes={changes.data} now={now} onCancel={() => void cancel()} />
        ) : null}
      </section>
      <section className="card" aria-labelledby="pc-plans">
        <h2 id="pc-plans">{t('planChange.plans')}</h2>
        {options.status === 'loading' ? <Loading /> : null}
        {options.status === 'error' ? <ErrorNote error={options.error} /> : null}
        {options.status === 'ready' ? (
          <>
            <p>
              {t('planChange.current', {
                plan: options.data.currentPlanName,
                price: formatMoney(options.data.monthlyPriceCents, language),
              })}
            </p>
            {options.data.refusal ? (
              <p className="note note-error" data-code={options.data.refusal.code}>
                {t(`planChange.refusal.${refusalKey(options.data.refusal.code)}`)}
              </p>
            ) : null}
            <div className="table-wrap">
              <table data-testid="plan-change-options">
                <thead>
                  <tr>
                    <th scope="col">{t('planChange.plan')}</th>
                    <th scope="col">{t('planChange.monthly')}</th>
                    <th scope="col">{t('planChange.dueNow')}</th>
                    <th scope="col" />
                  </tr>
                </thead>
                <tbody>
                  {options.data.plans.map((p) => (
                    <tr key={p.planId}>
                      <td>
                        {p.name}{' '}
                        <span className="muted">
                          {t('vps.planFigures', { vcpus: p.vcpus, ram: p.memoryMiB, disk: p.diskGiB })}
                        </span>
                      </td>
                      <td>{formatMoney(p.monthlyPriceCents, language)}</td>
                      <td>
                        {formatMoney(p.totalCents, language)}{' '}
                        <span className="muted">
                          {t('planChange.prorated', {
                            net: formatMoney(p.amountCents, language),
                            days: p.remainingDays,
                            cycle: p.cycleDays,
                            months: p.fullMonths,
                          })}
                        </span>
                      </td>
                      <td>
                        {p.refused ? (
                          <span className="muted">{t(`planChange.refused.${refusedKey(p.refused)}`)}</span>
                        ) : (
                          <button
                            type="button"
                            disabled={busy || Boolean(options.data.refusal)}
                            onClick={() => void order(p.planId, p.name)}
                          >
                            {t('planChange.order')}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : null}
      </section>
    </Page>
  );
}

function refusalKey(
  code: string,
): 'suspended' | 'pending' | 'notReady' | 'renewalUnpaid' | 'contractExpired' {
  if (code === 'plan_change.vps_suspended') return 'suspended';
  if (code === 'plan_change.pending') return 'pending';
  if (code === 'plan_change.renewal_unpaid') return 'renewalUnpaid';
  if (code === 'plan_change.contract_expired') return 'contractExpired';
  return 'notReady';
}

function refusedKey(code: string): 'samePlan' | 'diskShrink' {
  return code === 'plan_change.same_plan' ? 'samePlan' : 'diskShrink';
}
