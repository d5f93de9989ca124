// R3.13 ("quotas show their live balance to both sides"): a VPS's outbound traffic in the
// current billing cycle against its quota, the forecast, the throttle and its end, and a
// hand-made SVG bar chart of the daily usage. Used on the client's VPS page and in the console.
import { api, call } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';
import { ErrorNote, Loading, useResource } from './ui.tsx';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;

/** Decimal units, as the terms count (10 TB = 10^13 bytes). */
export function formatBytes(value: string | number, language: 'fr' | 'en'): string {
  let n = Number(value);
  let i = 0;
  while (n >= 1000 && i < UNITS.length - 1) {
    n /= 1000;
    i++;
  }
  const unit = language === 'fr' ? UNITS[i]!.replace('B', 'o') : UNITS[i]!;
  return `${n.toLocaleString(language === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: i === 0 ? 0 : 2 })} ${unit}`;
}

/** Share of `part` in `whole` as a 0..1 number, from decimal strings (64-bit safe enough for a bar). */
const ratio = (part: string, whole: string) => {
  const w = Number(whole);
  return w > 0 ? Math.min(1, Number(part) / w) : 0;
};

export function DailyChart({
  days,
  label,
}: {
  days: { day: string; bytesOut: string; bytesIn: string }[];
  label: string;
}) {
  const { language } = useI18n();
  const width = 600;
  const height = 120;
  const max = Math.max(1, ...days.map((d) => Number(d.bytesOut)));
  const slot = width / Math.max(1, days.length);
  const bar = Math.max(1, slot * 0.7);
  return (
    <svg
      viewBox={`0 0 ${width} ${height + 16}`}
      role="img"
      aria-label={label}
      style={{ width: '100%', height: 'auto', maxWidth: 640 }}
      data-testid="traffic-chart"
    >
      <line x1="0" y1={height} x2={width} y2={height} stroke="currentColor" strokeOpacity="0.3" />
      {days.map((d, i) => {
        const h = (Number(d.bytesOut) / max) * (height - 4);
        return (
          <rect
            key={d.day}
            x={i * slot + (slot - bar) / 2}
            y={height - h}
            width={bar}
            height={h}
            fill="#2f6fb3"
          >
            <title>{`${d.day}: ${formatBytes(d.bytesOut, language)}`}</title>
          </rect>
        );
      })}
      {days.length ? (
        <>
          <text x="0" y={height + 13} fontSize="11" fill="currentColor">
            {days[0]!.day}
          </text>
          <text x={width} y={height + 13} fontSize="11" fill="currentColor" textAnchor="end">
            {days.at(-1)!.day}
          </text>
        </>
      ) : null}
    </svg>
  );
}

export function TrafficCard({ vpsId }: { vpsId: string }) {
  const { t, language, formatDateTime } = useI18n();
  const traffic = useResource(() =>
    call(api.GET('/v1/vps/{id}/traffic', { params: { path: { id: vpsId } } })),
  );
  return (
    <section className="card" aria-labelledby="traffic-title" data-testid="traffic-card">
      <h2 id="traffic-title">{t('traffic.title')}</h2>
      {traffic.status === 'loading' ? <Loading /> : null}
      {traffic.status === 'error' ? <ErrorNote error={traffic.error} /> : null}
      {traffic.status === 'ready'
        ? (() => {
            const d = traffic.data;
            const share = ratio(d.usedOutBytes, d.quotaBytes);
            return (
              <>
                <p className="muted">
                  {t('traffic.cycle', {
                    start: formatDateTime(d.cycleStart),
                    end: formatDateTime(d.cycleEnd),
                  })}
                </p>
                <p>
                  <strong data-testid="traffic-used">{formatBytes(d.usedOutBytes, language)}</strong>{' '}
                  {t('traffic.of', { quota: formatBytes(d.quotaBytes, language) })}
                </p>
                <div
                  role="progressbar"
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={Math.round(share * 100)}
                  aria-label={t('traffic.usedLabel')}
                  style={{
                    height: 12,
                    borderRadius: 6,
                    background: '#e3e8ef',
                    overflow: 'hidden',
                    maxWidth: 640,
                  }}
                >
                  <div
                    style={{
                      width: `${(share * 100).toFixed(2)}%`,
                      height: '100%',
                      background: d.throttled ? '#b3261e' : '#2f6fb3',
                    }}
                  />
                </div>
                <dl className="facts">
                  <dt>{t('traffic.remaining')}</dt>
                  <dd>{formatBytes(d.remainingBytes, language)}</dd>
                  <dt>{t('traffic.forecast')}</dt>
                  <dd>
                    {formatBytes(d.forecastBytes, language)}
                    {d.forecastExceedsQuota ? ` — ${t('traffic.forecastOver')}` : ''}
                  </dd>
                  <dt>{t('traffic.received')}</dt>
                  <dd>{formatBytes(d.usedInBytes, language)}</dd>
                  <dt>{t('traffic.bandwidth')}</dt>
                  <dd>{`${d.bandwidthBitsPerSecond / 1_000_000} Mbit/s`}</dd>
                  <dt>{t('traffic.lastRead')}</dt>
                  <dd>{formatDateTime(d.lastReadAt)}</dd>
                </dl>
                {d.throttled ? (
                  <p className="note note-error" role="status" data-testid="traffic-throttled">
                    {t('traffic.throttled', { until: formatDateTime(d.throttledUntil) })}
                  </p>
                ) : null}
                <h3>{t('traffic.daily')}</h3>
                <DailyChart days={d.daily} label={t('traffic.dailyLabel')} />
                <p className="muted">{t('traffic.countedAt')}</p>
              </>
            );
          })()
        : null}
    </section>
  );
}
