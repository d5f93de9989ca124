// Login: email and password, then the TOTP code when the API answers `auth.totp_required`.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ApiError } from '../api/client.ts';
import { ErrorNote } from '../components/ui.tsx';
import { LanguageSwitch } from '../components/Shell.tsx';
import { useI18n } from '../i18n/index.tsx';
import { useSession } from '../session.tsx';
import { Link } from '../router.tsx';

export function Login({ notice }: { notice: 'none' | 'logged_out' | 'expired' }) {
  const { t } = useI18n();
  const { login } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const totpInput = useRef<HTMLInputElement>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await login({ email: email.trim(), password, ...(needTotp ? { totp: totp.trim() } : {}) });
    setBusy(false);
    if (result.ok) return; // The session provider switches the app to the user's area.
    const { code } = result.error;
    if (code === 'auth.totp_required') {
      setNeedTotp(true);
      // The field appears with this render; focus it once it is there.
      requestAnimationFrame(() => totpInput.current?.focus());
      if (!needTotp) return; // First time: the field itself is the message.
    }
    if (code === 'auth.totp_invalid') {
      setTotp('');
      totpInput.current?.focus();
    }
    setError(result.error);
  }

  useEffect(() => {
    document.title = `${t('login.title')} · ${t('app.name')}`;
  }, [t]);

  const info =
    notice === 'logged_out' ? t('login.loggedOut') : notice === 'expired' ? t('login.expired') : null;

  return (
    <div className="login-page">
      <div className="login-lang">
        <LanguageSwitch />
      </div>
      <main className="login-card">
        <p className="brand brand-large">{t('app.name')}</p>
        <h1>{t('login.title')}</h1>
        <p className="muted">{t('login.intro')}</p>
        {info && !error ? (
          <p className="note" role="status">
            {info}
          </p>
        ) : null}
        <ErrorNote error={error} />
        <form onSubmit={(e) => void submit(e)}>
          <label>
            {t('login.email')}
            <input
              name="email"
              type="email"
              autoComplete="username"
              required
              autoFocus
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          <label>
            {t('login.password')}
            <input
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          {needTotp ? (
            <label>
              {t('login.totp')}
              <input
                ref={totpInput}
                name="totp"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                required
                value={totp}
                onChange={(e) => setTotp(e.target.value.replace(/\D/g, ''))}
              />
              <span className="hint">{t('login.totpHint')}</span>
            </label>
          ) : null}
          <button type="submit" className="button-primary" disabled={busy}>
            {busy ? t('login.submitting') : t('login.submit')}
          </button>
        </form>
        <p className="muted">
          {t('login.signupPrompt')} <Link to="/signup">{t('login.signupLink')}</Link>
        </p>
      </main>
    </div>
  );
}
