/**
 * Google API (gRPC / google-gax) failures → BackendError. A GoogleError carries the gRPC
 * status code, `details` (the server's text) and decoded status details (RetryInfo,
 * ErrorInfo, ...); its metadata and the call's credentials are never read. Server texts are
 * sanitised and capped; errors of the credential plugin get a fixed phrase.
 */
import { BackendError, type BackendErrorCode } from '../../resilience/errors.ts';
import { mapNetworkErrorCode, sanitizeServerText } from '../errors.ts';

/** gRPC status codes (google.rpc.Code). */
export const GrpcCode = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const BY_CODE: Readonly<Record<number, { code: BackendErrorCode; phrase: string; text: boolean }>> = {
  [GrpcCode.INVALID_ARGUMENT]: { code: 'InvalidRequest', phrase: 'invalid argument', text: true },
  [GrpcCode.DEADLINE_EXCEEDED]: { code: 'Unavailable', phrase: 'deadline exceeded', text: false },
  [GrpcCode.NOT_FOUND]: { code: 'NotFound', phrase: 'not found', text: true },
  [GrpcCode.ALREADY_EXISTS]: { code: 'Conflict', phrase: 'already exists', text: false },
  [GrpcCode.PERMISSION_DENIED]: {
    code: 'PermissionDenied',
    phrase: 'permission denied; check the IAM roles of the service account',
    text: true,
  },
  [GrpcCode.RESOURCE_EXHAUSTED]: { code: 'Throttled', phrase: 'quota exhausted', text: false },
  [GrpcCode.FAILED_PRECONDITION]: { code: 'InvalidRequest', phrase: 'failed precondition', text: true },
  [GrpcCode.ABORTED]: { code: 'Unavailable', phrase: 'aborted; try again', text: false },
  [GrpcCode.OUT_OF_RANGE]: { code: 'InvalidRequest', phrase: 'out of range', text: true },
  [GrpcCode.UNIMPLEMENTED]: { code: 'InvalidRequest', phrase: 'not implemented by the server', text: false },
  [GrpcCode.INTERNAL]: { code: 'Unavailable', phrase: 'server error', text: false },
  [GrpcCode.UNAVAILABLE]: { code: 'Unavailable', phrase: 'service unavailable', text: false },
  [GrpcCode.DATA_LOSS]: { code: 'Unavailable', phrase: 'data loss reported by the server', text: false },
  [GrpcCode.UNAUTHENTICATED]: {
    code: 'Unauthenticated',
    phrase: 'not authenticated; check the credentials (ADC / Workload Identity or the key)',
    text: false,
  },
  [GrpcCode.UNKNOWN]: { code: 'Unknown', phrase: 'unknown error', text: false },
};

interface GoogleErrorShape {
  code?: unknown;
  details?: unknown;
  message?: unknown;
  name?: unknown;
  statusDetails?: unknown;
}

/** A decoded detail of google.rpc.Status as gax gives it (RetryInfo has `retryDelay`). */
function retryDelayMs(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    const delay = (d as { retryDelay?: { seconds?: unknown; nanos?: unknown } } | null)?.retryDelay;
    if (!delay) continue;
    const seconds = Number(delay.seconds ?? 0);
    const nanos = Number(delay.nanos ?? 0);
    if (Number.isFinite(seconds) && Number.isFinite(nanos)) return Math.round(seconds * 1000 + nanos / 1e6);
  }
  return undefined;
}

/** Maps anything a Secret Manager call threw; `what` names the call, e.g. `read "team-a/db"`. */
export function mapGcpError(err: unknown, what: string): BackendError {
  if (err instanceof BackendError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as GoogleErrorShape;
  const details = typeof e.details === 'string' ? e.details : '';
  // The credential plugin failed (no ADC, metadata server down, bad key): grpc-js reports it
  // as UNAVAILABLE with this prefix; it is a credentials problem, and its text may quote them.
  if (/Getting metadata from plugin failed/i.test(details) || /default credentials/i.test(details)) {
    return new BackendError(
      'Unauthenticated',
      `gcp ${what}: could not get Google credentials (Application Default Credentials / Workload Identity, or the service-account key)`,
    );
  }
  const code = typeof e.code === 'number' ? e.code : undefined;
  if (code === GrpcCode.FAILED_PRECONDITION && /DISABLED|DESTROYED/.test(details)) {
    const state = /DESTROYED/.test(details) ? 'destroyed' : 'disabled';
    return new BackendError('NotFound', `gcp ${what}: the version is ${state}`);
  }
  const known = code === undefined ? undefined : BY_CODE[code];
  if (known) {
    const text = known.text ? sanitizeServerText(details, 200) : '';
    const detail = text ? `${known.phrase}: ${text}` : known.phrase;
    const retryAfterMs = known.code === 'Throttled' ? retryDelayMs(e.statusDetails) : undefined;
    return new BackendError(known.code, `gcp ${what}: ${detail} (gRPC ${code})`, {
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  const net = mapNetworkErrorCode(e.code);
  if (net) return new BackendError(net.code, `gcp ${what}: ${net.phrase}`, { transient: net.transient });
  const kind = typeof e.name === 'string' ? e.name : err instanceof Error ? err.name : typeof err;
  return new BackendError('Unknown', `gcp ${what}: unexpected ${kind.slice(0, 60)}`);
}
