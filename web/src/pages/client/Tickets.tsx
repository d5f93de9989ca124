// The client's support tickets (R4.3) and its included support time (R3.10): the list and the
// form (with the chosen VPS's balance: "12 min used, 8 left this month, resets on …"), and a
// ticket's view with its messages, the minutes recorded, quotes to accept and the reply box.
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
import { Link, navigate } from '../../router.tsx';

const KINDS = ['admin_request', 'incident_report', 'billing', 'abuse'] as const;
type Kind = (typeof KINDS)[number];

export const statusKey = (s: string) => `tickets.status.${s}` as MessageKey;
export const kindKey = (k: string) => `tickets.kind.${k}` as MessageKey;

/** The balance sentence in the reader's language (the API gives both). */
export function BalanceLine({
  balance,
}: {
  balance: { text: { fr: string; en: string }; leftMinutes: number } | null;
}) {
  const { t, language } = useI18n();
  if (!balance) return <p className="muted">{t('tickets.notCounted')}</p>;
  return (
    <p className="note" data-testid="support-balance" data-left={balance.leftMinutes}>
      {t('tickets.balance')} {balance.text[language]}
    </p>
  );
}

function VpsBalance({ vpsId }: { vpsId: string }) {
  const b = useResource(() =>
    call(api.GET('/v1/vps/{id}/support-balance', { params: { path: { id: vpsId } } })),
  );
  if (b.status !== 'ready') return null;
  return <BalanceLine balance={b.data} />;
}

function NewTicket() {
  const { t } = useI18n();
  const vps = useResource(() => call(api.GET('/v1/vps', { params: { query: {} } })));
  const [kind, setKind] = useState<Kind>('admin_request');
  const [vpsId, setVpsId] = useState('');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const list = vps.status === 'ready' ? vps.data.items : [];
  const chosen = vpsId || list[0]?.id || '';
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await call(
      api.POST('/v1/tickets', { body: { kind, subject, body, ...(chosen ? { vpsId: chosen } : {}) } }),
    );
    if (!r.ok) return setError(r.error);
    navigate(`/client/tickets/${r.data.id}`);
  }
  return (
    <form className="card" onSubmit={(e) => void submit(e)} data-testid="new-ticket">
      <h2>{t('tickets.new')}</h2>
      <ErrorNote error={error} />
      <label>
        {t('tickets.kindLabel')}
        <select value={kind} onChange={(e) => setKind(e.target.value as Kind)} name="kind">
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {t(kindKey(k))}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('tickets.vps')}
        <select value={chosen} onChange={(e) => setVpsId(e.target.value)} name="vps">
          {list.map((v) => (
            <option key={v.id} value={v.id}>
              {v.hostname}
            </option>
          ))}
        </select>
      </label>
      {chosen && kind === 'admin_request' ? <VpsBalance key={chosen} vpsId={chosen} /> : null}
      <label>
        {t('tickets.subject')}
        <input
          name="subject"
          required
          maxLength={200}
          value={subject}
          onChange={(e) => setSubject(e.target.value)}
        />
      </label>
      <label>
        {t('tickets.message')}
        <textarea name="body" required rows={6} value={body} onChange={(e) => setBody(e.target.value)} />
      </label>
      <button type="submit">{t('tickets.open')}</button>
    </form>
  );
}

