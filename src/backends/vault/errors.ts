/**
 * node-vault / HTTP failures → BackendError. What node-vault throws can carry the axios
 * request config (with the `X-Vault-Token` header), the request body and the raw response;
 * none of it is kept: the status code, Vault's `errors[]` texts (sanitised, capped) and a
 * network error code are all that is read. Never pass the original as `cause`.
 */
import { BackendError, type BackendErrorCode } from '../../resilience/errors.ts';
import { mapNetworkErrorCode, parseRetryAfter, sanitizeServerText } from '../errors.ts';

/** What the failed call was, for the message: e.g. `read "shop/db"`. */
export interface VaultCallInfo {
  readonly what: string;
  readonly now?: number;
}

interface ResponseShape {
  status: number;
  body: unknown;
  headers: Record<string, unknown>;
}

/** Status and body of an HTTP answer, from node-vault's ApiResponseError or an axios error. */
function responseOf(err: unknown): ResponseShape | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const res = (err as { response?: unknown }).response;
  if (typeof res !== 'object' || res === null) return undefined;
  const r = res as {
    statusCode?: unknown;
    status?: unknown;
    body?: unknown;
    data?: unknown;
    headers?: unknown;
  };
  const status =
    typeof r.statusCode === 'number' ? r.statusCode : typeof r.status === 'number' ? r.status : undefined;
  if (status === undefined) return undefined;
  const headers =
    typeof r.headers === 'object' && r.headers !== null ? (r.headers as Record<string, unknown>) : {};
  return { status, body: r.body ?? r.data, headers };
}

/** Vault's `errors[]` (at most three, sanitised), joined. */
export function vaultErrorTexts(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors)) return '';
  return errors
    .slice(0, 3)
    .map((e) => sanitizeServerText(e, 160))
    .filter((e) => e !== '')
    .join('; ');
}

function statusCode(status: number): { code: BackendErrorCode; transient: boolean; hint: string } {
  switch (status) {
    case 400:
      return { code: 'InvalidRequest', transient: false, hint: 'invalid request' };
    case 401:
      return { code: 'Unauthenticated', transient: false, hint: 'not authenticated' };
    case 403:
      return {
        code: 'PermissionDenied',
        transient: false,
        hint: 'permission denied; check the Vault policy',
      };
    case 404:
      return { code: 'NotFound', transient: false, hint: 'not found' };
    case 405:
      return {
        code: 'InvalidRequest',
        transient: false,
        hint: 'unsupported operation; is the mount KV version 2?',
      };
    case 412:
      return { code: 'Unavailable', transient: true, hint: 'replication not caught up' };
    case 429:
      return { code: 'Throttled', transient: true, hint: 'rate limit reached' };
    case 472:
    case 473:
      return { code: 'Unavailable', transient: true, hint: 'standby node cannot answer' };
    case 501:
      return { code: 'Unavailable', transient: true, hint: 'not initialized' };
    case 503:
      return { code: 'Unavailable', transient: true, hint: 'sealed or unavailable' };
    default:
      if (status >= 500) return { code: 'Unavailable', transient: true, hint: 'server error' };
      if (status >= 400) return { code: 'InvalidRequest', transient: false, hint: 'request rejected' };
      return { code: 'Unknown', transient: true, hint: 'unexpected answer' };
  }
}

/** KV v2 answers a `cas` that is not the current version with a 400 and this text. */
function casMismatch(status: number, texts: string): ReturnType<typeof statusCode> | undefined {
  if (status !== 400 || !/check-and-set parameter did not match/i.test(texts)) return undefined;
  return { code: 'Conflict', transient: true, hint: 'check-and-set mismatch' };
}

/** Maps anything a Vault call threw. BackendErrors (from our transport) pass through unchanged. */
export function mapVaultError(err: unknown, info: VaultCallInfo): BackendError {
  if (err instanceof BackendError) return err;
  const res = responseOf(err);
  if (res) {
    const texts = vaultErrorTexts(res.body);
    const { code, transient, hint } = casMismatch(res.status, texts) ?? statusCode(res.status);
    let detail = texts || hint;
    if (res.status === 404) detail = deletedVersionText(res.body) ?? 'not found';
    const retryAfterMs =
      code === 'Throttled' ? parseRetryAfter(res.headers['retry-after'], info.now ?? Date.now()) : undefined;
    return new BackendError(code, `vault ${info.what}: ${detail} (HTTP ${res.status})`, {
      transient,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const net = mapNetworkErrorCode(e?.code) ?? mapNetworkErrorCode(e?.cause?.code);
  if (net)
    return new BackendError(net.code, `vault ${info.what}: ${net.phrase}`, { transient: net.transient });
  const kind = err instanceof Error ? err.name : typeof err;
  return new BackendError('Unknown', `vault ${info.what}: unexpected ${kind}`);
}

/** KV v2 answers 404 with metadata for a deleted or destroyed version. */
function deletedVersionText(body: unknown): string | undefined {
  const meta = (
    body as { data?: { metadata?: { deletion_time?: unknown; destroyed?: unknown; version?: unknown } } }
  )?.data?.metadata;
  if (!meta) return undefined;
  const v = typeof meta.version === 'number' ? ` ${meta.version}` : '';
  if (meta.destroyed === true) return `version${v} was destroyed`;
  if (typeof meta.deletion_time === 'string' && meta.deletion_time !== '') return `version${v} was deleted`;
  return undefined;
}
