// Errors raised by services and the domain. The kind decides the HTTP status (see
// src/control/http/errors.ts); the code is stable and documented for API clients.
export const errorKinds = [
  'not_found',
  'not_allowed',
  'conflict',
  'invalid_data',
  'unexpected_state',
] as const;
export type ErrorKind = (typeof errorKinds)[number];

export class DomainError extends Error {
  readonly kind: ErrorKind;
  /** Stable, machine-readable: `vps.not_found`, `auth.totp_required`, ... */
  readonly code: string;
  /** Extra facts safe to show to the caller (e.g. the field name). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(kind: ErrorKind, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.code = code;
    this.details = details;
  }
}

export const notFound = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError('not_found', code, message, details);
export const notAllowed = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError('not_allowed', code, message, details);
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError('conflict', code, message, details);
export const invalidData = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError('invalid_data', code, message, details);
export const unexpectedState = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError('unexpected_state', code, message, details);

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
