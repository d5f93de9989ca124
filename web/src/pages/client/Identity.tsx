// The client's identity page (R6.1): email verification and suspension notes, the identity
// data form, proof requests with a live countdown to their deadline, document upload with
// progress and each document's status.
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, call, type ApiError, type ResponseBody } from '../../api/client.ts';
import { ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { hasKey, useI18n, type MessageKey, type Translate } from '../../i18n/index.tsx';

export type RequestList = ResponseBody<'/v1/identity/requests', 'get'>;
export type ProofRequest = RequestList['requests'][number];
type Identity = NonNullable<ResponseBody<'/v1/account/identity', 'get'>['identity']>;

/** The server's clock minus the browser's, from a response's `now`: countdowns follow the server. */
export function clockOffset(serverNow: string): number {
  return new Date(serverNow).getTime() - Date.now();
}

function useTick(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(id);
  }, [ms]);
  return now;
}

export function formatDuration(t: Translate, ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return d > 0
    ? t('countdown.dhms', { d, h: pad(h), m: pad(m), s: pad(sec) })
    : t('countdown.hms', { h: pad(h), m: pad(m), s: pad(sec) });
}

/** A live countdown to `dueAt` on the server's clock; overdue once it has passed. */
export function Countdown({ dueAt, offset, closed }: { dueAt: string; offset: number; closed?: boolean }) {
  const { t } = useI18n();
  const now = useTick(1000) + offset;
  if (closed) return <span className="muted">—</span>;
  const left = new Date(dueAt).getTime() - now;
  return left > 0 ? (
    <span className="countdown" data-testid="countdown" role="timer">
      {t('countdown.left', { time: formatDuration(t, left) })}
    </span>
  ) : (
    <strong className="countdown" data-testid="countdown" role="timer" style={{ color: 'var(--danger)' }}>
      {t('countdown.overdue', { time: formatDuration(t, left) })}
    </strong>
  );
}

export function PhaseBadge({ phase }: { phase: ProofRequest['phase'] }) {
  const { t } = useI18n();
  const bad = phase === 'overdue' || phase === 'rejected';
  return (
    <span
      className={phase === 'approved' ? 'badge badge-ok' : 'badge'}
      data-phase={phase}
      style={{
        padding: '0 0.5rem',
        ...(bad ? { background: 'var(--danger-soft)', color: 'var(--danger)' } : {}),
        ...(phase === 'awaiting_documents' || phase === 'under_review'
          ? { background: 'var(--accent-soft)' }
          : {}),
      }}
    >
      {t(`identity.phase.${phase}` as MessageKey)}
    </span>
  );
}

/** Field names are lower case (they also go inside error messages); as labels they start with a capital. */
export const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const kindKey = (kind: ProofRequest['kind']) => `identity.kind.${kind}` as MessageKey;

export function documentUrl(id: string): string {
  return `/v1/identity/documents/${encodeURIComponent(id)}/content`;
}

export function DocumentList({ documents }: { documents: ProofRequest['documents'] }) {
  const { t, formatDateTime } = useI18n();
  if (documents.length === 0) return <p className="muted">{t('identity.noDocuments')}</p>;
  return (
    <ul className="documents">
      {documents.map((d) => (
        <li key={d.id} data-status={d.status}>
          <a href={documentUrl(d.id)}>{d.fileName}</a>{' '}
          <span className="muted">
            ({Math.ceil(d.sizeBytes / 1024)} Kio, {formatDateTime(d.uploadedAt)})
          </span>{' '}
          <strong>{t(`identity.docStatus.${d.status}` as MessageKey)}</strong>
        </li>
      ))}
    </ul>
  );
}

// ---------------------------------------------------------------------------------------

function Standing() {
  const { t } = useI18n();
  const standing = useResource(() => call(api.GET('/v1/account/standing')));
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  if (standing.status !== 'ready')
    return standing.status === 'error' ? <ErrorNote error={standing.error} /> : null;
  const s = standing.data;
  async function resend() {
    setError(null);
    const r = await call(api.POST('/v1/account/verify/resend'));
    if (r.ok) setSent(true);
    else setError(r.error);
  }
  return (
    <>
      {s.suspended ? (
        <div className="note note-error" role="alert" data-testid="suspended">
          <p>
            <strong>{t('identity.suspendedTitle')}</strong>
          </p>
          {s.suspensions
            .filter((x) => !x.liftedAt)
            .map((x) => (
              <p key={x.id}>
                {hasKey(`suspension.cause.${x.cause}`)
                  ? t(`suspension.cause.${x.cause}` as MessageKey)
                  : x.reason}
              </p>
            ))}
        </div>
      ) : null}
      {!s.emailVerified ? (
        <div className="note" data-testid="email-unverified">
          <p>{t('identity.emailUnverified')}</p>
          {sent ? (
            <p className="note-ok">{t('identity.linkSent')}</p>
          ) : (
            <button type="button" className="button-quiet" onClick={() => void resend()}>
              {t('identity.resend')}
            </button>
          )}
          <ErrorNote error={error} />
        </div>
      ) : null}
    </>
  );
}

