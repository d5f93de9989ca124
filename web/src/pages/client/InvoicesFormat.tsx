// Money and term display shared by the commerce pages (client and console). Amounts are
// integer cents from the API; they are only turned into text here.
import type { Language, Translate } from '../../i18n/index.tsx';

export function formatMoney(cents: number, language: Language): string {
  return new Intl.NumberFormat(language === 'fr' ? 'fr-FR' : 'en-GB', {
    style: 'currency',
    currency: 'EUR',
  }).format(cents / 100);
}

export function formatRate(bp: number, language: Language): string {
  return `${new Intl.NumberFormat(language === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: 2 }).format(bp / 100)} %`;
}

/** R11.1 / R11.2: the term in words. */
export function termLabel(t: Translate, kind: 'fixed' | 'subscription', months: number | null): string {
  return kind === 'fixed'
    ? t('commerce.term.fixed', { months: months ?? 0 })
    : t('commerce.term.subscription');
}

export function orderStateLabel(
  t: Translate,
  state: 'awaiting_payment' | 'paid' | 'validated' | 'cancelled',
): string {
  return t(`commerce.orderState.${state}`);
}

export function invoiceStatusLabel(t: Translate, status: 'issued' | 'paid' | 'void'): string {
  return t(`commerce.invoiceStatus.${status}`);
}
