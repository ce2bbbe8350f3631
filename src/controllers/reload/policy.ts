// Restart policy: when a workload that is owed a restart gets it. An ordered table of small named
// checks (RESTART_CHECKS) — the one place to change to add a restart policy — and which settings
// apply (a SecretRotation's, or the defaults with the workload's annotations). Pure.
import { UserAnnotation, parseDuration } from '../../apis/v1alpha1/index.ts';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from '../shared/restart-policy.ts';
import type { PendingRestart } from './annotations.ts';
import { windowState } from './windows.ts';

/** A debounced burst still restarts after this many debounce periods from its first change. */
export const MAX_DEBOUNCE_FACTOR = 5;

/**
 * The policy for restarts asked for by a Secret change (no SecretRotation): defaults, with
 * debounce and minimum interval overridable by the workload's annotations.
 */
export function workloadRestartPolicy(
  annotations: Record<string, string> | undefined,
  base: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartPolicy {
  const duration = (name: string, fallback: number) => {
    const v = annotations?.[name];
    if (v === undefined) return fallback;
    try {
      return parseDuration(v.trim());
    } catch {
      return fallback;
    }
  };
  return {
    ...base,
    debounceMs: duration(UserAnnotation.ReloadDebounce, base.debounceMs),
    minIntervalMs: duration(UserAnnotation.ReloadMinInterval, base.minIntervalMs),
  };
}

export interface RestartInput {
  pending: PendingRestart;
  policy: RestartPolicy;
  now: number;
  /** The pods already run with every pending digest (template or pod annotation). */
  alreadyApplied: boolean;
  paused: boolean;
  /** When vaultsync last restarted this workload (epoch ms), if ever. */
  lastRestartAt?: number;
  /** Workloads of the pending restart's group rolling right now (this one excluded). */
  rollingInGroup: number;
}

export type RestartDecision =
  | { action: 'restart' }
  | { action: 'drop'; reason: 'AlreadyRolledOut' | 'Paused'; message: string }
  | {
      action: 'wait';
      afterMs: number;
      reason: 'Debounce' | 'MinInterval' | 'Window' | 'Concurrency';
      message: string;
    };

/** How often a restart held back by the concurrency limit looks again. */
export const CONCURRENCY_RECHECK_MS = 1000;

/**
 * One named check of the chain: a decision when it holds the restart back (or drops it),
 * undefined when the next check decides. A new restart policy is one more entry of
 * RESTART_CHECKS, at its place in the order.
 */
export type RestartCheck = (
  input: RestartInput,
) => Exclude<RestartDecision, { action: 'restart' }> | undefined;

/** The pods already run with the data: nothing to restart. */
const alreadyApplied: RestartCheck = (input) =>
  input.alreadyApplied
    ? { action: 'drop', reason: 'AlreadyRolledOut', message: 'the pods already run with this data' }
    : undefined;

/** A paused Deployment or Rollout would not roll: dropped with a warning, never queued up. */
const paused: RestartCheck = (input) =>
  input.paused
    ? {
        action: 'drop',
        reason: 'Paused',
        message: 'it is paused (spec.paused); resume it and restart it to pick up the new data',
      }
    : undefined;

/** Several changes in a burst make one restart: wait for quiet, but not forever. */
const debounce: RestartCheck = ({ pending, policy, now }) => {
  const due = Math.min(
    pending.last + policy.debounceMs,
    pending.first + MAX_DEBOUNCE_FACTOR * policy.debounceMs,
  );
  return now < due
    ? { action: 'wait', afterMs: due - now, reason: 'Debounce', message: 'waiting for further changes' }
    : undefined;
};

/** At least minIntervalMs between two restarts of one workload. */
const minInterval: RestartCheck = ({ lastRestartAt, policy, now }) =>
  lastRestartAt !== undefined && now < lastRestartAt + policy.minIntervalMs
    ? {
        action: 'wait',
        afterMs: lastRestartAt + policy.minIntervalMs - now,
        reason: 'MinInterval',
        message: 'restarted recently; waiting for the minimum interval between restarts',
      }
    : undefined;

/** Restarts start only inside a restart window (none configured: always open). */
const window: RestartCheck = ({ policy, now }) => {
  const state = windowState(policy.windows, policy.windowTimeZone, now);
  if (state.open) return undefined;
  const at = state.nextOpen;
  return {
    action: 'wait',
    afterMs: at === undefined ? 60 * 60_000 : Math.max(1000, at - now),
    reason: 'Window',
    message:
      at === undefined
        ? 'outside every restart window'
        : `outside the restart windows; deferred to ${new Date(at).toISOString()}`,
  };
};

/** At most maxUnavailable workloads of one group rolling at once (AnnotatePods rolls nothing). */
const concurrency: RestartCheck = ({ pending, policy, rollingInGroup }) =>
  policy.mode === 'Restart' && rollingInGroup >= policy.maxUnavailable
    ? {
        action: 'wait',
        afterMs: CONCURRENCY_RECHECK_MS,
        reason: 'Concurrency',
        message: `${rollingInGroup} workload(s) of ${pending.group} still rolling out`,
      }
    : undefined;

/** The chain, in order: the first check that answers decides. */
export const RESTART_CHECKS: readonly (readonly [name: string, check: RestartCheck])[] = [
  ['alreadyApplied', alreadyApplied],
  ['paused', paused],
  ['debounce', debounce],
  ['minInterval', minInterval],
  ['window', window],
  ['concurrency', concurrency],
];

export function decideRestart(input: RestartInput): RestartDecision {
  for (const [, check] of RESTART_CHECKS) {
    const decision = check(input);
    if (decision) return decision;
  }
  return { action: 'restart' };
}

/**
 * The policy that applies to a workload's pending restart: its SecretRotation's restart
 * settings when one asked for it (and still exists), else the defaults with the workload's
 * reload annotations.
 */
export function effectivePolicy(
  annotations: Record<string, string> | undefined,
  fromRotation: RestartPolicy | undefined,
  base: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartPolicy {
  return fromRotation ?? workloadRestartPolicy(annotations, base);
}
