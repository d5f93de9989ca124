// The console home: real figures (GET /v1/admin/dashboard) instead of a second menu — what
// runs, how full the hosts are (R2.1, R2.2), what waits for a person (alerts R4.1, orders),
// and this month's revenue (admins only). Bars where a glance says more than a number.
import { api, call } from '../../api/client.ts';
import type { paths } from '../../api/schema.d.ts';
import { Link } from '../../router.tsx';
import { ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useState } from 'react';
import { hasKey, useI18n, type Language } from '../../i18n/index.tsx';
import { useMe } from '../../session.tsx';
import { OpenAlertsCard } from './Alerts.tsx';
import { FirstRunGuide, setupComplete } from './FirstRun.tsx';

export type DashboardFigures =
  paths['/v1/admin/dashboard']['get']['responses'][200]['content']['application/json'];
const loadFigures = () => call(api.GET('/v1/admin/dashboard'));

const locale = (l: Language) => (l === 'fr' ? 'fr-FR' : 'en-GB');

function money(cents: number, currency: string, language: Language): string {
  return new Intl.NumberFormat(locale(language), { style: 'currency', currency }).format(cents / 100);
}

/** A labelled bar: `value` out of `max`, with the figures written beside it. */
export function Bar({
  label,
  value,
  max,
  text,
  testId,
}: {
  label: string;
  value: number;
  max: number;
  text: string;
  testId?: string;
}) {
  const pct = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  const level = pct >= 90 ? 'bar-high' : pct >= 70 ? 'bar-mid' : '';
  return (
    <div className="bar-row" data-testid={testId}>
      <span className="bar-label">{label}</span>
      <span
        className={`bar ${level}`}
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max}
        aria-valuenow={value}
      >
        <span className="bar-fill" style={{ width: `${pct}%` }} />
      </span>
      <span className="bar-text">{text}</span>
    </div>
  );
}

function Stat({ label, value, to, testId }: { label: string; value: string; to?: string; testId: string }) {
  const body = (
    <>
      <span className="stat-value">{value}</span>
      <span className="stat-label">{label}</span>
    </>
  );
  return (
    <li className="stat" data-testid={testId}>
      {to ? <Link to={to}>{body}</Link> : <div>{body}</div>}
    </li>
  );
}

