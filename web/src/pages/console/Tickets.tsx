// Provider console: the support queue (R4.3: unassigned, mine, waiting, breaching, open, all;
// full-text search), a ticket with its internal notes and the reply box — minutes beside the
// month's balance (R3.10: mandatory on an admin request), note or reply, status, canned replies,
// a quote when the work exceeds the included time — and a client's ledger history.
import { useState, type FormEvent } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import {
  EmptyState,
  ErrorNote,
  Loading,
  LoadMore,
  Page,
  usePagedResource,
  useResource,
} from '../../components/ui.tsx';
import { useI18n, type MessageKey } from '../../i18n/index.tsx';
import { Link } from '../../router.tsx';
import { BalanceLine, kindKey, statusKey } from '../client/Tickets.tsx';

const FILTERS = ['open', 'unassigned', 'mine', 'waiting', 'breaching', 'all'] as const;
type Filter = (typeof FILTERS)[number];
const STATUSES = ['open', 'waiting_client', 'waiting_provider', 'resolved', 'closed'] as const;

export function TicketQueuePage() {
  const { t, formatDateTime } = useI18n();
  const [filter, setFilter] = useState<Filter>('open');
  const [q, setQ] = useState('');
  const [search, setSearch] = useState('');
  return (
    <Page title={t('nav.console.tickets')}>
      <p role="group" aria-label={t('tickets.filter')}>
        {FILTERS.map((f) => (
          <button
            key={f}
            type="button"
            className={f === filter ? '' : 'button-quiet'}
            aria-pressed={f === filter}
            onClick={() => setFilter(f)}
          >
            {t(`tickets.filter.${f}`)}
          </button>
        ))}
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(q.trim());
        }}
      >
        <label>
          {t('tickets.search')}
          <input name="q" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <button type="submit">{t('tickets.searchGo')}</button>
      </form>
      <Queue key={`${filter}|${search}`} filter={filter} search={search} formatDateTime={formatDateTime} />
    </Page>
  );
}

