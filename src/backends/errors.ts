/**
 * What backend adapters build their errors with: sanitising server texts, network error codes,
 * Retry-After. The error type itself lives in the resilience room (both backends and issuers
 * fail with it): import it from resilience/errors.ts.
 */
import type { BackendErrorCode } from '../resilience/errors.ts';
import { cut, printable } from '../text.ts';

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
  let out = printable(text);
  for (const re of CREDENTIAL_PATTERNS) out = out.replace(re, '[REDACTED]');
  out = out.replace(/\s+/g, ' ');
  return cut(out, maxLength);
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
