// What the VaultCertificate steps add to the shared failure path (controllers/failure): a write
// the apiserver refused for good, which says whether it was the status itself, and how an error
// of an issuance attempt becomes the Failure shown in Issuing (a backend error by its code, any
// apiserver error as SecretWriteFailed; both backed off in status, never rethrown). Pure.
import { VaultCertificateReason } from '../../apis/v1alpha1/index.ts';
import type { V1Secret } from '@kubernetes/client-node';
import { BackendError } from '../../resilience/errors.ts';
import { KubeError } from '../../kube/errors.ts';
import { Failure, refusedWrite, refusedWriteMessage } from '../failure/index.ts';
import { reasonForBackendError } from './reasons.ts';

/**
 * A Kubernetes write (the Secret, the status, the finalizer) the apiserver refused with a 4xx
 * that retrying alone does not fix: Ready=False SecretWriteFailed with the apiserver's message
 * (kube/errors.ts keeps only its capped, printable text; no values), retried at the user-error
 * interval.
 */
export class WriteRefused extends Failure {
  /** The status patch itself was refused: the failure cannot be recorded the usual way. */
  readonly status: boolean;
  constructor(what: string, err: KubeError, retryAfterMs: number, status = false, values?: Iterable<Buffer>) {
    // The message names fields, not values; anything being written is cut out all the same.
    super(VaultCertificateReason.SecretWriteFailed, refusedWriteMessage(what, err, values), { retryAfterMs });
    this.status = status;
  }
}

/**
 * Runs a Kubernetes write of the resource itself (its status, its finalizer): the apiserver's
 * refusal for good becomes a WriteRefused naming `what`; anything else is thrown as it is.
 */
export async function refusedAs<T>(
  write: () => Promise<T>,
  what: string,
  retryAfterMs: number,
  status = false,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const refused = refusedWrite(err);
    if (!refused) throw err;
    throw new WriteRefused(what, refused, retryAfterMs, status);
  }
}

/** The bytes of a Secret being applied: cut out of any refusal message. */
function valuesOf(secret: V1Secret): Buffer[] {
  return Object.values(secret.data ?? {}).map((v) => Buffer.from(v, 'base64'));
}

/** The apiserver's refusal of the Secret write `want`, its values cut out (undefined: not a refusal). */
export function secretWriteRefused(
  err: unknown,
  secretName: string,
  want: V1Secret,
  retryAfterMs: number,
): WriteRefused | undefined {
  const refused = refusedWrite(err);
  return refused && new WriteRefused(`Secret ${secretName}`, refused, retryAfterMs, false, valuesOf(want));
}

/** An error of an issuance attempt as the failure to show; throws what is not ours to classify. */
export function issuanceFailure(err: unknown): Failure {
  if (err instanceof Failure) return err;
  const options = (e: { retryAfterMs?: number | undefined }) =>
    e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs };
  if (err instanceof BackendError)
    return new Failure(reasonForBackendError(err.code), err.message, options(err));
  if (err instanceof KubeError)
    return new Failure(VaultCertificateReason.SecretWriteFailed, err.message, options(err));
  throw err; // not ours to classify: the controller retries it with its own backoff
}
