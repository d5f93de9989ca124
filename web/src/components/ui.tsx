// Small building blocks shared by the pages.
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import type { ApiError, Result } from '../api/client.ts';
import { errorMessage } from '../api/errors.ts';
import { useI18n, type MessageKey } from '../i18n/index.tsx';

export function Page({
  title,
  children,
  actions,
}: {
  title: string;
  children?: ReactNode;
  actions?: ReactNode;
}) {
  const { t } = useI18n();
  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`;
  }, [title, t]);
  return (
    <section className="page">
      <header className="page-header">
        <h1>{title}</h1>
        {actions}
      </header>
      {children}
    </section>
  );
}

/** A page for features that later issues deliver. */
export function EmptyPage({ titleKey }: { titleKey: MessageKey }) {
  const { t } = useI18n();
  return (
    <Page title={t(titleKey)}>
      <EmptyState />
    </Page>
  );
}

export function EmptyState({ text }: { text?: string }) {
  const { t } = useI18n();
  return (
    <div className="empty">
      <p className="empty-title">{text ?? t('common.empty')}</p>
      {text ? null : <p className="muted">{t('common.emptyHint')}</p>}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="muted" role="status">
      {t('common.loading')}
    </p>
  );
}

export function ErrorNote({ error }: { error: ApiError | null }) {
  const { t } = useI18n();
  if (!error) return null;
  return (
    <p className="note note-error" role="alert" data-code={error.code}>
      {errorMessage(t, error)}
    </p>
  );
}

export type Resource<T> =
  | { status: 'loading'; reload(): void }
  | { status: 'error'; error: ApiError; reload(): void }
  | { status: 'ready'; data: T; reload(): void };

/** Loads data from the API when the component mounts; `reload()` fetches it again. */
export function useResource<T>(fetcher: () => Promise<Result<T>>): Resource<T> {
  const [result, setResult] = useState<Result<T> | null>(null);
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  useEffect(() => {
    let live = true;
    void fetcher().then((r) => {
      if (live) setResult(r);
    });
    return () => {
      live = false;
    };
    // The fetcher is a fresh closure on each render; loading follows `generation` only.
  }, [generation]);
  if (!result) return { status: 'loading', reload };
  return result.ok
    ? { status: 'ready', data: result.data, reload }
    : { status: 'error', error: result.error, reload };
}
