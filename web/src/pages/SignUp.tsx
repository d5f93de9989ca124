// Public pages: sign-up (an account, its first user and its identity, R6.1) and the landing
// page of the email verification link (/verify#token=…; links mailed before: /verify?token=…).
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, call, type ApiError } from '../api/client.ts';
import { LanguageSwitch } from '../components/Shell.tsx';
import { ErrorNote, Loading } from '../components/ui.tsx';
import { useI18n } from '../i18n/index.tsx';
import { Link, useLinkToken } from '../router.tsx';
import { useSession } from '../session.tsx';
import { cap, emptyIdentity, IdentityInputs, identityBody, type IdentityFields } from './client/Identity.tsx';

function Frame({ title, children, wide }: { title: string; children: ReactNode; wide?: boolean }) {
  const { t } = useI18n();
  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`;
  }, [title, t]);
  return (
    <div className="login-page">
      <div className="login-lang">
        <LanguageSwitch />
      </div>
      <main className="login-card" style={wide ? { maxWidth: '40rem' } : undefined}>
        <p className="brand brand-large">{t('app.name')}</p>
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}

export function SignUp() {
  const { t, language } = useI18n();
  const [identity, setIdentity] = useState<IdentityFields>(() => emptyIdentity());
  const [accountName, setAccountName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const r = await call(
      api.POST('/v1/signup', {
        body: {
          ...identityBody(identity),
          ...(accountName.trim() ? { accountName: accountName.trim() } : {}),
          password,
          language,
        },
      }),
    );
    setBusy(false);
    if (!r.ok) {
      setError(r.error);
      window.scrollTo(0, 0);
      return;
    }
    setDone(r.data.email);
  }

  if (done)
    return (
      <Frame title={t('signup.doneTitle')}>
        <p className="note note-ok" role="status" data-testid="signup-done">
          {t('signup.done', { email: done })}
        </p>
        <p>
          <Link to="/login">{t('signup.toLogin')}</Link>
        </p>
      </Frame>
    );

  return (
    <Frame title={t('signup.title')} wide>
      <p className="muted">{t('signup.intro')}</p>
      <ErrorNote error={error} />
      <form onSubmit={(e) => void submit(e)}>
        <IdentityInputs value={identity} onChange={setIdentity} />
        <label>
          {cap(t('field.accountName'))}
          <input
            name="accountName"
            value={accountName}
            maxLength={200}
            onChange={(e) => setAccountName(e.target.value)}
          />
          <span className="hint">{t('signup.accountNameHint')}</span>
        </label>
        <label>
          {cap(t('field.password'))}
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <span className="hint">{t('signup.passwordHint')}</span>
        </label>
        <button type="submit" className="button-primary" disabled={busy}>
          {busy ? t('signup.submitting') : t('signup.submit')}
        </button>
      </form>
      <p>
        {t('signup.haveAccount')} <Link to="/login">{t('signup.toLogin')}</Link>
      </p>
    </Frame>
  );
}

export function VerifyEmail() {
  const { t } = useI18n();
  const { state } = useSession();
  const token = useLinkToken();
  const [result, setResult] = useState<{ ok: true } | { ok: false; error: ApiError } | null>(null);
  const started = useRef(false);
  useEffect(() => {
    // The link works once: send it once, even if React runs effects twice.
    if (started.current) return;
    started.current = true;
    if (!token) {
      setResult({ ok: false, error: { status: 400, code: 'signup.token_invalid', message: '' } });
      return;
    }
    void call(api.POST('/v1/signup/verify', { body: { token } })).then((r) =>
      setResult(r.ok ? { ok: true } : { ok: false, error: r.error }),
    );
  }, [token]);
  const home =
    state.status === 'authenticated' ? (state.me.kind === 'staff' ? '/console' : '/client') : '/login';
  return (
    <Frame title={t('verify.title')}>
      {result === null ? <Loading /> : null}
      {result?.ok ? (
        <p className="note note-ok" role="status" data-testid="verify-ok">
          {t('verify.ok')}
        </p>
      ) : null}
      {result && !result.ok ? <ErrorNote error={result.error} /> : null}
      {result && !result.ok && result.error.code === 'signup.token_expired' ? (
        <p>{t('verify.expiredHint')}</p>
      ) : null}
      <p>
        <Link to={home}>{t(home === '/login' ? 'signup.toLogin' : 'verify.toArea')}</Link>
      </p>
    </Frame>
  );
}
