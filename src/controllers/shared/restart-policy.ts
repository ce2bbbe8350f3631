// The settings a restart of workloads follows — debounce, minimum interval, concurrency, ready
// timeout, windows, mode — and where they come from for a SecretRotation (its spec, defaults
// applied). Shared by the reload controller (which applies them) and SecretRotation (which waits
// on its consumers with them). Pure.
import { SECRET_ROTATION_DEFAULTS, parseDuration } from '../../apis/v1alpha1/index.ts';
import type { RestartMode, RestartWindow, SecretRotationSpec } from '../../apis/v1alpha1/index.ts';

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
