// The sanctions in force on a VPS, with their reason and end (R5.1: nature and expected
// duration), shown to the client on its VPS page and to staff on theirs.
import { api, call } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';
import { ErrorNote, useResource } from './ui.tsx';

export type Rung = 'warning' | 'restriction' | 'limitation' | 'suspension' | 'isolation' | 'termination';

export function SanctionsList({ vpsId }: { vpsId: string }) {
  const { t, formatDateTime } = useI18n();
  const list = useResource(() =>
    call(api.GET('/v1/vps/{id}/sanctions', { params: { path: { id: vpsId } } })),
  );
  if (list.status === 'loading') return null;
  if (list.status === 'error') return <ErrorNote error={list.error} />;
  if (list.data.length === 0) return null;
  return (
    <section className="card" aria-labelledby="vps-sanctions" data-testid="vps-sanctions">
      <h2 id="vps-sanctions">{t('sanctions.inForceTitle')}</h2>
      <ul>
        {list.data.map((m) => (
          <li key={m.id}>
            <strong>{t(`sanctions.rung.${m.rung}`)}</strong>
            {m.vpsId === null ? <span className="muted"> ({t('sanctions.wholeAccount')})</span> : null} —{' '}
            {m.reason}. {m.plannedEnd ? t('sanctions.until', { date: formatDateTime(m.plannedEnd) }) : null}
            {m.plannedEnd && m.liftCondition ? ' · ' : null}
            {m.liftCondition ? t('sanctions.liftWhen', { condition: m.liftCondition }) : null}
            {m.rung === 'isolation' ? <p className="note">{t('sanctions.reinstallNeeded')}</p> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
