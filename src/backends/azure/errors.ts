/**
 * Azure SDK failures → BackendError. A RestError can carry the request (with its
 * Authorization header) and the response; only the status, the service's error code, the
 * Retry-After header and the service's message (sanitised) are read. @azure/identity errors
 * get fixed phrases: their texts can quote token endpoints' answers.
 */
import { BackendError, type BackendErrorCode } from '../../resilience/errors.ts';
import { mapNetworkErrorCode, parseRetryAfter, sanitizeServerText } from '../errors.ts';

interface RestErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  details?: unknown;
  response?: { headers?: { get?: (name: string) => string | undefined }; bodyAsText?: unknown };
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
  'AuthenticationRequiredError',
]);

function innerCode(e: RestErrorShape): string | undefined {
  const body = typeof e.response?.bodyAsText === 'string' ? e.response.bodyAsText : undefined;
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { innererror?: { code?: unknown } } };
    const code = parsed.error?.innererror?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Maps anything a Key Vault call threw; `what` names the call, e.g. `read "team-a/db"`. */
export function mapAzureError(err: unknown, what: string, now = Date.now()): BackendError {
  if (err instanceof BackendError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as RestErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  if (CREDENTIAL_ERRORS.has(name)) {
    return new BackendError(
      'Unauthenticated',
      `azure ${what}: could not get a Microsoft Entra token (${name}); check the Workload Identity / managed identity set-up or the client secret`,
    );
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined) {
    const serviceCode = typeof e.code === 'string' ? sanitizeServerText(e.code, 60) : '';
    const text = sanitizeServerText(e.message, 200);
    const inner = innerCode(e);
    const label = serviceCode ? `${serviceCode}, HTTP ${status}` : `HTTP ${status}`;
    const say = (code: BackendErrorCode, phrase: string, showText: boolean, retryAfterMs?: number) =>
      new BackendError(
        code,
        `azure ${what}: ${showText && text ? `${phrase}: ${text}` : phrase} (${label})`,
        {
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        },
      );
    if (status === 403 && (inner === 'SecretDisabled' || /disabled secret/i.test(text))) {
      return say('NotFound', 'the secret version is disabled', false);
    }
    switch (status) {
      case 400:
        return say('InvalidRequest', 'bad request', true);
      case 401:
        return say('Unauthenticated', 'not authenticated', false);
      case 403:
        return say('PermissionDenied', 'forbidden; check the access policy or RBAC role on the vault', true);
      case 404:
        return say('NotFound', 'not found', false);
      case 409:
        return say('InvalidRequest', 'conflict', true);
      case 429:
        return say(
          'Throttled',
          'rate limit reached',
          false,
          parseRetryAfter(e.response?.headers?.get?.('retry-after'), now),
        );
      default:
        if (status >= 500) return say('Unavailable', 'server error', false);
        if (status >= 400) return say('InvalidRequest', 'request rejected', true);
    }
  }
  const message = typeof e.message === 'string' ? e.message : '';
  if (/challenge resource .* does not match the requested domain/.test(message)) {
    return new BackendError(
      'InvalidRequest',
      `azure ${what}: the vault's authentication challenge names another domain than vaultUrl; no token was sent (is vaultUrl a Key Vault address such as https://<name>.vault.azure.net?)`,
    );
  }
  const net = mapNetworkErrorCode(e.code);
  if (net) return new BackendError(net.code, `azure ${what}: ${net.phrase}`, { transient: net.transient });
  const kind = name || (err instanceof Error ? err.name : typeof err);
  return new BackendError('Unknown', `azure ${what}: unexpected ${kind.slice(0, 60)}`);
}
