// What an error in a SecretRotation reconcile means, through the shared failure path
// (controllers/failure): the rotation's own errors (a generator) and its backend reasons
// (NotFound is a bad request, a lost check-and-set ConcurrentWrite). Pure: steps/fail.ts records it.
import { SecretRotationReason } from '../../apis/v1alpha1/index.ts';
import { BackendError } from '../../resilience/errors.ts';
import { GeneratorError } from '../../secrets/generators.ts';
import { type Classified, Failure, classify } from '../failure/index.ts';
import { BACKEND_REASONS, KEEPS_PHASE } from './reasons.ts';

/** The status patch was refused (a 4xx): the failure cannot be recorded the usual way. */
export class StatusRefused extends Failure {}

/** Someone else wrote the path between our read and our check-and-set write. */
export const isConflict = (err: unknown): err is BackendError =>
  err instanceof BackendError && err.code === 'Conflict';

/** Shown, or thrown on (transient apiserver trouble, lost leadership, shutdown). */
export function classifyError(err: unknown, aborted: boolean): Classified {
  return classify(err, aborted, {
    ...BACKEND_REASONS,
    known: (e) =>
      e instanceof GeneratorError ? new Failure(SecretRotationReason.GeneratorFailed, e.message) : undefined,
  });
}

/**
 * A failure that fails the rotation (when it happens while writing): a user's fault with the
 * rotation itself. Transient ones are still in progress; one whose own status or spec is refused
 * keeps its phase and the version it wrote, so the retry adopts that version.
 */
export const failsRotation = (f: Failure): boolean => !f.transient && !KEEPS_PHASE.has(f.reason);
