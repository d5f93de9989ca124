// Who is logged in. Loaded once from GET /v1/auth/session; login and logout update it.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import {
  api,
  call,
  setCsrfToken,
  setUnauthenticatedHandler,
  type ApiError,
  type Me,
  type Result,
  type Session,
} from './api/client.ts';
import { useI18n } from './i18n/index.tsx';

export type SessionState =
  | { status: 'loading' }
  | { status: 'anonymous'; reason: 'none' | 'logged_out' | 'expired' }
  | { status: 'authenticated'; me: Me };

export interface LoginInput {
  email: string;
  password: string;
  totp?: string;
}

interface SessionApi {
  state: SessionState;
  login(input: LoginInput): Promise<Result<Session>>;
  logout(): Promise<void>;
  /** Re-reads the session (after a change to the user, e.g. TOTP enabled). */
  refresh(): Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

/** Where a user lands after login. */
export function homeOf(me: Me): '/console' | '/client' {
  return me.kind === 'staff' ? '/console' : '/client';
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const { setLanguage } = useI18n();

  const load = useCallback(async (): Promise<void> => {
    const result = await call(api.GET('/v1/auth/session'));
    if (result.ok) {
      setCsrfToken(result.data.csrfToken);
      setState({ status: 'authenticated', me: result.data.user });
    } else {
      setCsrfToken(null);
      setState({ status: 'anonymous', reason: 'none' });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      setCsrfToken(null);
      setState({ status: 'anonymous', reason: 'expired' });
    });
    return () => setUnauthenticatedHandler(null);
  }, []);

  const value = useMemo<SessionApi>(
    () => ({
      state,
      async login(input) {
        const body = {
          email: input.email,
          password: input.password,
          ...(input.totp ? { totp: input.totp } : {}),
        };
        const result = await call(api.POST('/v1/auth/login', { body }));
        if (result.ok) {
          setCsrfToken(result.data.csrfToken);
          setLanguage(result.data.user.language);
          setState({ status: 'authenticated', me: result.data.user });
        }
        return result;
      },
      async logout() {
        await call(api.POST('/v1/auth/logout'));
        setCsrfToken(null);
        setState({ status: 'anonymous', reason: 'logged_out' });
      },
      refresh: load,
    }),
    [state, load, setLanguage],
  );
  return <SessionContext value={value}>{children}</SessionContext>;
}

export function useSession(): SessionApi {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== 'authenticated') throw new Error('useMe without a session');
  return state.me;
}

export type { ApiError };
