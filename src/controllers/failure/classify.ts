// What an error thrown inside a reconcile means for the resource. Pure: the reconcilers throw
// what they like (a Failure, a BackendError, a KubeError, a TemplateError) and this decides the
// reason, whether it clears up by itself, and whether it is not ours to show at all.
import { VaultSecretReason as R } from '../../apis/v1alpha1/index.ts';
import { BackendError, type BackendErrorCode } from '../../resilience/errors.ts';
import { isNotLeader } from '../../kube/fence.ts';
import { KubeError, isTransient } from '../../kube/errors.ts';
import { Failure } from './failure.ts';
import { refusedWrite, refusedWriteMessage } from './refused-write.ts';

/** Reasons of backend error codes; NotFound and Conflict are the caller's (KindReasons). */
const BY_BACKEND_CODE: Readonly<Record<Exclude<BackendErrorCode, 'NotFound' | 'Conflict'>, string>> = {
  PermissionDenied: R.PermissionDenied,
  Throttled: R.BackendThrottled,
  Unavailable: R.BackendUnavailable,
  CircuitOpen: R.BackendUnavailable,
  InvalidRequest: R.InvalidRequest,
  Unauthenticated: R.AuthenticationFailed,
  TenancyDenied: R.TenancyDenied,
  Unknown: R.BackendUnavailable,
};

/** What a backend's NotFound and Conflict mean for a kind. */
export interface KindReasons {
  /** A missing path (RemoteSecretNotFound), issuer (IssuerNotReady) or request (InvalidRequest). */
  notFound: string;
  /** A lost check-and-set: ConcurrentWrite where the kind writes with it; default InvalidRequest. */
  conflict?: string;
}

/** The reason of a backend error code for a kind. */
export function backendReason(code: BackendErrorCode, kind: KindReasons): string {
  if (code === 'NotFound') return kind.notFound;
  if (code === 'Conflict') return kind.conflict ?? R.InvalidRequest;
  return BY_BACKEND_CODE[code];
}

export interface ClassifyOptions extends KindReasons {
  /** Errors of the controller's own steps it knows how to show (a template, a generator). */
  known?: (err: unknown) => Failure | undefined;
  /**
   * An apiserver refusal (4xx) that no step turned into a Failure already: SecretWriteFailed with
   * its message (`write`, the default), or InternalError (`internal`: the Secret and status writes
   * are wrapped by the caller, so anything else refused is not the user's write).
   */
  refusals?: 'write' | 'internal';
}

/**
 * What to do with an error: show a Failure on the resource, or `rethrow` it — the controller
 * retries it with backoff (transient apiserver trouble) or stops (lost leadership, shutdown,
 * a terminal error). `unexpected` names an error of ours, for the operator log only.
 */
export type Classified = { rethrow: true } | { rethrow?: false; failure: Failure; unexpected?: string };

export function classify(err: unknown, aborted: boolean, options: ClassifyOptions): Classified {
  if (err instanceof Failure) return { failure: err };
  if (err instanceof BackendError) return { failure: fromBackendError(err, options) };
  const known = options.known?.(err);
  if (known) return { failure: known };
  if (aborted || isNotLeader(err) || isTransient(err) || (err as { terminal?: unknown })?.terminal === true)
    return { rethrow: true };
  const refused = refusedWrite(err);
  if (refused) return { failure: fromRefusal(refused, options.refusals ?? 'write') };
  if (err instanceof KubeError) return { failure: fromRefusal(err, 'internal') };
  const name = err instanceof Error ? err.name : typeof err;
  const message = `unexpected ${name} while reconciling; see the operator log`;
  return { failure: new Failure(R.InternalError, message), unexpected: name };
}

function fromBackendError(err: BackendError, kind: KindReasons): Failure {
  return new Failure(backendReason(err.code, kind), err.message, {
    transient: err.transient,
    ...(err.retryAfterMs !== undefined && { retryAfterMs: err.retryAfterMs }),
    // Our breaker is open (it refused the call, or this failure opened it): the backend is
    // out, not this resource; it retries when the breaker tries the backend again.
    ...(err.circuitOpen && { paused: true }),
  });
}

function fromRefusal(err: KubeError, as: 'write' | 'internal'): Failure {
  return as === 'write'
    ? new Failure(R.SecretWriteFailed, refusedWriteMessage('an object', err))
    : new Failure(R.InternalError, `the apiserver refused a request: ${err.message}`);
}
