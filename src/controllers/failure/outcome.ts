// The pure decisions of the failure path: the Ready=False condition, whether a Warning is due
// (one per change of reason or message, not one per attempt), and how the failure is retried.
import { type Condition, setCondition } from '../../kube/conditions.ts';
import { RetryAfterError, type ReconcileResult } from '../../kube/controller.ts';
import type { Failure } from './failure.ts';

/** The conditions with `Ready=False` for the failure (lastTransitionTime kept while it stays False). */
export function failedConditions(
  conditions: readonly Condition[] | undefined,
  failure: Failure,
  generation: number | undefined,
  now: number,
): Condition[] {
  return setCondition(
    conditions,
    {
      type: 'Ready',
      status: 'False',
      reason: failure.reason,
      message: failure.message,
      observedGeneration: generation,
    },
    now,
  );
}

/** What a Warning said, as this replica remembers it while the status cannot record it. */
export const said = (failure: Failure): string => `${failure.reason}\n${failure.message}`;

/**
 * A Warning is due unless the status already shows this failure (`previous`, the Ready condition
 * stored before) or this replica said it last while the status could not record it (`lastSaid`).
 */
export function warningDue(
  previous: Condition | undefined,
  lastSaid: string | undefined,
  failure: Failure,
): boolean {
  const shown =
    previous?.status === 'False' &&
    previous.reason === failure.reason &&
    previous.message === failure.message;
  return !shown && lastSaid !== said(failure);
}

/**
 * How a failure is tried again: when the open circuit lets a trial call through (`wait`: the
 * breaker paces the backend, so the per-key backoff does not grow — after an outage every resource
 * is back at the first successful probe, not at its own capped backoff), after the server's
 * Retry-After, with the controller's per-key backoff (transient), or after the user-error
 * interval (it needs a person's fix).
 */
export type Retry =
  | { kind: 'wait'; ms: number }
  | { kind: 'retryAfter'; ms: number }
  | { kind: 'backoff' }
  | { kind: 'userError'; ms: number };

/** A paused failure that does not say until when (the breaker always does): look again soon. */
export const PAUSED_RETRY_MS = 1000;

export function retryOf(failure: Failure, userErrorRetryMs: number): Retry {
  if (failure.paused) return { kind: 'wait', ms: failure.retryAfterMs ?? PAUSED_RETRY_MS };
  if (failure.retryAfterMs !== undefined) return { kind: 'retryAfter', ms: failure.retryAfterMs };
  if (failure.transient) return { kind: 'backoff' };
  return { kind: 'userError', ms: userErrorRetryMs };
}

/** The reconcile's end for a retry: thrown to the controller (backoff or a wait), or a requeue. */
export function settle(failure: Failure, retry: Retry): ReconcileResult {
  if (retry.kind === 'wait') throw new RetryAfterError(failure.message, retry.ms, { countsAsFailure: false });
  if (retry.kind === 'retryAfter') throw new RetryAfterError(failure.message, retry.ms);
  if (retry.kind === 'backoff') throw failure;
  return { requeueAfter: retry.ms };
}
