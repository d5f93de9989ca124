// How values read in mails. One formatter, so a date reads the same in every mail (and as the
// API's `timeZone` says): the provider's zone, in the client's language.
import type { MailLanguage } from './render.ts';

export const CLIENT_TIME_ZONE = 'Europe/Paris';

/** A date and time in the client's language, Paris time, saying so. */
export function mailDate(d: Date, language: MailLanguage): string {
  const s = new Intl.DateTimeFormat(language === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: CLIENT_TIME_ZONE,
  }).format(d);
  return language === 'fr' ? `${s} (heure de Paris)` : `${s} (Paris time)`;
}

/** A calendar day in the client's language (Paris), without the time. */
export function mailDay(d: Date, language: MailLanguage): string {
  return new Intl.DateTimeFormat(language === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeZone: CLIENT_TIME_ZONE,
  }).format(d);
}
