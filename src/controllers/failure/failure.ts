// The one failure type the reconcilers report on their resources: a reason from the
// vocabulary (apis/v1alpha1/reasons.ts), a message users read, and how it is retried.
import { capMessage } from '../../kube/errors.ts';

/** Failures that need a user's fix (not found, denied, refused writes) are retried this often. */
export const USER_ERROR_RETRY_MS = 5 * 60_000;

/** Longest message a condition or an event carries (the apiserver's own messages are shorter). */
export const MAX_FAILURE_MESSAGE = 1024;

export interface FailureOptions {
  /** Clears up by itself: retried with the controller's per-key backoff. Default false. */
  transient?: boolean;
  /** The server said when to try again (Retry-After): a floor for the next attempt. */
  retryAfterMs?: number;
  /**
   * The backend's circuit is open (the breaker refused the call, or this failure opened it):
   * retried at `retryAfterMs`, when the breaker lets a trial call through; the resource's
   * backoff does not grow meanwhile (the outage is the backend's, not the resource's).
   */
  paused?: boolean;
}

/** A failure to show on the resource: `Ready=False` with `reason`, one Warning per change. */
export class Failure extends Error {
  override readonly name = 'Failure';
  readonly reason: string;
  readonly transient: boolean;
  readonly retryAfterMs: number | undefined;
  readonly paused: boolean;

  constructor(reason: string, message: string, options: FailureOptions = {}) {
    // Messages are ours or already cleaned at their boundary (backends, kube/errors, refusedWriteMessage).
    super(capMessage(message, MAX_FAILURE_MESSAGE));
    this.reason = reason;
    this.transient = options.transient ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.paused = options.paused ?? false;
  }
}
