/**
 * AWS SDK v3 failures → BackendError. What the SDK throws can carry the request, the signed
 * headers and (for signature errors) the canonical request and string to sign; none of it is
 * kept: only the exception's name, the HTTP status, a network error code and, for the names
 * whose texts help (access denied, invalid parameter), the server message, sanitised.
 */
import { BackendError, type BackendErrorCode } from '../../resilience/errors.ts';
import { mapNetworkErrorCode, parseRetryAfter, sanitizeServerText } from '../errors.ts';

interface AwsErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: { code?: unknown };
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $response?: { headers?: Record<string, unknown> };
}

/** Exception names → code, whether the server text may be shown, and our phrase. */
const BY_NAME: Readonly<Record<string, { code: BackendErrorCode; text: boolean; phrase: string }>> = {
  ResourceNotFoundException: { code: 'NotFound', text: false, phrase: 'not found' },
  AccessDeniedException: {
    code: 'PermissionDenied',
    text: true,
    phrase: 'access denied; check the IAM policy',
  },
  AccessDenied: { code: 'PermissionDenied', text: true, phrase: 'access denied; check the IAM policy' },
  DecryptionFailure: {
    code: 'PermissionDenied',
    text: false,
    phrase: 'the secret cannot be decrypted; check kms:Decrypt on its KMS key',
  },
  EncryptionFailure: {
    code: 'PermissionDenied',
    text: false,
    phrase: 'the secret cannot be encrypted; check kms:GenerateDataKey on its KMS key',
  },
  UnrecognizedClientException: {
    code: 'Unauthenticated',
    text: false,
    phrase: 'the access key is not valid',
  },
  InvalidClientTokenId: { code: 'Unauthenticated', text: false, phrase: 'the access key is not valid' },
  InvalidSignatureException: {
    code: 'Unauthenticated',
    text: false,
    phrase: 'request signature rejected; check the secret access key',
  },
  SignatureDoesNotMatch: {
    code: 'Unauthenticated',
    text: false,
    phrase: 'request signature rejected; check the secret access key',
  },
  IncompleteSignature: { code: 'Unauthenticated', text: false, phrase: 'request signature rejected' },
  MissingAuthenticationToken: { code: 'Unauthenticated', text: false, phrase: 'no credentials sent' },
  ExpiredTokenException: { code: 'Unauthenticated', text: false, phrase: 'the session token has expired' },
  ExpiredToken: { code: 'Unauthenticated', text: false, phrase: 'the session token has expired' },
  RequestExpired: {
    code: 'Unauthenticated',
    text: false,
    phrase: 'request expired; check the clock of the node',
  },
  CredentialsProviderError: {
    code: 'Unauthenticated',
    text: false,
    phrase:
      'no AWS credentials found (IRSA / Pod Identity environment, instance profile) and no auth.static configured',
  },
  ThrottlingException: { code: 'Throttled', text: false, phrase: 'rate limit reached' },
  Throttling: { code: 'Throttled', text: false, phrase: 'rate limit reached' },
  TooManyRequestsException: { code: 'Throttled', text: false, phrase: 'rate limit reached' },
  RequestLimitExceeded: { code: 'Throttled', text: false, phrase: 'rate limit reached' },
  InternalServiceError: { code: 'Unavailable', text: false, phrase: 'server error' },
  InternalFailure: { code: 'Unavailable', text: false, phrase: 'server error' },
  ServiceUnavailable: { code: 'Unavailable', text: false, phrase: 'service unavailable' },
  InvalidParameterException: { code: 'InvalidRequest', text: true, phrase: 'invalid parameter' },
  InvalidRequestException: { code: 'InvalidRequest', text: true, phrase: 'invalid request' },
  ValidationException: { code: 'InvalidRequest', text: true, phrase: 'invalid request' },
  ResourceExistsException: { code: 'Conflict', text: false, phrase: 'the secret already exists' },
  LimitExceededException: {
    code: 'InvalidRequest',
    text: true,
    phrase: 'a Secrets Manager quota is exhausted',
  },
  PreconditionNotMetException: { code: 'InvalidRequest', text: true, phrase: 'precondition not met' },
};

/** Maps anything an AWS call threw; `what` names the call, e.g. `read "team-a/db"`. */
export function mapAwsError(err: unknown, what: string, now = Date.now()): BackendError {
  if (err instanceof BackendError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as AwsErrorShape;
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  // An error body the SDK could not parse (an answer from a proxy or an emulator) may still
  // name the exception in its x-amzn-errortype header; its text is not known then.
  const parsedName = typeof e.name === 'string' ? e.name : '';
  const headerName = Object.hasOwn(BY_NAME, parsedName) ? undefined : errorTypeHeader(e);
  const name = headerName ?? parsedName;
  const known = Object.hasOwn(BY_NAME, name) ? BY_NAME[name] : undefined;
  if (known) {
    let { code, phrase } = known;
    const text = known.text && headerName === undefined ? sanitizeServerText(e.message) : '';
    // A secret scheduled for deletion answers InvalidRequestException: to a reader it is gone.
    if (name === 'InvalidRequestException' && /marked (for )?delet|scheduled for deletion/i.test(text)) {
      code = 'NotFound';
      phrase = 'the secret is scheduled for deletion';
      return build(code, `aws ${what}: ${phrase}${suffix(status)}`, e, now);
    }
    const detail = text && text !== phrase ? `${phrase}: ${text}` : phrase;
    return build(code, `aws ${what}: ${detail}${suffix(status)}`, e, now);
  }
  if (status !== undefined) {
    if (status === 429) return build('Throttled', `aws ${what}: rate limit reached (HTTP 429)`, e, now);
    if (status >= 500) return build('Unavailable', `aws ${what}: server error (HTTP ${status})`, e, now);
    if (status === 403) {
      return build('PermissionDenied', `aws ${what}: access denied (HTTP 403)`, e, now);
    }
    if (status >= 400)
      return build('InvalidRequest', `aws ${what}: request rejected (HTTP ${status})`, e, now);
  }
  const net = mapNetworkErrorCode(e.code) ?? mapNetworkErrorCode(e.cause?.code);
  if (net) return new BackendError(net.code, `aws ${what}: ${net.phrase}`, { transient: net.transient });
  if (name === 'TimeoutError') return new BackendError('Unavailable', `aws ${what}: request timed out`);
  const kind = name || (err instanceof Error ? err.name : typeof err);
  return new BackendError('Unknown', `aws ${what}: unexpected ${kind.slice(0, 60)}`);
}

/** `x-amzn-errortype: AccessDenied:http://...` → `AccessDenied`. */
function errorTypeHeader(e: AwsErrorShape): string | undefined {
  const headers = e.$response?.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'x-amzn-errortype');
  const value = key === undefined ? undefined : headers[key];
  const name = typeof value === 'string' ? value.split(':')[0]?.trim() : undefined;
  return name && /^[A-Za-z][A-Za-z0-9]{0,80}$/.test(name) ? name : undefined;
}

function build(code: BackendErrorCode, message: string, e: AwsErrorShape, now: number): BackendError {
  const retryAfterMs =
    code === 'Throttled' ? parseRetryAfter(e.$response?.headers?.['retry-after'], now) : undefined;
  return new BackendError(code, message, retryAfterMs === undefined ? {} : { retryAfterMs });
}

function suffix(status: number | undefined): string {
  return status === undefined ? '' : ` (HTTP ${status})`;
}
