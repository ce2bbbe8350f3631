// What went wrong in a SecretRotation reconcile, as a reason users see and how it is retried.
// Pure: steps/fail.ts records it.
import { BackendError } from '../../backends/errors.ts';
import { toKubeError } from '../../kube/errors.ts';
import { GeneratorError } from '../../secrets/generators.ts';
import { refusedWriteMessage } from '../vaultsecret/refused-write.ts';
import { KEEPS_PHASE, Reason, reasonForBackendError } from './reasons.ts';

export class RotationFailure extends Error {
  readonly reason: Reason;
  readonly transient: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(reason: Reason, message: string, transient: boolean, retryAfterMs?: number) {
    super(message);
    this.reason = reason;
    this.transient = transient;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The status patch was refused (a 4xx): the failure cannot be recorded the usual way. */
export class StatusRefused extends RotationFailure {}

/** A 4xx other than throttling or a conflict: the request must change before it can succeed. */
export function refusal(err: unknown) {
  if (err instanceof RotationFailure || err instanceof BackendError || err instanceof GeneratorError)
    return undefined;
  const e = toKubeError(err);
  return e.status >= 400 && e.status < 500 && !e.transient ? e : undefined;
}

/** Someone else wrote the path between our read and our check-and-set write. */
export const isConflict = (err: unknown): err is BackendError =>
  err instanceof BackendError && err.code === 'Conflict';

/**
 * The failure to show for `err`. Transient trouble with the apiserver is thrown again: the
 * controller retries it with backoff.
 */
export function toFailure(err: unknown): RotationFailure {
  if (err instanceof RotationFailure) return err;
  if (err instanceof BackendError) {
    // A check-and-set conflict is ConcurrentWrite (reasons.ts), transient: read again, write again.
    return new RotationFailure(reasonForBackendError(err.code), err.message, err.transient, err.retryAfterMs);
  }
  if (err instanceof GeneratorError) return new RotationFailure(Reason.GeneratorFailed, err.message, false);
  const refused = refusal(err);
  if (refused)
    return new RotationFailure(Reason.SecretWriteFailed, refusedWriteMessage('an object', refused), false);
  if (toKubeError(err).transient) throw err;
  const name = err instanceof Error ? err.name : typeof err;
  return new RotationFailure(
    Reason.InternalError,
    `unexpected ${name} while reconciling; see the operator log`,
    false,
  );
}

/**
 * A failure that fails the rotation (when it happens while writing): a user's fault with the
 * rotation itself. Transient ones are still in progress; one whose own status or spec is refused
 * keeps its phase and the version it wrote, so the retry adopts that version.
 */
export const failsRotation = (f: RotationFailure): boolean => !f.transient && !KEEPS_PHASE.has(f.reason);
