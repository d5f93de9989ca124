// Public page of the access-codes email's one-time link (/access#token=…, R3.1; links mailed
// before the token moved to the fragment: /access?token=…). Opening the
// page spends nothing: the password is revealed only by the button's POST, so mail scanners
// that follow links (GET) never use up the single use. Shown once; the guest forces a change
// of the password at first login.
import { useEffect, useRef, useState, type RefObject } from 'react';
import { api, call, type ApiError, type ResponseBody } from '../api/client.ts';
import { LanguageSwitch } from '../components/Shell.tsx';
import { ErrorNote } from '../components/ui.tsx';
import { useI18n } from '../i18n/index.tsx';
import { Link, useLinkToken } from '../router.tsx';
import { useSession } from '../session.tsx';

type Codes = ResponseBody<'/v1/access-codes/reveal', 'post'>;

/** Copies a text; falls back on selecting it when the clipboard is not available. */
function CopyButton({ text, target }: { text: string; target: RefObject<HTMLElement | null> }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState<boolean | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      const node = target.current;
      const selection = window.getSelection();
      if (node && selection) {
        const range = document.createRange();
        range.selectNodeContents(node);
        selection.removeAllRanges();
        selection.addRange(range);
      }
      setCopied(false);
    }
  }
  return (
    <>
      <button type="button" onClick={() => void copy()} data-testid="copy-password">
        {t('access.copy')}
      </button>{' '}
      <span className="muted" role="status">
        {copied === true ? t('access.copied') : copied === false ? t('access.copyManually') : ''}
      </span>
    </>
  );
}

export function AccessCodesPage() {
  const { t } = useI18n();
  const { state } = useSession();
  const token = useLinkToken();
  const [busy, setBusy] = useState(false);
  const [codes, setCodes] = useState<Codes | null>(null);
  const [error, setError] = useState<ApiError | null>(
    token.length < 20 ? { status: 404, code: 'access.link_unknown', message: '' } : null,
  );
  const passwordRef = useRef<HTMLElement | null>(null);
  const title = t('access.title');
  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`;
  }, [title, t]);

  async function reveal() {
    setBusy(true);
    setError(null);
    const r = await call(api.POST('/v1/access-codes/reveal', { body: { token } }));
    setBusy(false);
    if (r.ok) setCodes(r.data);
    else setError(r.error);
  }

  const home =
    state.status === 'authenticated' ? (state.me.kind === 'staff' ? '/console' : '/client') : '/login';
  const linkDead =
    error?.code === 'access.link_used' ||
    error?.code === 'access.link_expired' ||
    error?.code === 'access.link_unknown' ||
    error?.code === 'access.password_gone';

  return (
    <div className="login-page">
      <div className="login-lang">
        <LanguageSwitch />
      </div>
      <main className="login-card" style={{ maxWidth: '40rem' }}>
        <p className="brand brand-large">{t('app.name')}</p>
        <h1>{title}</h1>
        <ErrorNote error={error} />
        {linkDead ? <p data-testid="access-help">{t('access.askSupport')}</p> : null}
        {codes ? (
          <div data-testid="access-codes">
            <p className="note note-error" role="alert">
              {t('access.shownOnce')}
            </p>
            <dl className="facts">
              <dt>{t('access.hostname')}</dt>
              <dd>
                <code data-testid="access-hostname">{codes.hostname}</code>
              </dd>
              <dt>{t('access.ipv4')}</dt>
              <dd>
                <code data-testid="access-ipv4">{codes.ipv4 ?? '—'}</code>
              </dd>
              <dt>{t('access.username')}</dt>
              <dd>
                <code data-testid="access-username">{codes.username}</code>
              </dd>
              <dt>{t('access.password')}</dt>
              <dd>
                <code className="secret" data-testid="access-password" ref={passwordRef}>
                  {codes.password}
                </code>{' '}
                <CopyButton text={codes.password} target={passwordRef} />
              </dd>
            </dl>
            {codes.ipv4 ? (
              <>
                <p>{t('access.sshIntro')}</p>
                <pre data-testid="access-ssh">
                  <code>{`ssh ${codes.username}@${codes.ipv4}`}</code>
                </pre>
              </>
            ) : null}
            <p className="note">{t('access.changeAtFirstLogin')}</p>
          </div>
        ) : null}
        {!codes && !linkDead ? (
          <>
            <p>{t('access.intro')}</p>
            <p className="muted">{t('access.introOnce')}</p>
            <button
              type="button"
              className="button-primary"
              disabled={busy || !token}
              onClick={() => void reveal()}
            >
              {busy ? t('access.revealing') : t('access.reveal')}
            </button>
          </>
        ) : null}
        <p>
          <Link to={home}>{t(home === '/login' ? 'signup.toLogin' : 'verify.toArea')}</Link>
        </p>
      </main>
    </div>
  );
}
