/**
 * The single error type every backend call rejects with. Messages are built by us from
 * status codes and sanitised server texts: never tokens, headers, request bodies or values,
 * and never the SDK error as `cause`.
 */

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
}

export const MAX_MESSAGE_LENGTH = 400;

export class BackendError extends Error {
  override readonly name = 'BackendError';
  readonly code: BackendErrorCode;
  /** Transient: retry with backoff. Not transient: a user or config fault; surface it, no hot retry. */
  readonly transient: boolean;
  readonly retryAfterMs?: number;
  readonly backend?: string;

  constructor(code: BackendErrorCode, message: string, options: BackendErrorOptions = {}) {
    super(capMessage(message));
    this.code = code;
    this.transient = options.transient ?? TRANSIENT_BY_DEFAULT[code];
    if (options.retryAfterMs !== undefined) this.retryAfterMs = Math.max(0, Math.round(options.retryAfterMs));
    if (options.backend !== undefined) this.backend = options.backend;
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
  });
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Sanitising helpers for adapters

/** Patterns that look like credentials; replaced before any server text enters a message. */
const CREDENTIAL_PATTERNS: readonly RegExp[] = [
  /\b(hv[sbr]|s|b|r)\.[A-Za-z0-9_-]{20,}/g, // Vault / OpenBao tokens
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, // JWTs (ServiceAccount tokens)
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\b[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}\b/g, // AppRole ids, accessors
];

/**
 * Cleans a server-provided text (e.g. one of Vault's `errors[]`): control characters out,
 * anything credential-shaped replaced, length capped.
 */
export function sanitizeServerText(text: unknown, maxLength = 200): string {
  if (typeof text !== 'string') return '';
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  let out = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  for (const re of CREDENTIAL_PATTERNS) out = out.replace(re, '[REDACTED]');
  out = out.replace(/\s+/g, ' ');
  return out.length > maxLength ? `${out.slice(0, maxLength - 1)}…` : out;
}

function capMessage(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}

/** Network-level error codes (Node / axios) → our code, transient flag and a fixed phrase. */
export function mapNetworkErrorCode(
  code: unknown,
): { code: BackendErrorCode; transient: boolean; phrase: string } | undefined {
  if (typeof code !== 'string') return undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return { code: 'Unavailable', transient: true, phrase: 'connection refused' };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_SOCKET_CONNECTION_TIMEOUT':
      return { code: 'Unavailable', transient: true, phrase: 'connection reset' };
    case 'ETIMEDOUT':
    case 'ECONNABORTED':
    case 'ESOCKETTIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'RequestTimeout':
      return { code: 'Unavailable', transient: true, phrase: 'request timed out' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { code: 'Unavailable', transient: true, phrase: 'host name not resolved' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { code: 'Unavailable', transient: true, phrase: 'host unreachable' };
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return {
        code: 'Unavailable',
        transient: false,
        phrase: `TLS verification failed (${code}); check the address and tls.caFile / tls.caPem`,
      };
    default:
      return undefined;
  }
}

/** Parses a `Retry-After` header (seconds or HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: unknown, now: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' && typeof text !== 'number') return undefined;
  const s = String(text).trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const date = Date.parse(s);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