export function TicketsPage() {
  const { t, formatDateTime } = useI18n();
  const tickets = usePagedResource((cursor) =>
    call(api.GET('/v1/tickets', { params: { query: cursor ? { cursor } : {} } })),
  );
  return (
    <Page title={t('nav.client.tickets')}>
      <NewTicket />
      {tickets.status === 'loading' ? <Loading /> : null}
      {tickets.status === 'error' ? <ErrorNote error={tickets.error} /> : null}
      {tickets.status === 'ready' && tickets.data.length === 0 ? (
        <EmptyState text={t('tickets.none')} />
      ) : null}
      {tickets.status === 'ready' && tickets.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="tickets">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t('tickets.subject')}</th>
                <th scope="col">{t('tickets.kindLabel')}</th>
                <th scope="col">{t('tickets.statusLabel')}</th>
                <th scope="col">{t('tickets.updated')}</th>
              </tr>
            </thead>
            <tbody>
              {tickets.data.map((x) => (
                <tr key={x.id}>
                  <td>{x.number}</td>
                  <td>
                    <Link to={`/client/tickets/${x.id}`}>{x.subject}</Link>
                  </td>
                  <td>{t(kindKey(x.kind))}</td>
                  <td>
                    <span className="badge">{t(statusKey(x.status))}</span>
                  </td>
                  <td className="nowrap">{formatDateTime(x.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <LoadMore list={tickets} />
    </Page>
  );
}

export function TicketDetailPage({ id }: { id: string }) {
  const { t, formatDateTime, language } = useI18n();
  const ticket = useResource(() => call(api.GET('/v1/tickets/{id}', { params: { path: { id } } })));
  const [body, setBody] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  if (ticket.status === 'loading') return <Loading />;
  if (ticket.status === 'error') return <ErrorNote error={ticket.error} />;
  const x = ticket.data;
  async function reply(e: FormEvent) {
    e.preventDefault();
    const r = await call(api.POST('/v1/tickets/{id}/messages', { params: { path: { id } }, body: { body } }));
    setError(r.ok ? null : r.error);
    if (r.ok) setBody('');
    ticket.reload();
  }
  async function decide(quoteId: string, decision: 'accept' | 'decline') {
    const r = await call(
      api.POST('/v1/tickets/{id}/quotes/{quoteId}/{decision}', {
        params: { path: { id, quoteId, decision } },
      }),
    );
    setError(r.ok ? null : r.error);
    ticket.reload();
  }
  return (
    <Page title={`#${x.number} ${x.subject}`} actions={<Link to="/client/tickets">{t('tickets.back')}</Link>}>
      <p>
        <span className="badge" data-testid="ticket-status">
          {t(statusKey(x.status))}
        </span>{' '}
        {t(kindKey(x.kind))}
      </p>
      {x.kind === 'admin_request' ? <BalanceLine balance={x.balance} /> : null}
      <ErrorNote error={error} />
      <ol className="messages" data-testid="messages">
        {x.messages.map((m) => (
          <li key={m.id} data-author={m.author}>
            <p className="muted">
              {m.author === 'client' ? t('tickets.you') : t('tickets.provider')} ·{' '}
              {formatDateTime(m.createdAt)}
            </p>
            <p className="pre">{m.body}</p>
          </li>
        ))}
      </ol>
      {x.timeEntries.length > 0 ? (
        <>
          <h2>{t('tickets.ledger')}</h2>
          <table data-testid="ledger">
            <thead>
              <tr>
                <th scope="col">{t('tickets.at')}</th>
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
                  <td className="num">{e.minutes}</td>
                  <td className="num">{e.includedMinutes}</td>
                  <td className="num">{e.quotedMinutes}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {x.quotes.map((q) => (
        <div key={q.id} className="card" data-testid="quote" data-status={q.status}>
          <p>
            {t('tickets.quote')} {q.description} — {q.minutes} min,{' '}
            {(q.totalCents / 100).toLocaleString(language, { style: 'currency', currency: 'EUR' })}{' '}
            <span className="badge">{t(`tickets.quote.${q.status}` as MessageKey)}</span>
          </p>
          {q.status === 'proposed' ? (
            <p>
              <button type="button" onClick={() => void decide(q.id, 'accept')}>
                {t('tickets.accept')}
              </button>{' '}
              <button type="button" className="button-quiet" onClick={() => void decide(q.id, 'decline')}>
                {t('tickets.decline')}
              </button>
            </p>
          ) : null}
        </div>
      ))}
      {x.status !== 'closed' ? (
        <form onSubmit={(e) => void reply(e)} data-testid="reply">
          <label>
            {t('tickets.reply')}
            <textarea name="body" required rows={5} value={body} onChange={(e) => setBody(e.target.value)} />
          </label>
          <button type="submit">{t('tickets.send')}</button>
        </form>
      ) : (
        <p className="muted">{t('tickets.closedNote')}</p>
      )}
    </Page>
  );
}
