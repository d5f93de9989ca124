// Account & security: profile, TOTP enrolment, personal API tokens. Shared by both areas.
import { useState, type FormEvent } from 'react';
import { api, call, type ApiError } from '../api/client.ts';
import { ErrorNote, Loading, Page, useResource } from '../components/ui.tsx';
import { useI18n } from '../i18n/index.tsx';
import { useMe, useSession } from '../session.tsx';

export function AccountPage() {
  const { t } = useI18n();
  const me = useMe();
  return (
    <Page title={t(me.kind === 'staff' ? 'nav.console.account' : 'nav.client.account')}>
      <section className="card">
        <h2>{t('account.profile')}</h2>
        <dl className="facts">
          <dt>{t('account.name')}</dt>
          <dd>{me.name}</dd>
          <dt>{t('account.email')}</dt>
          <dd>{me.email}</dd>
          <dt>{t('account.role')}</dt>
          <dd>{t(`role.${me.role}`)}</dd>
          <dt>{t('account.language')}</dt>
          <dd>{t(`language.${me.language}`)}</dd>
        </dl>
      </section>
      <TotpSection />
      <TokensSection />
    </Page>
  );
}

function TotpSection() {
  const { t } = useI18n();
  const me = useMe();
  const { refresh } = useSession();
  const [setup, setSetup] = useState<{ secret: string; otpauthUrl: string } | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  async function start() {
    setBusy(true);
    setError(null);
    const result = await call(api.POST('/v1/auth/totp/setup'));
    setBusy(false);
    if (result.ok) setSetup(result.data);
    else setError(result.error);
  }

  async function confirm(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await call(api.POST('/v1/auth/totp/enable', { body: { code: code.trim() } }));
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setDone(true);
    setSetup(null);
    await refresh();
  }

  return (
    <section className="card" aria-labelledby="totp-title">
      <h2 id="totp-title">{t('totp.title')}</h2>
      {done ? (
        <p className="note note-ok" role="status">
          {t('totp.done')}
        </p>
      ) : null}
      {me.totpEnabled ? (
        done ? null : (
          <p>
            <span className="badge badge-ok">✓</span> {t('totp.on')}{' '}
            {me.kind === 'staff' ? t('totp.staff') : null}
          </p>
        )
      ) : setup ? (
        <>
          <p>{t('totp.step1')}</p>
          <dl className="facts">
            <dt>{t('totp.secret')}</dt>
            <dd>
              <code className="secret" data-testid="totp-secret">
                {setup.secret}
              </code>
            </dd>
            <dt>{t('totp.url')}</dt>
            <dd>
              <a href={setup.otpauthUrl} className="break">
                {setup.otpauthUrl}
              </a>
            </dd>
          </dl>
          <p>{t('totp.step2')}</p>
          <ErrorNote error={error} />
          <form className="inline-form" onSubmit={(e) => void confirm(e)}>
            <label>
              {t('totp.code')}
              <input
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                required
                value={code}
                onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
              />
            </label>
            <button type="submit" className="button-primary" disabled={busy}>
              {t('totp.confirm')}
            </button>
          </form>
        </>
      ) : (
        <>
          <p>{t('totp.off')}</p>
          <ErrorNote error={error} />
          <button type="button" className="button-primary" disabled={busy} onClick={() => void start()}>
            {t('totp.start')}
          </button>
        </>
      )}
    </section>
  );
}

/** Expiry choices offered (the API accepts 1 to 365 days; 90 is its default). */
const TOKEN_DAYS = [7, 30, 90, 180, 365] as const;

