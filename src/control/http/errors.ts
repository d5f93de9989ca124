// The one place errors become HTTP responses: `{code, message}` bodies; 5xx details hidden.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError, type ErrorKind } from '../../domain/errors.ts';

const statusOfKind: Record<ErrorKind, number> = {
  not_found: 404,
  not_allowed: 403,
  conflict: 409,
  invalid_data: 400,
  unexpected_state: 500,
};

/** Codes whose status is not their kind's: authentication (401) and throttling (429). */
const statusOfCode: Record<string, number> = {
  'auth.unauthenticated': 401,
  'auth.session_expired': 401,
  'auth.invalid_credentials': 401,
  'auth.totp_required': 401,
  'auth.totp_invalid': 401,
  'auth.bad_token': 401,
  'auth.token_expired': 401,
  'auth.throttled': 429,
};

export function statusFor(kind: ErrorKind, code: string): number {
  return statusOfCode[code] ?? statusOfKind[kind];
}

export interface ErrorBody {
  code: string;
  message: string;
  field?: string;
}

/** Turns an Ajv validation error into `validation.<field>`. */
function validationBody(e: FastifyError): ErrorBody {
  const v = e.validation?.[0];
  const where = e.validationContext ?? 'body';
  let field = '';
  if (v) {
    const missing = (v.params as { missingProperty?: string; additionalProperty?: string } | undefined) ?? {};
    const pathParts = (v.instancePath ?? '').split('/').filter(Boolean);
    if (missing.missingProperty) pathParts.push(missing.missingProperty);
    else if (missing.additionalProperty) pathParts.push(missing.additionalProperty);
    field = pathParts.join('.');
  }
  const name = field || where;
  const detail = v?.message ?? 'is not valid';
  const message =
    v?.keyword === 'additionalProperties'
      ? `${where}: unknown field "${name}"`
      : v?.keyword === 'required'
        ? `${where}: the field "${name}" is required`
        : field
          ? `${where}.${field} ${detail}`
          : `${where} ${detail}`;
  return { code: `validation.${name}`, message, field: name };
}

export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  if (isDomainError(err)) {
    const status = statusFor(err.kind, err.code);
    const body: ErrorBody = { code: err.code, message: err.message };
    if (typeof err.details?.field === 'string') body.field = err.details.field;
    if (status >= 500) {
      req.log.error({ err }, 'domain error');
      void reply.status(status).send({ code: err.code, message: 'Internal error' });
      return;
    }
    void reply.status(status).send(body);
    return;
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    void reply.status(400).send(validationBody(fe));
    return;
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors: bad JSON, wrong content type, body too large...
    const code =
      fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? 'request.unsupported_media_type'
        : fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'request.too_large'
          : fe.code?.startsWith('FST_ERR_CTP') || err instanceof SyntaxError
            ? 'request.malformed'
            : 'request.invalid';
    void reply.status(fe.statusCode).send({ code, message: fe.message });
    return;
  }
  req.log.error({ err }, 'unhandled error');
  void reply.status(500).send({ code: 'internal', message: 'Internal error' });
}
