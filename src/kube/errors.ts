// One error type for everything the Kubernetes API (or the network to it) throws at us.
//
// client-node's ApiException.message embeds the raw response body and headers, and network
// errors can carry request options (headers, including the bearer token). Nothing here ever
// copies them: a KubeError is built only from the HTTP status, the Status object's `reason`,
// `code`, `details` (kind/name/causes' field and reason) and a length-capped `message`, plus
// the Retry-After header value.
import { ApiException } from '@kubernetes/client-node';
import { cut, printable } from '../text.ts';

export type KubeErrorCode =
  | 'NotFound'
  | 'Conflict'
  | 'Forbidden'
  | 'Unauthorized'
  | 'Invalid'
  | 'AlreadyExists'
  | 'Gone'
  | 'TooManyRequests'
  | 'Timeout'
  | 'Unavailable'
  | 'Unknown';

export interface KubeErrorDetails {
  kind?: string;
  name?: string;
  group?: string;
  /** Field paths and reasons of validation causes; their messages are left out (they can echo values). */
  causes?: { field?: string; reason?: string }[];
}

export interface KubeErrorInit {
  code: KubeErrorCode;
  /** HTTP status; 0 when no response was received. */
  status: number;
  reason?: string;
  message: string;
  retryAfterMs?: number;
  details?: KubeErrorDetails;
}

/** Max length of the API server's message we keep (it may quote the object it rejected). */
export const MAX_MESSAGE_LENGTH = 300;

export class KubeError extends Error {
  override readonly name = 'KubeError';
  readonly code: KubeErrorCode;
  readonly status: number;
  readonly reason: string;
  readonly retryAfterMs: number | undefined;
  readonly details: KubeErrorDetails | undefined;
  /** Worth retrying with backoff (as opposed to a fault that needs a change first). */
  readonly transient: boolean;

  constructor(init: KubeErrorInit) {
    super(init.message);
    this.code = init.code;
    this.status = init.status;
    this.reason = init.reason ?? '';
    this.retryAfterMs = init.retryAfterMs;
    this.details = init.details;
    this.transient = isTransientCode(init.code, init.status);
  }

  toJSON() {
    return {
      name: this.name,
      code: this.code,
      status: this.status,
      reason: this.reason,
      message: this.message,
      retryAfterMs: this.retryAfterMs,
      transient: this.transient,
    };
  }
}

const TRANSIENT_CODES: ReadonlySet<KubeErrorCode> = new Set([
  'Conflict',
  'Gone',
  'TooManyRequests',
  'Timeout',
  'Unavailable',
]);

/** Conflicts, throttling, timeouts and 5xx clear up by themselves; the rest need a change. */
export function isTransientCode(code: KubeErrorCode, status: number): boolean {
  return TRANSIENT_CODES.has(code) || status >= 500;
}

/** Maps an HTTP status and Status `reason` to our code (reason first: 409 can be AlreadyExists). */
export function codeFor(status: number, reason?: string): KubeErrorCode {
  switch (reason) {
    case 'NotFound':
      return 'NotFound';
    case 'AlreadyExists':
      return 'AlreadyExists';
    case 'Conflict':
      return 'Conflict';
    case 'Forbidden':
      return 'Forbidden';
    case 'Unauthorized':
      return 'Unauthorized';
    case 'Invalid':
    case 'BadRequest':
      return 'Invalid';
    case 'Gone':
    case 'Expired':
      return 'Gone';
    case 'TooManyRequests':
      return 'TooManyRequests';
    case 'Timeout':
    case 'ServerTimeout':
      return 'Timeout';
    case 'ServiceUnavailable':
      return 'Unavailable';
  }
  switch (status) {
    case 400:
    case 422:
      return 'Invalid';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 410:
      return 'Gone';
    case 429:
      return 'TooManyRequests';
    case 408:
    case 504:
      return 'Timeout';
    case 502:
    case 503:
      return 'Unavailable';
  }
  return 'Unknown';
}

/** Keeps printable text only, capped, so a message cannot smuggle a body or flood a log. */
export function capMessage(text: string, max = MAX_MESSAGE_LENGTH): string {
  // `max` characters of the text, then the ellipsis.
  return cut(printable(text), max + 1);
}