export function Figures({ data }: { data: DashboardFigures }) {
  const { t, language } = useI18n();
  const n = (x: number) => new Intl.NumberFormat(locale(language)).format(x);
  const word = (key: string, raw: string) => (hasKey(key) ? t(key) : raw);
  const live = data.vps.filter((v) => v.state !== 'destroyed');
  const total = live.reduce((s, v) => s + v.count, 0);
  const running = live.find((v) => v.state === 'running')?.count ?? 0;
  const month = data.revenue
    ? new Intl.DateTimeFormat(locale(language), {
        month: 'long',
        year: 'numeric',
        timeZone: data.revenue.timeZone,
      }).format(new Date(data.revenue.from))
    : '';
  return (
    <>
      <ul className="stats">
        <Stat
          label={t('home.vpsRunning', { total: n(total) })}
          value={n(running)}
          to="/console/vps"
          testId="stat-vps"
        />
        <Stat
          label={t('home.openAlerts')}
          value={n(data.openAlerts)}
          to="/console/alerts"
          testId="stat-alerts"
        />
        <Stat
          label={t('home.awaitingPayment')}
          value={n(data.orders.awaitingPayment)}
          to="/console/orders"
          testId="stat-awaiting-payment"
        />
        <Stat
          label={t('home.awaitingValidation')}
          value={n(data.orders.awaitingValidation)}
          to="/console/orders"
          testId="stat-awaiting-validation"
        />
        {data.revenue
          ? (data.revenue.currencies.length ? data.revenue.currencies : [null]).map((c) => (
              <Stat
                key={c?.currency ?? 'none'}
                label={t('home.revenueNet', { month })}
                value={money(c?.netCents ?? 0, c?.currency ?? 'EUR', language)}
                to="/console/payments"
                testId="stat-revenue"
              />
            ))
          : null}
      </ul>

      <div className="home-grid">
        <section className="card" aria-labelledby="vps-states-title" data-testid="home-vps">
          <h2 id="vps-states-title">{t('home.vpsByState')}</h2>
          {live.length === 0 ? <p className="muted">{t('home.noVps')}</p> : null}
          {live.map((v) => (
            <Bar
              key={v.state}
              label={word(`vps.state.${v.state}`, v.state)}
              value={v.count}
              max={total}
              text={n(v.count)}
              testId={`vps-state-${v.state}`}
            />
          ))}
        </section>

        {data.revenue ? (
          <section className="card" aria-labelledby="revenue-title" data-testid="home-revenue">
            <h2 id="revenue-title">{t('home.revenueTitle', { month })}</h2>
            <p className="muted">{t('home.revenueHint')}</p>
            {data.revenue.currencies.length === 0 ? <p>{t('home.noRevenue')}</p> : null}
            {data.revenue.currencies.map((c) => (
              <dl className="facts" key={c.currency}>
                <dt>{t('home.revenueNetShort')}</dt>
                <dd>{money(c.netCents, c.currency, language)}</dd>
                <dt>{t('home.revenueVat')}</dt>
                <dd>{money(c.vatCents, c.currency, language)}</dd>
                <dt>{t('home.revenueTotal')}</dt>
                <dd>
                  {money(c.totalCents, c.currency, language)} · {t('home.invoices', { n: n(c.invoices) })}
                </dd>
              </dl>
            ))}
          </section>
        ) : null}
      </div>

      <section className="card" aria-labelledby="hosts-title" data-testid="home-hosts">
        <h2 id="hosts-title">
          {t('home.hostsTitle')} · <Link to="/console/hosts">{t('home.hostsAll')}</Link>
        </h2>
        {data.hosts.length === 0 ? <p className="muted">{t('home.noHosts')}</p> : null}
        {data.hosts.map((h) => (
          <div className="host-capacity" key={h.id} data-testid={`host-${h.name}`}>
            <h3>
              {h.name}{' '}
              <span className="muted">
                · {word(`home.hostState.${h.state}`, h.state)} · {t('home.hostVps', { n: n(h.vpsCount) })}
              </span>
            </h3>
            <Bar
              label={t('home.vcpus')}
              value={h.vcpus.used}
              max={h.vcpus.allowed}
              text={`${n(h.vcpus.used)} / ${n(h.vcpus.allowed)}`}
            />
            <Bar
              label={t('home.memory')}
              value={h.memoryMiB.used}
              max={h.memoryMiB.allowed}
              text={`${n(h.memoryMiB.used)} / ${n(h.memoryMiB.allowed)} ${language === 'fr' ? 'Mio' : 'MiB'}`}
            />
            <Bar
              label={t('home.disk')}
              value={h.diskGiB.used}
              max={h.diskGiB.allowed}
              text={`${n(h.diskGiB.used)} / ${n(h.diskGiB.allowed)} ${language === 'fr' ? 'Gio' : 'GiB'}`}
            />
          </div>
        ))}
        {data.hosts.length > 0 ? <p className="muted">{t('home.capacityHint')}</p> : null}
      </section>
    </>
  );
}

export function ConsoleHome() {
  const { t } = useI18n();
  const me = useMe();
  const figures = useResource(loadFigures);
  const [guide, setGuide] = useState<boolean | null>(null);
  const incomplete = figures.status === 'ready' && !setupComplete(figures.data.setup);
  // Admins see the guide while something is missing, unless they hid it; it can be shown again.
  const showGuide = me.role === 'admin' && (guide ?? incomplete);
  return (
    <Page title={t('dashboard.hello', { name: me.name })}>
      <p className="muted">{t('dashboard.signedInAs', { email: me.email, role: t(`role.${me.role}`) })}</p>
      {figures.status === 'loading' ? <Loading /> : null}
      {figures.status === 'error' ? <ErrorNote error={figures.error} /> : null}
      {figures.status === 'ready' && showGuide ? (
        <FirstRunGuide figures={figures.data} onChange={figures.reload} />
      ) : null}
      {me.role === 'admin' && figures.status === 'ready' ? (
        <button type="button" className="button-quiet" onClick={() => setGuide(!showGuide)}>
          {showGuide ? t('firstRun.hide') : t('firstRun.show')}
        </button>
      ) : null}
      {figures.status === 'ready' ? <Figures data={figures.data} /> : null}
      <OpenAlertsCard />
    </Page>
  );
}