// ---------------------------------------------------------------------------------------

export interface IdentityFields {
  lastName: string;
  firstName: string;
  organisation: string;
  line1: string;
  line2: string;
  postalCode: string;
  city: string;
  country: string;
  phone: string;
  email: string;
}

export const emptyIdentity = (email = ''): IdentityFields => ({
  lastName: '',
  firstName: '',
  organisation: '',
  line1: '',
  line2: '',
  postalCode: '',
  city: '',
  country: 'FR',
  phone: '',
  email,
});

export function identityBody(f: IdentityFields) {
  return {
    lastName: f.lastName.trim(),
    firstName: f.firstName.trim(),
    organisation: f.organisation.trim() || null,
    address: {
      line1: f.line1.trim(),
      line2: f.line2.trim() || null,
      postalCode: f.postalCode.trim(),
      city: f.city.trim(),
      country: f.country,
    },
    phone: f.phone.trim(),
    email: f.email.trim(),
  };
}

const fromIdentity = (i: Identity): IdentityFields => ({
  lastName: i.lastName,
  firstName: i.firstName,
  organisation: i.organisation ?? '',
  line1: i.address.line1,
  line2: i.address.line2 ?? '',
  postalCode: i.address.postalCode,
  city: i.address.city,
  country: i.address.country,
  phone: i.phone,
  email: i.email,
});

/** ISO 3166-1 alpha-2 codes the browser can name, sorted by their name in the current language. */
export function countryOptions(language: string): { code: string; name: string }[] {
  const names = new Intl.DisplayNames([language], { type: 'region' });
  const out: { code: string; name: string }[] = [];
  for (let a = 65; a <= 90; a++)
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      if (/^(AA|Q[M-Z]|X[A-JL-Z]|ZZ|EU|EZ|UN)$/.test(code)) continue;
      const name = names.of(code);
      if (name && name !== code && !/unknown|inconnue/i.test(name)) out.push({ code, name });
    }
  return out.sort((x, y) => x.name.localeCompare(y.name, language));
}

const grid = {
  display: 'grid',
  gridTemplateColumns: 'repeat(auto-fit, minmax(12rem, 1fr))',
  columnGap: '1rem',
};
const selectStyle = {
  display: 'block',
  width: '100%',
  marginTop: '0.3rem',
  font: 'inherit',
  padding: '0.5rem 0.65rem',
};