/** Retry-After as delay-seconds (the API server's form) or an HTTP date. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

interface StatusLike {
  kind?: unknown;
  reason?: unknown;
  message?: unknown;
  code?: unknown;
  details?: {
    kind?: unknown;
    name?: unknown;
    group?: unknown;
    retryAfterSeconds?: unknown;
    causes?: { field?: unknown; reason?: unknown }[];
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function asStatus(body: unknown): StatusLike | undefined {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    try {
      return asStatus(JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')));
    } catch {
      return undefined;
    }
  }
  if (body && typeof body === 'object' && !Array.isArray(body)) return body as StatusLike;
  return undefined;
}

/** Builds a KubeError from an HTTP response: status, body (Status JSON, any form), headers. */
export function fromResponse(status: number, body: unknown, headers?: Record<string, unknown>): KubeError {
  const st = asStatus(body);
  const reason = str(st?.reason);
  const code = codeFor(status, reason);
  const apiMessage = str(st?.message);
  const retryHeader = headers ? headerValue(headers, 'retry-after') : undefined;
  const retrySeconds = st?.details?.retryAfterSeconds;
  const retryAfterMs =
    parseRetryAfter(retryHeader) ?? (typeof retrySeconds === 'number' ? retrySeconds * 1000 : undefined);
  const causes = Array.isArray(st?.details?.causes)
    ? st.details.causes.map((c) => ({ field: str(c?.field), reason: str(c?.reason) }))
    : undefined;
  const details: KubeErrorDetails | undefined = st?.details
    ? { kind: str(st.details.kind), name: str(st.details.name), group: str(st.details.group), causes }
    : undefined;
  const message = `${reason ?? code} (HTTP ${status})${apiMessage ? `: ${capMessage(apiMessage)}` : ''}`;
  return new KubeError({ code, status, reason, message, retryAfterMs, details });
}

/** Builds a KubeError from a Status object (a watch ERROR event, a failed list). */
export function fromStatus(status: unknown): KubeError {
  const st = asStatus(status);
  const code = typeof st?.code === 'number' ? st.code : 0;
  return fromResponse(code, st);
}

function headerValue(headers: Record<string, unknown>, name: string): unknown {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

const TIMEOUT_NET_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const UNAVAILABLE_NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** The first string `code` along the `cause` chain (undici hides the socket error in `cause`). */
function networkCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function errorName(err: unknown): string {
  const name = err && typeof err === 'object' ? (err as { name?: unknown }).name : undefined;
  return typeof name === 'string' && /^[A-Za-z][\w.]{0,63}$/.test(name) ? name : typeof err;
}

/**
 * Maps anything thrown by a Kubernetes call to a KubeError. Unknown errors keep only their
 * name and, for network failures, the system error code: their messages may quote a URL,
 * a body or a header.
 */
export function toKubeError(err: unknown): KubeError {
  if (err instanceof KubeError) return err;
  if (err instanceof ApiException || isApiExceptionLike(err)) {
    const e = err as { code: number; body: unknown; headers?: Record<string, unknown> };
    return fromResponse(e.code, e.body, e.headers);
  }
  if (err && typeof err === 'object') {
    // client-node's Watch rejects with Error(statusText) carrying statusCode.
    const statusCode = (err as { statusCode?: unknown }).statusCode;
    if (typeof statusCode === 'number') return fromResponse(statusCode, undefined);
    const name = errorName(err);
    if (name === 'TimeoutError') {
      return new KubeError({
        code: 'Timeout',
        status: 0,
        reason: 'Timeout',
        message: 'Timeout: request timed out',
      });
    }
    if (name === 'AbortError') {
      return new KubeError({
        code: 'Timeout',
        status: 0,
        reason: 'Aborted',
        message: 'Timeout: request aborted',
      });
    }
    const net = networkCode(err);
    if (net && TIMEOUT_NET_CODES.has(net)) {
      return new KubeError({
        code: 'Timeout',
        status: 0,
        reason: net,
        message: `Timeout: network error ${net}`,
      });
    }
    if (net && (UNAVAILABLE_NET_CODES.has(net) || net.startsWith('UND_ERR'))) {
      return new KubeError({
        code: 'Unavailable',
        status: 0,
        reason: net,
        message: `Unavailable: network error ${net}`,
      });
    }
    if (name === 'TypeError' && (err as { message?: unknown }).message === 'fetch failed') {
      return new KubeError({
        code: 'Unavailable',
        status: 0,
        reason: 'FetchFailed',
        message: 'Unavailable: fetch failed',
      });
    }
    return new KubeError({
      code: 'Unknown',
      status: 0,
      reason: net ?? name,
      message: `Unknown: unexpected ${name}${net ? ` (${net})` : ''}`,
    });
  }
  return new KubeError({ code: 'Unknown', status: 0, message: `Unknown: unexpected ${errorName(err)}` });
}

function isApiExceptionLike(err: unknown): boolean {
  return (
    !!err &&
    typeof err === 'object' &&
    typeof (err as { code?: unknown }).code === 'number' &&
    'body' in err &&
    'headers' in err
  );
}

const hasCode = (code: KubeErrorCode) => (err: unknown) => toKubeError(err).code === code;

export const isNotFound = hasCode('NotFound');
export const isConflict = hasCode('Conflict');
export const isAlreadyExists = hasCode('AlreadyExists');
export const isForbidden = hasCode('Forbidden');
export const isUnauthorized = hasCode('Unauthorized');
export const isInvalid = hasCode('Invalid');
export const isGone = hasCode('Gone');
export const isTooManyRequests = hasCode('TooManyRequests');
export const isTimeout = hasCode('Timeout');
export const isUnavailable = hasCode('Unavailable');
export const isTransient = (err: unknown): boolean => toKubeError(err).transient;
