// The one routine the reconcilers call to show a failure: record it in status (the reconciler
// says how), emit one Warning per change, and say how it is retried. It remembers, per key, the
// Warning it sent while the status could not record it, so a refused status write does not
// turn every retry into an event.
import type { Condition } from '../../kube/conditions.ts';
import { type Failure, USER_ERROR_RETRY_MS } from './failure.ts';
import { type Retry, retryOf, said, warningDue } from './outcome.ts';

/** What recording the failure in status came to. */
export type Recorded =
  | { stored: true }
  /** The apiserver refused the status: `note` (optional) is added to the Warning's message. */
  | { stored: false; note?: string };

export interface FailureReport {
  key: string;
  failure: Failure;
  /** The Ready condition the status showed before this failure. */
  previous: Condition | undefined;
  /** Writes the status with the failure in it (failedConditions()); throws what it cannot handle. */
  record(): Promise<Recorded>;
  warn(reason: string, message: string): Promise<void> | void;
}

export interface Reported {
  stored: boolean;
  retry: Retry;
}

export class FailureReporter {
  readonly userErrorRetryMs: number;
  /** Per key, the Warning last sent while the status could not record it. */
  readonly #unrecorded = new Map<string, string>();

  constructor(userErrorRetryMs: number = USER_ERROR_RETRY_MS) {
    this.userErrorRetryMs = userErrorRetryMs;
  }

  /** Records and announces the failure; settle(failure, reported.retry) ends the reconcile. */
  async report(r: FailureReport): Promise<Reported> {
    const recorded = await r.record();
    if (warningDue(r.previous, this.#unrecorded.get(r.key), r.failure)) {
      const note = recorded.stored ? undefined : recorded.note;
      await r.warn(
        r.failure.reason,
        note === undefined ? r.failure.message : `${r.failure.message}; ${note}`,
      );
    }
    if (recorded.stored) this.#unrecorded.delete(r.key);
    else this.#unrecorded.set(r.key, said(r.failure));
    return { stored: recorded.stored, retry: retryOf(r.failure, this.userErrorRetryMs) };
  }

  /** The resource was deleted, or the status now records what happened (a success). */
  forget(key: string): void {
    this.#unrecorded.delete(key);
  }
}
