// Provider console: every open proof request (R6.1), soonest deadline first, overdue ones
// highlighted, with the documents and the decision buttons.
import { api, call } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { clockOffset, Countdown, DocumentList, kindKey, PhaseBadge } from '../client/Identity.tsx';
import { Decision } from './Clients.tsx';

export function IdentityChecksPage() {
  const { t, formatDateTime } = useI18n();
  const list = useResource(() => call(api.GET('/v1/admin/identity/requests')));
  return (
    <Page title={t('nav.console.identity')}>
      <p className="muted">{t('identityChecks.intro')}</p>
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.requests.length === 0 ? (
        <EmptyState text={t('identityChecks.none')} />
      ) : null}
      {list.status === 'ready'
        ? list.data.requests.map((r) => (
            <article
              key={r.id}
              className="card"
              data-testid="proof-request"
              data-phase={r.phase}
              style={r.phase === 'overdue' ? { borderLeft: '4px solid var(--danger)' } : undefined}
            >
              <h2>
                <Link to={`/console/clients/${r.accountId}`}>{r.accountName}</Link> — {t(kindKey(r.kind))}{' '}
                <PhaseBadge phase={r.phase} />
              </h2>
              <p>
                {t('identity.dueAt')} : {formatDateTime(r.dueAt)}{' '}
                <Countdown dueAt={r.dueAt} offset={clockOffset(list.data.now)} />
              </p>
              {r.note ? <p className="muted">{r.note}</p> : null}
              <DocumentList documents={r.documents} />
              <Decision request={r} onDone={list.reload} />
            </article>
          ))
        : null}
    </Page>
  );
}
