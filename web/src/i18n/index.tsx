// A small i18n module: French by default, English available. The chosen language is kept in
// localStorage; after an explicit login it becomes the user's own `language`.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { fr, type MessageKey, type Messages } from './fr.ts';
import { en } from './en.ts';

export type Language = 'fr' | 'en';
export type { MessageKey };
export const languages: readonly Language[] = ['fr', 'en'];
const catalogs: Record<Language, Messages> = { fr, en };
const storageKey = 'infogere.language';

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function isLanguage(value: unknown): value is Language {
  return value === 'fr' || value === 'en';
}

export function storedLanguage(): Language | null {
  try {
    const value = localStorage.getItem(storageKey);
    return isLanguage(value) ? value : null;
  } catch {
    return null;
  }
}

export function translator(language: Language): Translate {
  const messages = catalogs[language];
  return (key, vars) => {
    const text = messages[key];
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
  };
}

export function hasKey(key: string): key is MessageKey {
  return Object.hasOwn(fr, key);
}

interface I18n {
  language: Language;
  setLanguage(language: Language): void;
  t: Translate;
  /** Formats a date/time from the API (ISO string) for the current language. */
  formatDateTime(iso: string | null | undefined): string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(() => storedLanguage() ?? 'fr');
  const setLanguage = useCallback((next: Language) => {
    setLanguageState(next);
    try {
      localStorage.setItem(storageKey, next);
    } catch {
      // Storage may be unavailable (private mode): the choice then lasts for this page only.
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  const value = useMemo<I18n>(() => {
    const dateFormat = new Intl.DateTimeFormat(language === 'fr' ? 'fr-FR' : 'en-GB', {
      dateStyle: 'medium',
      timeStyle: 'short',
    });
    return {
      language,
      setLanguage,
      t: translator(language),
      formatDateTime: (iso) => {
        if (!iso) return '—';
        const date = new Date(iso);
        return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
      },
    };
  }, [language, setLanguage]);
  return <I18nContext value={value}>{children}</I18nContext>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
