// Provider console: the notices, the proof of every email sent to a client (what, when, why,
// with its Message-ID), hash-chained. The chain check, filters and the CSV export.
import { useState } from 'react';
import { api, call } from '../../api/client.ts';
import {
  EmptyState,
  ErrorNote,
  Loading,
  LoadMore,
  Page,
  usePagedResource,
  useResource,
} from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';

interface Filter {
  accountId: string;
  from: string;
  to: string;
}

function toQuery(f: Filter): { accountId?: string; from?: string; to?: string } {
  return {
    ...(f.accountId.trim() ? { accountId: f.accountId.trim() } : {}),
    ...(f.from ? { from: new Date(f.from).toISOString() } : {}),
    ...(f.to ? { to: new Date(f.to).toISOString() } : {}),
  };
}

export function NoticesPage() {
  const { t, formatDateTime } = useI18n();
  const [draft, setDraft] = useState<Filter>({ accountId: '', from: '', to: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const verify = useResource(() => call(api.GET('/v1/admin/notices/verify')));
  const list = usePagedResource((cursor) =>
    call(
      api.GET('/v1/admin/notices', {
        params: { query: { ...toQuery(filter), ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  const csvUrl = `/v1/admin/notices/export.csv?${new URLSearchParams(toQuery(filter)).toString()}`;
  return (
    <Page title={t('nav.console.notices')}>
      <p className="lead">{t('notices.intro')}</p>
      <section className="card" aria-labelledby="notices-verify-title">
        <h2 id="notices-verify-title">{t('audit.verifyTitle')}</h2>
        {verify.status === 'loading' ? <Loading /> : null}
        {verify.status === 'error' ? <ErrorNote error={verify.error} /> : null}
        {verify.status === 'ready' ? (
          <p
            className={verify.data.ok ? 'note note-ok' : 'note note-error'}
            role="status"
            data-testid="notices-verify"
            data-ok={String(verify.data.ok)}
          >
            {verify.data.ok
              ? t('notices.verifyOk', { checked: verify.data.checked })
              : t('notices.verifyBad', {
                  id: verify.data.firstBadId ?? '?',
                  reason: verify.data.reason ?? '',
                  checked: verify.data.checked,
                })}
          </p>
        ) : null}
        {verify.status === 'ready' ? (
          <p className="muted break">
            {t('notices.lastHash')} <code>{verify.data.lastHash}</code>
          </p>
        ) : null}
        <button type="button" className="button-quiet" onClick={verify.reload}>
          {t('audit.verifyAgain')}
        </button>
      </section>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(draft);
          setTimeout(list.reload);
        }}
      >
        <label>
          {t('notices.account')}{' '}
          <input
            value={draft.accountId}
            onChange={(e) => setDraft({ ...draft, accountId: e.target.value })}
            size={36}
          />
        </label>
        <label>
          {t('notices.from')}{' '}
          <input
            type="datetime-local"
            value={draft.from}
            onChange={(e) => setDraft({ ...draft, from: e.target.value })}
          />
        </label>
        <label>
          {t('notices.to')}{' '}
          <input
            type="datetime-local"
            value={draft.to}
            onChange={(e) => setDraft({ ...draft, to: e.target.value })}
          />
        </label>
        <button type="submit" className="button-quiet">
          {t('notices.apply')}
        </button>
        <a href={csvUrl} download="notices.csv">
          {t('notices.exportCsv')}
        </a>
      </form>
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.length === 0 ? <EmptyState text={t('notices.none')} /> : null}
      {list.status === 'ready' && list.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="notices-table">
            <thead>
              <tr>
                <th scope="col">{t('notices.at')}</th>
                <th scope="col">{t('notices.recipient')}</th>
                <th scope="col">{t('outbox.subject')}</th>
                <th scope="col">{t('outbox.template')}</th>
                <th scope="col">{t('outbox.reason')}</th>
                <th scope="col">{t('outbox.messageId')}</th>
                <th scope="col">{t('notices.delivery')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((n) => (
                <tr key={n.id}>
                  <td className="nowrap">{formatDateTime(n.at)}</td>
                  <td>{n.recipient}</td>
                  <td>{n.subject}</td>
                  <td>
                    <code>{n.template}</code> ({n.language.toUpperCase()})
                  </td>
                  <td>{n.reason}</td>
                  <td className="break">
                    <code>{n.messageId}</code>
                  </td>
                  <td className="nowrap">
                    {n.delivery.status ? t(`outbox.status.${n.delivery.status}`) : '—'}
                    {n.delivery.sentAt ? ` · ${formatDateTime(n.delivery.sentAt)}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <LoadMore list={list} />
    </Page>
  );
}
