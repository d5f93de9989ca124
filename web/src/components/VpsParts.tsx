// Pieces of the VPS pages shared by the client area and the console: state badge, capacity and
// progress bars, power buttons (only the actions the API says the caller may ask for), the
// provisioning progress polled while it runs, the events list (a client's events name the
// provider as a role and give a problem code, both worded here).
import { useEffect, useState } from 'react';
import { api, call, type ApiError, type ResponseBody } from '../api/client.ts';
import { eventText, HIDDEN_DETAIL_KEYS } from '../i18n/events.ts';
import { useI18n, type MessageKey } from '../i18n/index.tsx';
import { ErrorNote, LoadMore, Loading, usePagedResource, useResource } from './ui.tsx';

export type Vps = ResponseBody<'/v1/vps/{id}', 'get'>;
type PowerAction = 'start' | 'stop' | 'reboot' | 'poweroff';
const powerActions: readonly PowerAction[] = ['start', 'stop', 'reboot', 'poweroff'];

const stateTone: Record<string, string> = {
  running: '#1f7a3f',
  starting: '#2f6fb3',
  stopping: '#2f6fb3',
  provisioning: '#2f6fb3',
  pending: '#6b7280',
  defined: '#6b7280',
  stopped: '#6b7280',
  paused: '#a15c00',
  failed: '#b3261e',
  destroying: '#6b7280',
  destroyed: '#6b7280',
};

export function StateBadge({ state }: { state: string }) {
  const { t } = useI18n();
  const key = `vps.state.${state}` as MessageKey;
  const label = t(key) === key ? state : t(key);
  return (
    <span
      className="badge"
      data-testid="vps-state"
      data-state={state}
      style={{ background: stateTone[state] ?? '#6b7280', color: '#fff', padding: '0.1rem 0.6rem' }}
    >
      {label}
    </span>
  );
}

/** A suspension holds the VPS (its own or its account's): nothing starts it until it is lifted. */
export function SuspendedBadge({ vps }: { vps: Vps }) {
  const { t } = useI18n();
  if (!vps.suspended) return null;
  return (
    <span className="badge" data-testid="vps-suspended" style={{ background: '#a15c00', color: '#fff' }}>
      {t('vps.suspended')}
    </span>
  );
}

/** A horizontal bar: `value` of `max`, red above 90 %. */
export function Bar({ value, max, label }: { value: number; max: number; label: string }) {
  const share = max > 0 ? Math.min(1, value / max) : 0;
  return (
    <div
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
      aria-label={label}
      style={{
        display: 'flex',
        height: 10,
        borderRadius: 5,
        background: '#e3e8ef',
        overflow: 'hidden',
        minWidth: 120,
      }}
    >
      <div style={{ width: `${share * 100}%`, background: share > 0.9 ? '#b3261e' : '#2f6fb3' }} />
    </div>
  );
}

export const ipOnly = (ipv4: string | null) => ipv4?.split('/')[0] ?? '—';

/** The datacenters by id (for names and cities). */
export function useDatacenters() {
  const dcs = useResource(() => call(api.GET('/v1/datacenters')));
  return (id: string) => {
    if (dcs.status !== 'ready') return '…';
    const d = dcs.data.find((x) => x.id === id);
    return d ? `${d.name} (${d.city})` : id;
  };
}

/** The buttons of the actions the API lists for this VPS; 202 → the VPS reloads and shows progress. */
export function PowerButtons({ vps, onDone }: { vps: Vps; onDone: () => void }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [queued, setQueued] = useState<string | null>(null);
  const allowed = powerActions.filter((a) => vps.actions.includes(a));
  async function run(action: PowerAction) {
    if (action === 'poweroff' && !window.confirm(t('vps.confirmPoweroff'))) return;
    setBusy(true);
    const r = await call(
      api.POST('/v1/vps/{id}/actions/{action}', { params: { path: { id: vps.id, action } } }),
    );
    setBusy(false);
    setError(r.ok ? null : r.error);
    setQueued(r.ok ? action : null);
    onDone();
  }
  if (allowed.length === 0 && !error) return <p className="muted">{t('vps.noAction')}</p>;
  return (
    <div>
      <div className="inline-form" role="group" aria-label={t('vps.actions')}>
        {allowed.map((a) => (
          <button
            key={a}
            type="button"
            className={a === 'poweroff' ? 'button-quiet' : 'button-primary'}
            disabled={busy}
            data-action={a}
            onClick={() => void run(a)}
          >
            {t(`vps.action.${a}`)}
          </button>
        ))}
      </div>
      {queued ? (
        <p className="note" role="status">
          {t('vps.actionQueued', { action: t(`vps.action.${queued as PowerAction}`) })}
        </p>
      ) : null}
      <ErrorNote error={error} />
    </div>
  );
}