function TokensSection() {
  const { t, formatDateTime } = useI18n();
  const me = useMe();
  const tokens = useResource(() => call(api.GET('/v1/me/tokens')));
  const [name, setName] = useState('');
  const [days, setDays] = useState<number>(90);
  // Staff choose the token's role: their own or narrower (an admin may make a support token).
  const roles = me.role === 'admin' ? (['admin', 'support'] as const) : null;
  const [role, setRole] = useState<'admin' | 'support'>('admin');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string; expiresAt: string } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await call(
      api.POST('/v1/me/tokens', {
        body: {
          name: name.trim(),
          password,
          expiresInDays: days,
          ...(me.totpEnabled ? { totp: code.trim() } : {}),
          ...(roles ? { role } : {}),
        },
      }),
    );
    setBusy(false);
    // The password and the code are asked again for every token: never kept.
    setPassword('');
    setCode('');
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setCreated({ name: result.data.name, token: result.data.token, expiresAt: result.data.expiresAt });
    setName('');
    tokens.reload();
  }

  async function revoke(id: string, tokenName: string) {
    if (!window.confirm(t('tokens.revokeConfirm', { name: tokenName }))) return;
    setError(null);
    const result = await call(api.DELETE('/v1/me/tokens/{id}', { params: { path: { id } } }));
    if (!result.ok) setError(result.error);
    tokens.reload();
  }

  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">{t('tokens.title')}</h2>
      <p className="muted">{t('tokens.intro')}</p>
      {created ? (
        <div className="note note-ok" role="status">
          <p>{t('tokens.shownOnce')}</p>
          <p>
            <strong>{created.name}</strong>{' '}
            <code className="secret" data-testid="new-token">
              {created.token}
            </code>
          </p>
          <p>{t('tokens.validUntil', { date: formatDateTime(created.expiresAt) })}</p>
        </div>
      ) : null}
      <ErrorNote error={error} />
      {tokens.status === 'loading' ? <Loading /> : null}
      {tokens.status === 'error' ? <ErrorNote error={tokens.error} /> : null}
      {tokens.status === 'ready' ? (
        tokens.data.length === 0 ? (
          <p className="muted">{t('tokens.none')}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('tokens.name')}</th>
                  {roles ? <th scope="col">{t('tokens.role')}</th> : null}
                  <th scope="col">{t('tokens.createdAt')}</th>
                  <th scope="col">{t('tokens.lastUsedAt')}</th>
                  <th scope="col">{t('tokens.expiresAt')}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('tokens.revoke')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokens.data.map((token) => (
                  <tr key={token.id}>
                    <td>{token.name}</td>
                    {roles ? <td>{t(`role.${token.role}`)}</td> : null}
                    <td>{formatDateTime(token.createdAt)}</td>
                    <td>{token.lastUsedAt ? formatDateTime(token.lastUsedAt) : t('common.never')}</td>
                    <td>
                      {formatDateTime(token.expiresAt)}
                      {token.expired ? <strong> ({t('tokens.expired')})</strong> : null}
                    </td>
                    <td className="actions">
                      <button
                        type="button"
                        className="button-danger"
                        onClick={() => void revoke(token.id, token.name)}
                      >
                        {t('tokens.revoke')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      <h3>{t('tokens.newTitle')}</h3>
      <p className="muted">{t(me.totpEnabled ? 'tokens.confirmWithCode' : 'tokens.confirmWithPassword')}</p>
      <form className="inline-form" onSubmit={(e) => void create(e)}>
        <label>
          {t('tokens.newName')}
          <input
            name="token-name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label>
          {t('tokens.validity')}
          <select name="token-days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {TOKEN_DAYS.map((d) => (
              <option key={d} value={d}>
                {t('tokens.days', { days: d })}
              </option>
            ))}
          </select>
        </label>
        {roles ? (
          <label>
            {t('tokens.role')}
            <select
              name="token-role"
              value={role}
              onChange={(e) => setRole(e.target.value === 'support' ? 'support' : 'admin')}
            >
              {roles.map((r) => (
                <option key={r} value={r}>
                  {t(`role.${r}`)}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          {t('tokens.password')}
          <input
            name="token-password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {me.totpEnabled ? (
          <label>
            {t('totp.code')}
            <input
              name="token-code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              value={code}
              onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
            />
          </label>
        ) : null}
        <button type="submit" className="button-primary" disabled={busy}>
          {t('tokens.create')}
        </button>
      </form>
    </section>
  );
}
