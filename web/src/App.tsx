// Top-level routing: login when anonymous; staff land on /console, clients on /client;
// each area is only for its own kind of user ("not allowed" otherwise).
import { useEffect } from 'react';
import { Shell } from './components/Shell.tsx';
import { Loading } from './components/ui.tsx';
import { Login } from './pages/Login.tsx';
import { AccessCodesPage } from './pages/AccessCodes.tsx';
import { SignUp, VerifyEmail } from './pages/SignUp.tsx';
import { ClientArea } from './pages/client/ClientArea.tsx';
import { Console } from './pages/console/Console.tsx';
import { NotAllowed, NotFound } from './pages/Status.tsx';
import { navigate, useLocation } from './router.tsx';
import { homeOf, useSession } from './session.tsx';

function inArea(path: string, area: string): boolean {
  return path === area || path.startsWith(`${area}/`);
}

/** A `next` parameter is followed only to a path of the user's own area. */
function safeNext(next: string | null, home: string): string {
  if (
    next &&
    next.startsWith('/') &&
    !next.startsWith('//') &&
    inArea(new URL(next, location.origin).pathname, home)
  ) {
    return next;
  }
  return home;
}

export function App() {
  const { state } = useSession();
  const { pathname, search } = useLocation();

  const redirect = ((): string | null => {
    if (state.status === 'loading') return null;
    if (state.status === 'anonymous') {
      // Public pages: sign-up, the email links' landing pages (verification, access codes).
      if (pathname === '/login' || pathname === '/signup' || pathname === '/verify' || pathname === '/access')
        return null;
      const keep =
        pathname === '/' || state.reason === 'logged_out'
          ? ''
          : `?next=${encodeURIComponent(pathname + location.search)}`;
      return `/login${keep}`;
    }
    const home = homeOf(state.me);
    if (pathname === '/') return home;
    if (pathname === '/login' || pathname === '/signup') return safeNext(search.get('next'), home);
    return null;
  })();

  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);

  if (state.status === 'loading' || redirect) {
    return (
      <div className="boot">
        <Loading />
      </div>
    );
  }
  if (pathname === '/verify') return <VerifyEmail />;
  if (pathname === '/access') return <AccessCodesPage />;
  if (state.status === 'anonymous')
    return pathname === '/signup' ? <SignUp /> : <Login notice={state.reason} />;

  const staff = state.me.kind === 'staff';
  let page;
  if (inArea(pathname, '/console')) page = staff ? <Console path={pathname} /> : <NotAllowed />;
  else if (inArea(pathname, '/client')) page = staff ? <NotAllowed /> : <ClientArea path={pathname} />;
  else page = <NotFound />;
  return <Shell>{page}</Shell>;
}
