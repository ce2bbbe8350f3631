/**
 * The single error type every remote call (backend or issuer) rejects with, and how it is
 * classified: a code, transient or not (retry with backoff, or surface it), an optional
 * Retry-After. Messages are built by us from status codes and sanitised server texts: never
 * tokens, headers, request bodies or values, and never the SDK error as `cause`.
 */

import { cut } from '../text.ts';

export type BackendErrorCode =
  | 'NotFound'
  | 'PermissionDenied'
  | 'Throttled'
  | 'Unavailable'
  | 'InvalidRequest'
  | 'Unauthenticated'
  | 'TenancyDenied'
  | 'CircuitOpen'
  /** A check-and-set (version) mismatch: someone else wrote in between; read again and retry. */
  | 'Conflict'
  | 'Unknown';

/** Whether a code is worth retrying with backoff when the backend does not say otherwise. */
const TRANSIENT_BY_DEFAULT: Readonly<Record<BackendErrorCode, boolean>> = {
  NotFound: false,
  PermissionDenied: false,
  Throttled: true,
  Unavailable: true,
  InvalidRequest: false,
  Unauthenticated: false,
  TenancyDenied: false,
  CircuitOpen: true,
  Conflict: true,
  Unknown: true,
};

export interface BackendErrorOptions {
  /** Default: by code (Throttled, Unavailable, CircuitOpen, Conflict, Unknown are transient). */
  readonly transient?: boolean;
  /** When the caller may try again (Throttled, CircuitOpen). */
  readonly retryAfterMs?: number;
  /** Name of the backend (from the config). */
  readonly backend?: string;
  /** Default: CircuitOpen. Our breaker is open after this call (see BackendError.circuitOpen). */
  readonly circuitOpen?: boolean;
}

const MAX_MESSAGE_LENGTH = 400;

export class BackendError extends Error {
  override readonly name = 'BackendError';
  readonly code: BackendErrorCode;
  /** Transient: retry with backoff. Not transient: a user or config fault; surface it, no hot retry. */
  readonly transient: boolean;
  readonly retryAfterMs?: number;
  readonly backend?: string;
  /**
   * Our circuit breaker is open after this call — it refused it (CircuitOpen), or this failure
   * opened it: `retryAfterMs` says when the next trial call may go through. Until then the
   * breaker, not the caller's own backoff, paces retries.
   */
  readonly circuitOpen: boolean;

  constructor(code: BackendErrorCode, message: string, options: BackendErrorOptions = {}) {
    super(cut(message, MAX_MESSAGE_LENGTH));
    this.code = code;
    this.transient = options.transient ?? TRANSIENT_BY_DEFAULT[code];
    if (options.retryAfterMs !== undefined) this.retryAfterMs = Math.max(0, Math.round(options.retryAfterMs));
    if (options.backend !== undefined) this.backend = options.backend;
    this.circuitOpen = options.circuitOpen ?? code === 'CircuitOpen';
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      transient: this.transient,
      message: this.message,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.backend === undefined ? {} : { backend: this.backend }),
    };
  }
}

export function isBackendError(err: unknown): err is BackendError {
  return err instanceof BackendError;
}

/** Whether `err` is the rejection of an aborted signal (not a backend failure). */
export function isAbort(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted && err === signal.reason) return true;
  return (
    err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError') && !isBackendError(err)
  );
}

/**
 * The one way a backend says its check-and-set failed: `where` names the secret (quoted by the
 * caller), `found` says what is there instead ("found 7", "the secret does not exist").
 */
export function checkAndSetFailed(
  where: string,
  expected: string,
  found: string,
  backend?: string,
): BackendError {
  return new BackendError(
    'Conflict',
    `check-and-set failed for ${where}: expected version ${expected.slice(0, 64)}, ${found}`,
    backend === undefined ? {} : { backend },
  );
}

/** Same error with the backend name set (the adapters do not always know it). */
export function withBackend(err: BackendError, backend: string): BackendError {
  if (err.backend === backend) return err;
  const copy = new BackendError(err.code, err.message, {
    transient: err.transient,
    ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
    backend,
    circuitOpen: err.circuitOpen,
  });
  return copy;
}
