// A minimal history router: the panel has a handful of fixed paths, no need for a library.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const changeEvent = 'infogere:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener('hashchange', onChange);
  window.addEventListener(changeEvent, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener('hashchange', onChange);
    window.removeEventListener(changeEvent, onChange);
  };
}

const snapshot = () => location.pathname + location.search;
const withHash = () => snapshot() + location.hash;

/**
 * The current path, query string and fragment, e.g. `/login?next=%2Fclient`. The fragment
 * (`#token=…`) is where the mails' one-time links put their token: browsers never send it.
 */
export function useLocation(): { pathname: string; search: URLSearchParams; hash: URLSearchParams } {
  const current = useSyncExternalStore(subscribe, withHash);
  const url = new URL(current, location.origin);
  return {
    pathname: url.pathname.replace(/\/+$/, '') || '/',
    search: url.searchParams,
    hash: new URLSearchParams(url.hash.slice(1)),
  };
}

/** A one-time link's token: in the fragment (links mailed now) or the query (links mailed before). */
export function useLinkToken(): string {
  const { search, hash } = useLocation();
  return hash.get('token') ?? search.get('token') ?? '';
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event(changeEvent));
  if (!options.replace) window.scrollTo(0, 0);
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

export function Link({ to, onClick, ...rest }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    ) {
      return;
    }
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}
