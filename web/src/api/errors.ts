// API error codes → messages in the current language.
import { hasKey, type Translate } from '../i18n/index.tsx';
import type { ApiError } from './client.ts';

export function errorMessage(t: Translate, error: ApiError): string {
  const { code } = error;
  const exact = `error.${code}`;
  if (hasKey(exact)) return t(exact);
  if (code.startsWith('validation.')) {
    const field = code.slice('validation.'.length);
    const fieldKey = `field.${field}`;
    return t('error.validation', { field: hasKey(fieldKey) ? t(fieldKey) : field });
  }
  if (code.startsWith('auth.csrf')) return t('error.auth.csrf');
  // Domain error codes are `<area>.<what>`; fall back on the HTTP status's meaning.
  if (error.status === 404) return t('error.not_found');
  if (error.status === 403) return t('error.not_allowed');
  if (error.status === 409) return t('error.conflict');
  if (error.status >= 500) return t('error.server');
  return t('error.unknown', { code });
}
