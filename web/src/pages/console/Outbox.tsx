// Provider console: the mail outbox. Every email the platform sends waits here until the SMTP
// relay accepts it; with no relay configured (INFOGERE_SMTP_URL unset) it stays here, and
// this page is how an operator reads it. Click a mail to read its text; admins retry one.
// The text is the stored copy: one-time links (sign-up, access codes) are withheld, and each
// read is audited.
import { useState } from 'react';
import { api, call, type ApiError, type ResponseBody } from '../../api/client.ts';
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
import { useMe } from '../../session.tsx';

type Status = 'pending' | 'sent' | 'failed';
type Item = ResponseBody<'/v1/admin/outbox', 'get'>['items'][number];
const statuses: readonly Status[] = ['pending', 'failed', 'sent'];

function StatusBadge({ status }: { status: Status }) {
  const { t } = useI18n();
  return (
    <span className={status === 'sent' ? 'badge badge-ok' : 'badge'}>{t(`outbox.status.${status}`)}</span>
  );
}

function MailText({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { t, formatDateTime } = useI18n();
  const me = useMe();
  const mail = useResource(() => call(api.GET('/v1/admin/outbox/{id}', { params: { path: { id } } })));
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  if (mail.status === 'loading') return <Loading />;
  if (mail.status === 'error') return <ErrorNote error={mail.error} />;
  const m = mail.data;
  async function retry() {
    setBusy(true);
    const r = await call(api.POST('/v1/admin/outbox/{id}/retry', { params: { path: { id } } }));
    setBusy(false);
    setError(r.ok ? null : r.error);
    mail.reload();
    onChanged();
  }
  return (
    <section className="card" aria-labelledby="mail-title" data-testid="outbox-mail">
      <h2 id="mail-title">{m.subject}</h2>
      <dl className="facts">
        <dt>{t('outbox.to')}</dt>
        <dd>{m.to}</dd>
        <dt>{t('outbox.status')}</dt>
        <dd>
          <StatusBadge status={m.status} /> {t('outbox.attemptsN', { n: m.attempts })}
        </dd>
        <dt>{t('outbox.template')}</dt>
        <dd>
          <code>{m.template}</code> ({m.language.toUpperCase()})
        </dd>
        <dt>{t('outbox.reason')}</dt>
        <dd>{m.reason}</dd>
        <dt>{t('outbox.createdAt')}</dt>
        <dd>{formatDateTime(m.createdAt)}</dd>
        {m.sentAt ? (
          <>
            <dt>{t('outbox.sentAt')}</dt>
            <dd>
              {formatDateTime(m.sentAt)} {m.smtpResponse ? <code>{m.smtpResponse}</code> : null}
            </dd>
          </>
        ) : null}
        {m.lastError ? (
          <>
            <dt>{t('outbox.lastError')}</dt>
            <dd className="break">{m.lastError}</dd>
          </>
        ) : null}
        <dt>{t('outbox.messageId')}</dt>
        <dd className="break">
          <code>{m.messageId}</code>
        </dd>
        {m.oneTimeLinks ? (
          <>
            <dt>{t('outbox.oneTimeLinks')}</dt>
            <dd data-testid="outbox-links">
              {m.oneTimeLinks.held
                ? t('outbox.linksHeld', { at: formatDateTime(m.oneTimeLinks.expiresAt) })
                : t('outbox.linksErased', {
                    at: formatDateTime(m.oneTimeLinks.erasedAt ?? m.oneTimeLinks.expiresAt),
                  })}
            </dd>
          </>
        ) : null}
      </dl>
      <p className="muted">{t('outbox.readAudited')}</p>
      <pre className="secret" data-testid="outbox-body">
        {m.bodyText}
      </pre>
      {m.bodyHtml ? (
        <details>
          <summary>{t('outbox.htmlSource')}</summary>
          <pre className="secret">{m.bodyHtml}</pre>
        </details>
      ) : null}
      <ErrorNote error={error} />
      {me.role === 'admin' && m.status !== 'sent' ? (
        <button type="button" className="button-primary" disabled={busy} onClick={() => void retry()}>
          {t('outbox.retry')}
        </button>
      ) : null}
    </section>
  );
}

export function OutboxPage() {
  const { t, formatDateTime } = useI18n();
  const [status, setStatus] = useState<Status | ''>('');
  const [open, setOpen] = useState<string | null>(null);
  // The relay's state and the counts by status come with each page: the latest shown.
  const [summary, setSummary] = useState<{ relayConfigured: boolean; counts: Record<Status, number> } | null>(
    null,
  );
  const list = usePagedResource(async (cursor) => {
    const r = await call(
      api.GET('/v1/admin/outbox', {
        params: { query: { ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) } },
      }),
    );
    if (r.ok) setSummary({ relayConfigured: r.data.relayConfigured, counts: r.data.counts });
    return r;
  });
  const items: Item[] = list.status === 'ready' ? list.data : [];
  return (
    <Page title={t('nav.console.outbox')}>
      {summary && !summary.relayConfigured ? (
        <p className="note" role="status" data-testid="outbox-no-relay">
          {t('outbox.noRelay')}
        </p>
      ) : null}
      <form className="inline-form" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('outbox.status')}{' '}
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as Status | '');
              setTimeout(list.reload);
            }}
          >
            <option value="">{t('outbox.all')}</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {t(`outbox.status.${s}`)}
                {summary ? ` (${summary.counts[s]})` : ''}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="button-quiet" onClick={list.reload}>
          {t('outbox.refresh')}
        </button>
      </form>
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && items.length === 0 ? <EmptyState text={t('outbox.none')} /> : null}
      {items.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="outbox-table">
            <thead>
              <tr>
                <th scope="col">{t('outbox.createdAt')}</th>
                <th scope="col">{t('outbox.to')}</th>
                <th scope="col">{t('outbox.subject')}</th>
                <th scope="col">{t('outbox.template')}</th>
                <th scope="col">{t('outbox.status')}</th>
                <th scope="col" className="num">
                  {t('outbox.attempts')}
                </th>
                <th scope="col">{t('outbox.nextAttempt')}</th>
                <th scope="col">{t('outbox.lastError')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => (
                <tr key={m.id} aria-selected={open === m.id}>
                  <td className="nowrap">{formatDateTime(m.createdAt)}</td>
                  <td>{m.to}</td>
                  <td>
                    <button
                      type="button"
                      className="button-quiet"
                      onClick={() => setOpen(open === m.id ? null : m.id)}
                    >
                      {m.subject}
                    </button>
                  </td>
                  <td>
                    <code>{m.template}</code>
                  </td>
                  <td>
                    <StatusBadge status={m.status} />
                  </td>
                  <td className="num">{m.attempts}</td>
                  <td className="nowrap">{m.nextAttemptAt ? formatDateTime(m.nextAttemptAt) : '—'}</td>
                  <td className="break">{m.lastError ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <LoadMore list={list} />
      {open ? <MailText key={open} id={open} onChanged={list.reload} /> : null}
    </Page>
  );
}