/** The identity inputs (R6.1), shared by sign-up and the identity page. */
export function IdentityInputs({
  value,
  onChange,
}: {
  value: IdentityFields;
  onChange: (next: IdentityFields) => void;
}) {
  const { t, language } = useI18n();
  const [countries] = useState(() => countryOptions(language));
  const field = (
    name: keyof IdentityFields,
    label: MessageKey,
    extra: Record<string, unknown> = {},
  ): ReactNode => (
    <label>
      {cap(t(label))}
      <input
        name={name}
        value={value[name]}
        onChange={(e) => onChange({ ...value, [name]: e.target.value })}
        {...extra}
      />
    </label>
  );
  return (
    <>
      <div style={grid}>
        {field('lastName', 'field.lastName', { required: true, autoComplete: 'family-name' })}
        {field('firstName', 'field.firstName', { required: true, autoComplete: 'given-name' })}
      </div>
      {field('organisation', 'field.organisation', { autoComplete: 'organization' })}
      {field('line1', 'field.address.line1', { required: true, autoComplete: 'address-line1' })}
      {field('line2', 'field.address.line2', { autoComplete: 'address-line2' })}
      <div style={grid}>
        {field('postalCode', 'field.address.postalCode', { required: true, autoComplete: 'postal-code' })}
        {field('city', 'field.address.city', { required: true, autoComplete: 'address-level2' })}
      </div>
      <label>
        {cap(t('field.address.country'))}
        <select
          name="country"
          value={value.country}
          onChange={(e) => onChange({ ...value, country: e.target.value })}
          required
          style={selectStyle}
        >
          {countries.map((c) => (
            <option key={c.code} value={c.code}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <div style={grid}>
        {field('phone', 'field.phone', { required: true, type: 'tel', autoComplete: 'tel' })}
        {field('email', 'field.email', { required: true, type: 'email', autoComplete: 'email' })}
      </div>
      <p className="hint">{t('identity.phoneHint')}</p>
    </>
  );
}

function IdentityForm() {
  const { t } = useI18n();
  const current = useResource(() => call(api.GET('/v1/account/identity')));
  const [value, setValue] = useState<IdentityFields | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (current.status === 'ready' && value === null)
      setValue(current.data.identity ? fromIdentity(current.data.identity) : emptyIdentity());
  }, [current, value]);

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!value) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    const r = await call(api.PUT('/v1/account/identity', { body: identityBody(value) }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setValue(fromIdentity(r.data.identity));
    setSaved(true);
  }

  return (
    <section className="card" aria-labelledby="identity-data">
      <h2 id="identity-data">{t('identity.dataTitle')}</h2>
      <p className="muted">{t('identity.dataIntro')}</p>
      {current.status === 'loading' || !value ? <Loading /> : null}
      {current.status === 'error' ? <ErrorNote error={current.error} /> : null}
      {value ? (
        <form onSubmit={(e) => void save(e)}>
          <ErrorNote error={error} />
          {saved ? (
            <p className="note note-ok" role="status">
              {t('identity.saved')}
            </p>
          ) : null}
          <IdentityInputs value={value} onChange={setValue} />
          <button type="submit" className="button-primary" disabled={busy}>
            {t('identity.save')}
          </button>
        </form>
      ) : null}
    </section>
  );
}

// ---------------------------------------------------------------------------------------

/** Multipart upload with progress (fetch has no upload progress): XHR with the session's CSRF token. */
async function uploadDocument(
  requestId: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<{ ok: true } | { ok: false; error: ApiError }> {
  const session = await call(api.GET('/v1/auth/session'));
  if (!session.ok) return session;
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/identity/requests/${encodeURIComponent(requestId)}/documents`);
    xhr.setRequestHeader('x-csrf-token', session.data.csrfToken);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve({ ok: true });
      let body: { code?: string; message?: string } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // not JSON: fall back on the status
      }
      resolve({
        ok: false,
        error: { status: xhr.status, code: body.code ?? `http_${xhr.status}`, message: body.message ?? '' },
      });
    };
    xhr.onerror = () => resolve({ ok: false, error: { status: 0, code: 'network', message: '' } });
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

const MAX_BYTES = 10 * 1024 * 1024;

function Upload({ requestId, onDone }: { requestId: string; onDone: () => void }) {
  const { t } = useI18n();
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  async function pick(file: File | undefined) {
    if (!file) return;
    setError(null);
    if (file.size > MAX_BYTES) {
      setError({ status: 413, code: 'identity.document_too_large', message: '' });
      return;
    }
    setProgress(0);
    const r = await uploadDocument(requestId, file, setProgress);
    setProgress(null);
    if (!r.ok) setError(r.error);
    else onDone();
  }
  return (
    <div className="upload">
      <label>
        {t('identity.upload')}
        <input
          type="file"
          name="file"
          accept="application/pdf,image/jpeg,image/png"
          disabled={progress !== null}
          onChange={(e) => {
            void pick(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
        <span className="hint">{t('identity.uploadHint')}</span>
      </label>
      {progress !== null ? (
        <progress max={1} value={progress} aria-label={t('identity.uploading')}>
          {Math.round(progress * 100)} %
        </progress>
      ) : null}
      <ErrorNote error={error} />
    </div>
  );
}

function Requests() {
  const { t, formatDateTime } = useI18n();
  const list = useResource(() => call(api.GET('/v1/identity/requests')));
  if (list.status === 'loading') return <Loading />;
  if (list.status === 'error') return <ErrorNote error={list.error} />;
  const offset = clockOffset(list.data.now);
  const requests = list.data.requests;
  return (
    <section className="card" aria-labelledby="identity-requests">
      <h2 id="identity-requests">{t('identity.requestsTitle')}</h2>
      {requests.length === 0 ? <p className="muted">{t('identity.noRequests')}</p> : null}
      {requests.map((r) => {
        const open = r.state === 'open';
        return (
          <article key={r.id} className="request" data-testid="proof-request" data-phase={r.phase}>
            <h3>
              {t(kindKey(r.kind))} <PhaseBadge phase={r.phase} />
            </h3>
            <dl className="facts">
              <dt>{t('identity.requestedAt')}</dt>
              <dd>{formatDateTime(r.requestedAt)}</dd>
              <dt>{t('identity.dueAt')}</dt>
              <dd>
                {formatDateTime(r.dueAt)} <Countdown dueAt={r.dueAt} offset={offset} closed={!open} />
              </dd>
              {r.note ? (
                <>
                  <dt>{t('identity.note')}</dt>
                  <dd>{r.note}</dd>
                </>
              ) : null}
              {r.lastDecision === 'rejected' && r.decisionReason ? (
                <>
                  <dt>{t('identity.rejectedBecause')}</dt>
                  <dd>{r.decisionReason}</dd>
                </>
              ) : null}
            </dl>
            {open ? <p className="muted">{t('identity.overdueRule')}</p> : null}
            <DocumentList documents={r.documents} />
            {open ? <Upload requestId={r.id} onDone={list.reload} /> : null}
          </article>
        );
      })}
    </section>
  );
}

export function IdentityPage() {
  const { t } = useI18n();
  return (
    <Page title={t('nav.client.identity')}>
      <Standing />
      <Requests />
      <IdentityForm />
    </Page>
  );
}