const transient = new Set(['pending', 'provisioning', 'starting', 'stopping']);

/** Reloads `reload` every `ms` while the VPS is in a state that moves by itself. */
export function usePolling(state: string | undefined, reload: () => void, ms = 2000) {
  useEffect(() => {
    if (!state || !transient.has(state)) return;
    const timer = setInterval(reload, ms);
    return () => clearInterval(timer);
  }, [state, reload, ms]);
}

/** The provisioning step and percent, live. */
export function ProvisionProgress({ vps }: { vps: Vps }) {
  const { t } = useI18n();
  if (vps.state !== 'pending' && vps.state !== 'provisioning') return null;
  const step = vps.provisionStep;
  const stepKey = `vps.step.${step ?? 'none'}` as MessageKey;
  return (
    <section className="card" aria-labelledby="provision-title" data-testid="provision-progress">
      <h2 id="provision-title">{t('vps.provisioning')}</h2>
      <p>
        {t('vps.lastStep')}: <strong>{t(stepKey) === stepKey ? step : t(stepKey)}</strong> —{' '}
        <span data-testid="provision-percent">{vps.provisionPercent} %</span>
      </p>
      <Bar value={vps.provisionPercent} max={100} label={t('vps.provisioning')} />
      <p className="muted">{t('vps.provisioningHint')}</p>
    </section>
  );
}

export function EventsList({ id, generation }: { id: string; generation: number }) {
  const { t, formatDateTime } = useI18n();
  const events = usePagedResource((cursor) =>
    call(api.GET('/v1/vps/{id}/events', { params: { path: { id }, query: cursor ? { cursor } : {} } })),
  );
  const { reload } = events;
  useEffect(() => {
    if (generation > 0) reload();
  }, [generation, reload]);
  return (
    <section className="card" aria-labelledby="events-title">
      <h2 id="events-title">{t('vps.events')}</h2>
      {events.status === 'loading' ? <Loading /> : null}
      {events.status === 'error' ? <ErrorNote error={events.error} /> : null}
      {events.status === 'ready' ? (
        <div className="table-wrap">
          <table data-testid="vps-events">
            <thead>
              <tr>
                <th scope="col">{t('vps.at')}</th>
                <th scope="col">{t('vps.event')}</th>
                <th scope="col">{t('vps.details')}</th>
              </tr>
            </thead>
            <tbody>
              {events.data.map((e, i) => (
                <tr key={`${e.at}-${i}`}>
                  <td className="nowrap">{formatDateTime(e.at)}</td>
                  <EventCells t={t} kind={e.kind} details={e.details} formatDateTime={formatDateTime} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <LoadMore list={events} />
    </section>
  );
}

const problems = ['power_failed', 'provision_failed', 'plan_change_failed', 'vm_crashed'] as const;

function EventCells({
  t,
  kind,
  details,
  formatDateTime,
}: {
  t: ReturnType<typeof useI18n>['t'];
  kind: string;
  details: Record<string, unknown>;
  formatDateTime: ReturnType<typeof useI18n>['formatDateTime'];
}) {
  const { sentence, said } = eventText(t, kind, details);
  return (
    <>
      <td data-testid="vps-event-sentence">{sentence === kind ? <code>{kind}</code> : sentence}</td>
      <td className="break">{describe(t, details, said, formatDateTime)}</td>
    </>
  );
}

/** What the sentence did not say: who, the plan, a due date, the problem (client) or reason (staff). */
function describe(
  t: ReturnType<typeof useI18n>['t'],
  d: Record<string, unknown>,
  said: readonly string[],
  formatDateTime: ReturnType<typeof useI18n>['formatDateTime'],
): string {
  return Object.entries(d)
    .filter(([k, v]) => v !== null && v !== undefined && !HIDDEN_DETAIL_KEYS.has(k) && !said.includes(k))
    .map(([k, v]) => {
      if (k === 'by') return t('event.by', { by: v === 'provider' ? t('vps.byProvider') : String(v) });
      if (k === 'plan') return t('event.plan', { plan: String(v) });
      if (k === 'dueAt' && typeof v === 'string') return t('event.dueAt', { date: formatDateTime(v) });
      if (k === 'problem' && (problems as readonly unknown[]).includes(v))
        return t(`vps.problem.${v as (typeof problems)[number]}`);
      return `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
    })
    .join(' · ');
}
