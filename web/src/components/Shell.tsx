// The frame around every logged-in page: a header (area, user, language, logout) and a
// left navigation whose links depend on the area.
import { useState, type ReactNode } from 'react';
import { Link, useLocation } from '../router.tsx';
import { languages, useI18n, type MessageKey } from '../i18n/index.tsx';
import { useMe, useSession } from '../session.tsx';
import type { Me } from '../api/client.ts';

export interface NavItem {
  path: string;
  label: MessageKey;
  /** Only these roles see the link (the API refuses the others anyway). Default: all. */
  roles?: readonly Me['role'][];
}

export function navFor(me: Me): readonly NavItem[] {
  const nav = me.kind === 'staff' ? consoleNav : clientNav;
  return nav.filter((item) => !item.roles || item.roles.includes(me.role));
}

export const clientNav: readonly NavItem[] = [
  { path: '/client', label: 'nav.client.dashboard' },
  { path: '/client/vps', label: 'nav.client.vps' },
  { path: '/client/catalogue', label: 'nav.client.catalogue' },
  { path: '/client/orders', label: 'nav.client.orders' },
  { path: '/client/invoices', label: 'nav.client.invoices' },
  { path: '/client/tickets', label: 'nav.client.tickets' },
  { path: '/client/identity', label: 'nav.client.identity' },
  { path: '/client/account', label: 'nav.client.account' },
];

export const consoleNav: readonly NavItem[] = [
  { path: '/console', label: 'nav.console.dashboard' },
  { path: '/console/clients', label: 'nav.console.clients' },
  { path: '/console/tickets', label: 'nav.console.tickets' },
  { path: '/console/identity', label: 'nav.console.identity' },
  { path: '/console/hosts', label: 'nav.console.hosts' },
  { path: '/console/vps', label: 'nav.console.vps' },
  { path: '/console/provisioning', label: 'nav.console.provisioning' },
  { path: '/console/alerts', label: 'nav.console.alerts' },
  { path: '/console/plan-changes', label: 'nav.console.planChanges' },
  { path: '/console/terminations', label: 'nav.console.terminations' },
  { path: '/console/network-blocks', label: 'nav.console.networkBlocks' },
  { path: '/console/sanctions', label: 'nav.console.sanctions' },
  { path: '/console/authority-notices', label: 'nav.console.authorityNotices' },
  { path: '/console/pools', label: 'nav.console.pools' },
  { path: '/console/orders', label: 'nav.console.orders' },
  { path: '/console/renewals', label: 'nav.console.renewals' },
  { path: '/console/payments', label: 'nav.console.payments' },
  { path: '/console/plans', label: 'nav.console.plans' },
  { path: '/console/outbox', label: 'nav.console.outbox' },
  { path: '/console/notices', label: 'nav.console.notices' },
  { path: '/console/audit', label: 'nav.console.audit', roles: ['admin'] },
  { path: '/console/account', label: 'nav.console.account' },
];

export function LanguageSwitch() {
  const { language, setLanguage, t } = useI18n();
  return (
    <div className="lang-switch" role="group" aria-label={t('header.language')}>
      {languages.map((lang) => (
        <button
          key={lang}
          type="button"
          lang={lang}
          aria-pressed={language === lang}
          title={t(`language.${lang}`)}
          onClick={() => setLanguage(lang)}
        >
          {lang.toUpperCase()}
        </button>
      ))}
    </div>
  );
}

export function Shell({ children }: { children: ReactNode }) {
  const me = useMe();
  const { logout } = useSession();
  const { t } = useI18n();
  const { pathname } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const staff = me.kind === 'staff';
  const nav = navFor(me);
  const home = nav[0]?.path ?? '/';

  return (
    <div className={`shell ${staff ? 'shell-console' : 'shell-client'}`}>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="topbar">
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          {t('header.menu')}
        </button>
        <Link to={home} className="brand">
          {t('app.name')}
          <span className="area">{t(staff ? 'area.console' : 'area.client')}</span>
        </Link>
        <div className="topbar-right">
          <span className="user" data-testid="user-name">
            {me.name}
            <span className="role">{t(`role.${me.role}`)}</span>
          </span>
          <LanguageSwitch />
          <button type="button" className="button-quiet" onClick={() => void logout()}>
            {t('header.logout')}
          </button>
        </div>
      </header>
      <div className="body">
        <nav id="nav" className={menuOpen ? 'nav open' : 'nav'} aria-label={t('nav.label')}>
          <ul>
            {nav.map((item) => {
              const current = pathname === item.path;
              return (
                <li key={item.path}>
                  <Link
                    to={item.path}
                    aria-current={current ? 'page' : undefined}
                    onClick={() => setMenuOpen(false)}
                  >
                    {t(item.label)}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
