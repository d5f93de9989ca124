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

/** A paged list as the API serves it (cursor pagination). */
export interface ApiPage<T> {
  items: T[];
  nextCursor: string | null;
}

export type PagedResource<T> = Resource<T[]> & {
  /** Loads the next page and appends it; null when the last page is shown. */
  more: (() => void) | null;
  loadingMore: boolean;
};

/**
 * Loads the first page of a list when the component mounts; `more()` appends the next page
 * (the API's lists are paged: none sends every row at once); `reload()` starts again from the
 * first page.
 */
export function usePagedResource<T>(
  fetchPage: (cursor?: string) => Promise<Result<ApiPage<T>>>,
): PagedResource<T> {
  const [state, setState] = useState<{ result: Result<T[]> | null; next: string | null }>({
    result: null,
    next: null,
  });
  const [loadingMore, setLoadingMore] = useState(false);
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  useEffect(() => {
    let live = true;
    void fetchPage().then((r) => {
      if (!live) return;
      setState(
        r.ok
          ? { result: { ok: true, data: r.data.items }, next: r.data.nextCursor }
          : { result: r, next: null },
      );
    });
    return () => {
      live = false;
    };
    // The fetcher is a fresh closure on each render; loading follows `generation` only.
  }, [generation]);
  const { result, next } = state;
  const more =
    result?.ok && next && !loadingMore
      ? () => {
          setLoadingMore(true);
          void fetchPage(next).then((r) => {
            setLoadingMore(false);
            setState((s) =>
              r.ok && s.result?.ok
                ? { result: { ok: true, data: [...s.result.data, ...r.data.items] }, next: r.data.nextCursor }
                : r.ok
                  ? s
                  : { result: r, next: null },
            );
          });
        }
      : null;
  if (!result) return { status: 'loading', reload, more: null, loadingMore };
  return result.ok
    ? { status: 'ready', data: result.data, reload, more, loadingMore }
    : { status: 'error', error: result.error, reload, more: null, loadingMore };
}

/** The "load more" button under a paged list (nothing on its last page). */
export function LoadMore({ list }: { list: { more: (() => void) | null; loadingMore: boolean } }) {
  const { t } = useI18n();
  if (!list.more && !list.loadingMore) return null;
  return (
    <p>
      <button type="button" className="btn" onClick={list.more ?? undefined} disabled={!list.more}>
        {list.loadingMore ? t('common.loading') : t('common.loadMore')}
      </button>
    </p>
  );
}
