// How a failure of a VaultCertificate reconcile is classified: the reason and message it shows,
// whether the apiserver refused a write for good, and when to try again. Pure.
import type { V1Secret } from '@kubernetes/client-node';
import { BackendError } from '../../backends/errors.ts';
import { KubeError, toKubeError } from '../../kube/errors.ts';
import { refusedWriteMessage } from '../vaultsecret/refused-write.ts';
import { Reason, reasonForBackendError } from './reasons.ts';

/** A failure to report on the resource. */
export class IssuanceFailure extends Error {
  readonly reason: string;
  readonly retryAfterMs: number | undefined;
  constructor(reason: string, message: string, retryAfterMs?: number) {
    super(message);
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A Kubernetes write (the Secret, the status, the finalizer) the apiserver refused with a 4xx
 * that retrying alone does not fix: Ready=False SecretWriteFailed with the apiserver's message
 * (kube/errors.ts keeps only its capped, printable text; no values), retried at the user-error
 * interval.
 */
export class WriteRefused extends IssuanceFailure {
  /** The status patch itself was refused: the failure cannot be recorded the usual way. */
  readonly status: boolean;
  constructor(what: string, err: KubeError, retryAfterMs: number, status = false, values?: Iterable<Buffer>) {
    // The message names fields, not values; anything being written is cut out all the same.
    super(Reason.SecretWriteFailed, refusedWriteMessage(what, err, values), retryAfterMs);
    this.status = status;
  }
}

/** The bytes of a Secret being applied: cut out of any refusal message. */
function valuesOf(secret: V1Secret): Buffer[] {
  return Object.values(secret.data ?? {}).map((v) => Buffer.from(v, 'base64'));
}

/** A 4xx other than throttling or a conflict: the request must change before it can succeed. */
export function refusal(err: unknown): KubeError | undefined {
  if (err instanceof IssuanceFailure) return undefined;
  const e = toKubeError(err);
  return e.status >= 400 && e.status < 500 && !e.transient ? e : undefined;
}

/** The apiserver's refusal of the Secret write `want`, its values cut out (undefined: not a refusal). */
export function secretWriteRefused(
  err: unknown,
  secretName: string,
  want: V1Secret,
  retryAfterMs: number,
): WriteRefused | undefined {
  const refused = refusal(err);
  return refused && new WriteRefused(`Secret ${secretName}`, refused, retryAfterMs, false, valuesOf(want));
}

/** An error of an issuance attempt as a failure to show; throws what is not ours to classify. */
export function toFailure(err: unknown): IssuanceFailure {
  if (err instanceof IssuanceFailure) return err;
  if (err instanceof BackendError)
    return new IssuanceFailure(reasonForBackendError(err.code), err.message, err.retryAfterMs);
  if (err instanceof KubeError)
    return new IssuanceFailure(Reason.SecretWriteFailed, err.message, err.retryAfterMs);
  throw err; // not ours to classify: the controller retries it with its own backoff
}

/** Reason and message of a failure that escaped the steps: a refused write, or a bug of ours. */
export type EscapedFailure =
  | { reason: string; message: string; unexpected?: undefined }
  | { reason: string; message: string; unexpected: string };

export function escapedFailure(err: unknown): EscapedFailure {
  if (err instanceof IssuanceFailure) return { reason: err.reason, message: err.message };
  const refused = refusal(err);
  if (refused)
    return { reason: Reason.SecretWriteFailed, message: refusedWriteMessage('an object', refused) };
  const name = err instanceof Error ? err.name : typeof err;
  return {
    reason: Reason.InternalError,
    message: `unexpected ${name} while reconciling; see the operator log`,
    unexpected: name,
  };
}
