// Money: integer cents (of euros) and VAT rates in basis points (2000 = 20 %). Never floats:
// every amount is a safe integer, every rounding is explicit (half up, on the total of an
// invoice, as French invoicing practice does).
import { invalidData } from './errors.ts';

/** An amount in cents. A plain number, but always a safe, non-negative integer here. */
export type Cents = number;
/** A rate in basis points: 2000 = 20.00 %. */
export type BasisPoints = number;

export const CURRENCY = 'EUR';
/** The highest amount we handle (10 million euros): far below 2^53, so products stay exact. */
export const MAX_CENTS = 1_000_000_000;
export const MAX_VAT_BP = 10_000;

export function isCents(n: unknown): n is Cents {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_CENTS;
}

export function checkCents(n: number, field = 'amountCents'): Cents {
  if (!isCents(n))
    throw invalidData(
      `validation.${field}`,
      `An amount is a whole number of cents between 0 and ${MAX_CENTS}`,
      { field },
    );
  return n;
}

export function checkVatRate(bp: number, field = 'vatRateBp'): BasisPoints {
  if (!Number.isSafeInteger(bp) || bp < 0 || bp > MAX_VAT_BP)
    throw invalidData(
      `validation.${field}`,
      'A VAT rate is a whole number of basis points between 0 and 10000 (2000 = 20 %)',
      { field },
    );
  return bp;
}

/** `amount × rate / 10000`, rounded half up, exactly (no float ever holds a fraction of a cent). */
export function percentOf(amount: Cents, rate: BasisPoints): Cents {
  checkCents(amount);
  checkVatRate(rate);
  const p = BigInt(amount) * BigInt(rate);
  return Number((p + 5000n) / 10000n);
}

/** `unit × quantity`, refusing anything that would leave the safe range. */
export function times(unit: Cents, quantity: number): Cents {
  if (!Number.isSafeInteger(quantity) || quantity < 0)
    throw invalidData('validation.quantity', 'A quantity is a whole number');
  const r = unit * quantity;
  if (!isCents(r))
    throw invalidData('money.too_large', `${unit} × ${quantity} cents is beyond what an invoice can hold`);
  return r;
}

export interface Totals {
  netCents: Cents;
  vatRateBp: BasisPoints;
  vatCents: Cents;
  totalCents: Cents;
}

/** Totals of lines excluding tax under one VAT rate: VAT is computed once, on the net total. */
export function totalsOf(lineNetCents: readonly Cents[], vatRateBp: BasisPoints): Totals {
  let net = 0;
  for (const l of lineNetCents) net += checkCents(l);
  checkCents(net, 'netCents');
  const vat = percentOf(net, vatRateBp);
  return { netCents: net, vatRateBp, vatCents: vat, totalCents: checkCents(net + vat, 'totalCents') };
}

/** "12,34 €" / "€12.34" for people; amounts stay cents everywhere else. */
export function formatCents(cents: Cents, locale: 'fr' | 'en' = 'fr'): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const units = Math.trunc(abs / 100);
  const rest = String(abs % 100).padStart(2, '0');
  const grouped = String(units).replace(/\B(?=(\d{3})+(?!\d))/g, locale === 'fr' ? '\u202f' : ',');
  return locale === 'fr' ? `${sign}${grouped},${rest}\u00a0€` : `${sign}€${grouped}.${rest}`;
}

/** "20 %" / "5.5 %" from basis points. */
export function formatRate(bp: BasisPoints, locale: 'fr' | 'en' = 'fr'): string {
  const whole = Math.trunc(bp / 100);
  const frac = String(bp % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  const sep = locale === 'fr' ? ',' : '.';
  return `${whole}${frac ? sep + frac : ''}\u00a0%`;
}
