// When a workload that is owed a restart gets it: an ordered chain of small named checks. Pure.
import { SECRET_ROTATION_DEFAULTS, parseDuration } from '../../apis/v1alpha1/index.ts';
import type { RestartMode, RestartWindow, SecretRotationSpec } from '../../apis/v1alpha1/index.ts';
import { RELOAD_DEBOUNCE_ANNOTATION, RELOAD_MIN_INTERVAL_ANNOTATION } from './annotations.ts';
import type { PendingRestart } from './annotations.ts';
import { windowState } from './windows.ts';

export interface RestartPolicy {
  debounceMs: number;
  minIntervalMs: number;
  /** Most workloads of one group rolling at once. */
  maxUnavailable: number;
  readyTimeoutMs: number;
  windows: readonly RestartWindow[];
  /** Time zone of windows that name none. */
  windowTimeZone: string;
  mode: RestartMode;
}

const R = SECRET_ROTATION_DEFAULTS.restart;

export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({
  debounceMs: parseDuration(R.debounce),
  minIntervalMs: parseDuration(R.minInterval),
  maxUnavailable: R.maxUnavailableTargets,
  readyTimeoutMs: parseDuration(R.readyTimeout),
  windows: [],
  windowTimeZone: 'UTC',
  mode: R.mode,
});

/** A debounced burst still restarts after this many debounce periods from its first change. */
export const MAX_DEBOUNCE_FACTOR = 5;

/** The restart settings of a SecretRotation, defaults applied. */
export function rotationRestartPolicy(spec: SecretRotationSpec): RestartPolicy {
  const r = spec.restart ?? {};
  return {
    debounceMs: parseDuration(r.debounce ?? R.debounce),
    minIntervalMs: parseDuration(r.minInterval ?? R.minInterval),
    maxUnavailable: r.maxUnavailableTargets ?? R.maxUnavailableTargets,
    readyTimeoutMs: parseDuration(r.readyTimeout ?? R.readyTimeout),
    windows: r.windows ?? [],
    windowTimeZone: spec.timeZone ?? SECRET_ROTATION_DEFAULTS.timeZone,
    mode: r.mode ?? R.mode,
  };
}

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
    debounceMs: duration(RELOAD_DEBOUNCE_ANNOTATION, base.debounceMs),
    minIntervalMs: duration(RELOAD_MIN_INTERVAL_ANNOTATION, base.minIntervalMs),
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

export function decideRestart(input: RestartInput): RestartDecision {
  const { pending, policy, now } = input;
  if (input.alreadyApplied) {
    return { action: 'drop', reason: 'AlreadyRolledOut', message: 'the pods already run with this data' };
  }
  if (input.paused) {
    return {
      action: 'drop',
      reason: 'Paused',
      message: 'it is paused (spec.paused); resume it and restart it to pick up the new data',
    };
  }
  const due = Math.min(
    pending.last + policy.debounceMs,
    pending.first + MAX_DEBOUNCE_FACTOR * policy.debounceMs,
  );
  if (now < due) {
    return { action: 'wait', afterMs: due - now, reason: 'Debounce', message: 'waiting for further changes' };
  }
  if (input.lastRestartAt !== undefined && now < input.lastRestartAt + policy.minIntervalMs) {
    return {
      action: 'wait',
      afterMs: input.lastRestartAt + policy.minIntervalMs - now,
      reason: 'MinInterval',
      message: 'restarted recently; waiting for the minimum interval between restarts',
    };
  }
  const window = windowState(policy.windows, policy.windowTimeZone, now);
  if (!window.open) {
    const at = window.nextOpen;
    return {
      action: 'wait',
      afterMs: at === undefined ? 60 * 60_000 : Math.max(1000, at - now),
      reason: 'Window',
      message:
        at === undefined
          ? 'outside every restart window'
          : `outside the restart windows; deferred to ${new Date(at).toISOString()}`,
    };
  }
  if (policy.mode === 'Restart' && input.rollingInGroup >= policy.maxUnavailable) {
    return {
      action: 'wait',
      afterMs: CONCURRENCY_RECHECK_MS,
      reason: 'Concurrency',
      message: `${input.rollingInGroup} workload(s) of ${pending.group} still rolling out`,
    };
  }
  return { action: 'restart' };
}