function Queue({
  filter,
  search,
  formatDateTime,
}: {
  filter: Filter;
  search: string;
  formatDateTime: (s: string) => string;
}) {
  const { t } = useI18n();
  const list = usePagedResource((cursor) =>
    call(
      api.GET('/v1/admin/tickets', {
        params: { query: { filter, ...(search ? { q: search } : {}), ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  if (list.status === 'loading') return <Loading />;
  if (list.status === 'error') return <ErrorNote error={list.error} />;
  if (list.data.length === 0) return <EmptyState text={t('tickets.none')} />;
  return (
    <>
      <div className="table-wrap">
        <table data-testid="ticket-queue">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t('tickets.subject')}</th>
              <th scope="col">{t('tickets.client')}</th>
              <th scope="col">{t('tickets.kindLabel')}</th>
              <th scope="col">{t('tickets.statusLabel')}</th>
              <th scope="col">{t('tickets.assignee')}</th>
              <th scope="col">{t('tickets.firstResponseDue')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((x) => (
              <tr key={x.id}>
                <td>{x.number}</td>
                <td>
                  <Link to={`/console/tickets/${x.id}`}>{x.subject}</Link>
                </td>
                <td>
                  {x.accountName}
                  {x.hostname ? <span className="muted"> · {x.hostname}</span> : null}
                </td>
                <td>{t(kindKey(x.kind))}</td>
                <td>
                  <span className="badge">{t(statusKey(x.status))}</span>
                </td>
                <td>{x.assignee ?? '—'}</td>
                <td className="nowrap">{x.firstResponseAt ? '✓' : formatDateTime(x.firstResponseDueAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <LoadMore list={list} />
    </>
  );
}

export function ConsoleTicketPage({ id }: { id: string }) {
  const { t, formatDateTime } = useI18n();
  const ticket = useResource(() => call(api.GET('/v1/admin/tickets/{id}', { params: { path: { id } } })));
  const canned = useResource(() => call(api.GET('/v1/admin/canned-replies', { params: { query: {} } })));
  const [body, setBody] = useState('');
  const [minutes, setMinutes] = useState('');
  const [internal, setInternal] = useState(false);
  const [quoteMinutes, setQuoteMinutes] = useState('');
  const [quoteText, setQuoteText] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  if (ticket.status === 'loading') return <Loading />;
  if (ticket.status === 'error') return <ErrorNote error={ticket.error} />;
  const x = ticket.data;
  const done = (r: { ok: boolean; error?: ApiError }) => {
    setError(r.ok ? null : (r.error ?? null));
    ticket.reload();
    return r.ok;
  };
  async function send(e: FormEvent) {
    e.preventDefault();
    const r = await call(
      api.POST('/v1/admin/tickets/{id}/messages', {
        params: { path: { id } },
        body: { body, internal, ...(minutes ? { minutes: Number(minutes) } : {}) },
      }),
    );
    if (done(r)) {
      setBody('');
      setMinutes('');
    }
  }
  async function setStatus(status: (typeof STATUSES)[number]) {
    done(
      await call(api.POST('/v1/admin/tickets/{id}/status', { params: { path: { id } }, body: { status } })),
    );
  }
  async function propose(e: FormEvent) {
    e.preventDefault();
    const r = await call(
      api.POST('/v1/admin/tickets/{id}/quotes', {
        params: { path: { id } },
        body: { minutes: Number(quoteMinutes), description: quoteText },
      }),
    );
    if (done(r)) {
      setQuoteMinutes('');
      setQuoteText('');
    }
  }
  const over = error?.code === 'ticket.overage_needs_quote';
  return (
    <Page
      title={`#${x.number} ${x.subject}`}
      actions={<Link to="/console/tickets">{t('tickets.back')}</Link>}
    >
      <p>
        <span className="badge" data-testid="ticket-status">
          {t(statusKey(x.status))}
        </span>{' '}
        {t(kindKey(x.kind))} · {x.assignee ?? t('tickets.unassigned')} ·{' '}
        <Link to={`/console/tickets/ledger/${x.accountId}`}>{t('tickets.ledgerHistory')}</Link>
      </p>
      <ol className="messages" data-testid="messages">
        {x.messages.map((m) => (
          <li key={m.id} data-author={m.author} data-internal={m.internal}>
            <p className="muted">
              {m.internal ? <span className="badge">{t('tickets.note')}</span> : null}{' '}
              {m.authorEmail ?? m.author} · {formatDateTime(m.createdAt)}
            </p>
            <p className="pre">{m.body}</p>
          </li>
        ))}
      </ol>
      <form className="card" onSubmit={(e) => void send(e)} data-testid="staff-reply">
        <BalanceLine balance={x.balance} />
        <ErrorNote error={error} />
        {over ? <p className="note note-error">{t('tickets.overage')}</p> : null}
        {canned.status === 'ready' && canned.data.items.length > 0 ? (
          <label>
            {t('tickets.canned')}
            <select
              value=""
              onChange={(e) => setBody(canned.data.items.find((c) => c.id === e.target.value)?.body ?? body)}
            >
              <option value="">—</option>
              {canned.data.items.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title} ({c.language})
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          {t('tickets.message')}
          <textarea name="body" required rows={6} value={body} onChange={(e) => setBody(e.target.value)} />
        </label>
        <label>
          {t('tickets.minutesSpent')}
          <input
            name="minutes"
            type="number"
            min={1}
            max={480}
            step={1}
            required={x.kind === 'admin_request'}
            value={minutes}
            onChange={(e) => setMinutes(e.target.value)}
          />
        </label>
        <label className="inline">
          <input type="checkbox" checked={internal} onChange={(e) => setInternal(e.target.checked)} />{' '}
          {t('tickets.internal')}
        </label>
        <button type="submit">{t('tickets.send')}</button>
      </form>
      <p>
        {STATUSES.filter((s) => s !== x.status).map((s) => (
          <button key={s} type="button" className="button-quiet" onClick={() => void setStatus(s)}>
            → {t(statusKey(s))}
          </button>
        ))}
      </p>
      {x.kind === 'admin_request' && x.status !== 'closed' ? (
        <form className="card" onSubmit={(e) => void propose(e)} data-testid="quote-form">
          <h2>{t('tickets.proposeQuote')}</h2>
          <label>
            {t('tickets.minutes')}
            <input
              name="quoteMinutes"
              type="number"
              min={1}
              max={4800}
              required
              value={quoteMinutes}
              onChange={(e) => setQuoteMinutes(e.target.value)}
            />
          </label>
          <label>
            {t('tickets.quoteDescription')}
            <input
              name="quoteText"
              required
              minLength={3}
              value={quoteText}
              onChange={(e) => setQuoteText(e.target.value)}
            />
          </label>
          <button type="submit">{t('tickets.proposeQuote')}</button>
        </form>
      ) : null}
      {x.quotes.length > 0 ? (
        <ul data-testid="quotes">
          {x.quotes.map((q) => (
            <li key={q.id}>
              {q.description} — {q.minutes} min — {t(`tickets.quote.${q.status}` as MessageKey)}
            </li>
          ))}
        </ul>
      ) : null}
      {x.timeEntries.length > 0 ? (
        <table data-testid="ledger">
          <thead>
            <tr>
              <th scope="col">{t('tickets.at')}</th>
              <th scope="col">{t('tickets.author')}</th>
              <th scope="col" className="num">
                {t('tickets.minutes')}
              </th>
              <th scope="col" className="num">
                {t('tickets.included')}
              </th>
              <th scope="col" className="num">
                {t('tickets.quoted')}
              </th>
            </tr>
          </thead>
          <tbody>
            {x.timeEntries.map((e) => (
              <tr key={e.id}>
                <td className="nowrap">{formatDateTime(e.at)}</td>
                <td>{e.author}</td>
                <td className="num">{e.minutes}</td>
                <td className="num">{e.includedMinutes}</td>
                <td className="num">{e.quotedMinutes}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Page>
  );
}

export function LedgerHistoryPage({ accountId }: { accountId: string }) {
  const { t, formatDateTime } = useI18n();
  const list = usePagedResource((cursor) =>
    call(
      api.GET('/v1/admin/accounts/{id}/support-ledger', {
        params: { path: { id: accountId }, query: cursor ? { cursor } : {} },
      }),
    ),
  );
  return (
    <Page title={t('tickets.ledgerHistory')}>
      {list.status === 'loading' ? <Loading /> : null}
      {list.status === 'error' ? <ErrorNote error={list.error} /> : null}
      {list.status === 'ready' && list.data.length === 0 ? (
        <EmptyState text={t('tickets.noEntries')} />
      ) : null}
      {list.status === 'ready' && list.data.length > 0 ? (
        <table data-testid="ledger-history">
          <thead>
            <tr>
              <th scope="col">{t('tickets.at')}</th>
              <th scope="col">#</th>
              <th scope="col">{t('tickets.author')}</th>
              <th scope="col" className="num">
                {t('tickets.minutes')}
              </th>
              <th scope="col" className="num">
                {t('tickets.included')}
              </th>
              <th scope="col" className="num">
                {t('tickets.quoted')}
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((e) => (
              <tr key={e.id}>
                <td className="nowrap">{formatDateTime(e.at)}</td>
                <td>
                  <Link to={`/console/tickets/${e.ticketId}`}>
                    {e.ticketNumber} {e.ticketSubject}
                  </Link>
                </td>
                <td>{e.author}</td>
                <td className="num">{e.minutes}</td>
                <td className="num">{e.includedMinutes}</td>
                <td className="num">{e.quotedMinutes}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore list={list} />
    </Page>
  );
}
