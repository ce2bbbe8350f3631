// Coded JSON errors. Every error body is `{ code, message }` (plus `retryAfterSeconds` where
// it helps); messages are written by us or come from BackendError, which is already cleaned
// of credentials and values. A thrown error of any other kind becomes a bare `Internal`.
import { BackendError, type BackendErrorCode } from '../../resilience/errors.ts';

export type ApiErrorCode =
  | 'BadRequest'
  | 'Unauthenticated'
  | 'Forbidden'
  | 'NotFound'
  | 'Conflict'
  | 'Disabled'
  | 'NotImplemented'
  | 'PayloadTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'Timeout'
  | 'BackendUnavailable'
  | 'AuditUnavailable'
  | 'ClientClosedRequest'
  | 'Internal';

const STATUS: Readonly<Record<ApiErrorCode, number>> = {
  BadRequest: 400,
  Unauthenticated: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  Disabled: 404,
  // The backend's type cannot do what was asked (a delete on a backend without one).
  NotImplemented: 501,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  Timeout: 504,
  BackendUnavailable: 503,
  AuditUnavailable: 503,
  // Never sent (nobody is left to read it): what the audit line says of a client that went away.
  ClientClosedRequest: 499,
  Internal: 500,
};

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  readonly retryAfterMs?: number;

  constructor(code: ApiErrorCode, message: string, retryAfterMs?: number) {
    super(message);
    this.code = code;
    this.statusCode = STATUS[code];
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }

  body(): { code: ApiErrorCode; message: string; retryAfterSeconds?: number } {
    return {
      code: this.code,
      message: this.message,
      ...(this.retryAfterMs !== undefined && { retryAfterSeconds: Math.ceil(this.retryAfterMs / 1000) }),
    };
  }
}

const FROM_BACKEND: Readonly<Record<BackendErrorCode, ApiErrorCode>> = {
  NotFound: 'NotFound',
  PermissionDenied: 'Forbidden',
  TenancyDenied: 'Forbidden',
  InvalidRequest: 'BadRequest',
  Throttled: 'TooManyRequests',
  Unavailable: 'BackendUnavailable',
  CircuitOpen: 'BackendUnavailable',
  Conflict: 'Conflict',
  // The operator's own credentials were refused: not the caller's fault.
  Unauthenticated: 'BackendUnavailable',
  Unknown: 'BackendUnavailable',
};

/** Fastify's own error codes (body parsing, limits, validation) → ours. */
const FROM_FASTIFY: Readonly<Record<string, ApiErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PayloadTooLarge',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UnsupportedMediaType',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BadRequest',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BadRequest',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BadRequest',
};

/** Any thrown value → an ApiError that is safe to send. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // The request's own deadline (AbortSignal.timeout) ended a backend or issuer call.
  if (err instanceof DOMException && err.name === 'TimeoutError') {
    return new ApiError('Timeout', 'the request took longer than api.requestTimeout');
  }
  if (err instanceof BackendError) return new ApiError(FROM_BACKEND[err.code], err.message, err.retryAfterMs);
  const e = err as { code?: string; statusCode?: number; validation?: unknown; message?: string };
  if (e?.validation) return new ApiError('BadRequest', e.message ?? 'invalid request');
  const mapped = e?.code ? FROM_FASTIFY[e.code] : undefined;
  if (mapped)
    return new ApiError(
      mapped,
      mapped === 'PayloadTooLarge' ? 'request body too large' : 'invalid request body',
    );
  if (e?.statusCode === 429) return new ApiError('TooManyRequests', 'too many requests; slow down');
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError('BadRequest', 'invalid request');
  }
  return new ApiError('Internal', 'internal error; see the operator log');
}
