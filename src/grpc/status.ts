// API error codes as gRPC status codes. The API's own code travels in the trailing metadata
// `vaultsync-error-code` (and a retry time in `retry-after-seconds`), so a client can tell
// Disabled from NotFound, or AuditUnavailable from BackendUnavailable.
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type ApiError, type ApiErrorCode, toApiError } from '../http/api/errors.ts';

const STATUS: Readonly<Record<ApiErrorCode, status>> = {
  BadRequest: status.INVALID_ARGUMENT,
  Unauthenticated: status.UNAUTHENTICATED,
  Forbidden: status.PERMISSION_DENIED,
  NotFound: status.NOT_FOUND,
  // A stale check-and-set: read again and retry (gRPC's meaning of ABORTED).
  Conflict: status.ABORTED,
  Disabled: status.NOT_FOUND,
  NotImplemented: status.UNIMPLEMENTED,
  PayloadTooLarge: status.RESOURCE_EXHAUSTED,
  UnsupportedMediaType: status.INVALID_ARGUMENT,
  TooManyRequests: status.RESOURCE_EXHAUSTED,
  Timeout: status.DEADLINE_EXCEEDED,
  BackendUnavailable: status.UNAVAILABLE,
  AuditUnavailable: status.UNAVAILABLE,
  ClientClosedRequest: status.CANCELLED,
  Internal: status.INTERNAL,
};

export const ERROR_CODE_KEY = 'vaultsync-error-code';

/** The gRPC status of an API error (pure). */
export const grpcStatusOf = (code: ApiErrorCode): status => STATUS[code];

/** Any thrown value as the error a gRPC call ends with, and the ApiError it stands for. */
export function toServiceError(err: unknown): { error: Partial<ServiceError>; apiError: ApiError } {
  const apiError = toApiError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, apiError.code);
  if (apiError.retryAfterMs !== undefined)
    metadata.set('retry-after-seconds', String(Math.ceil(apiError.retryAfterMs / 1000)));
  return { error: { code: STATUS[apiError.code], details: apiError.message, metadata }, apiError };
}
