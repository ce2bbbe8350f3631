// Delays for retries (per key) and spreads for planned refreshes. Pure functions take the
// random source as an argument so tests can pin it.

/** Returns a number in [0, 1), like Math.random. */
export type Random = () => number;

/**
 * none: plain exponential. full: uniform in [0, exponential] (AWS "full jitter").
 * decorrelated: uniform in [base, 3 × previous delay], capped (AWS "decorrelated jitter"); it
 * spreads retries of many keys that failed together while still growing per key.
 */
export type JitterMode = 'none' | 'full' | 'decorrelated';

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  jitter: JitterMode;
}

// Decorrelated by default: never below the base (no hot retry loop), grows per key, and
// keys that failed together (a backend outage) retry at different times.
export const defaultBackoff: BackoffOptions = Object.freeze({
  baseMs: 1000,
  capMs: 5 * 60_000,
  jitter: 'decorrelated',
});

/** base × 2^(failures−1), capped; 0 when there was no failure. */
export function exponentialDelay(failures: number, baseMs: number, capMs: number): number {
  if (failures <= 0) return 0;
  // 2^exponent overflows to Infinity long before it matters; min() keeps it at the cap.
  return Math.min(capMs, baseMs * 2 ** Math.min(failures - 1, 60));
}

/**
 * The delay before the next attempt after `failures` consecutive failures (1 for the first).
 * `previousMs` is only used by decorrelated jitter (the delay chosen last time).
 */
export function nextDelay(
  failures: number,
  opts: BackoffOptions,
  random: Random,
  previousMs?: number,
): number {
  if (failures <= 0) return 0;
  const exp = exponentialDelay(failures, opts.baseMs, opts.capMs);
  switch (opts.jitter) {
    case 'none':
      return exp;
    case 'full':
      return Math.floor(random() * exp);
    case 'decorrelated': {
      const prev = previousMs && previousMs > 0 ? previousMs : opts.baseMs;
      const upper = Math.max(opts.baseMs, prev * 3);
      return Math.min(opts.capMs, Math.floor(opts.baseMs + random() * (upper - opts.baseMs)));
    }
  }
}

/**
 * Shortens `durationMs` by up to `fraction` of itself: a result in [d × (1 − fraction), d].
 * Refresh horizons are jittered downwards so a refresh never lands after the deadline it
 * protects (an expiry, a rotation), while many objects created together spread out.
 */
export function jitter(durationMs: number, fraction: number, random: Random): number {
  if (durationMs <= 0 || fraction <= 0) return Math.max(0, durationMs);
  const f = Math.min(1, fraction);
  return Math.floor(durationMs - durationMs * f * random());
}

/** The per-key part of client-go's rate limiter interface, which the workqueue uses. */
export interface RateLimiter {
  /** Records one more failure for `key` and returns how long to wait before retrying. */
  when(key: string): number;
  /** Clears the failure history of `key` (call on success). */
  forget(key: string): void;
  /** Consecutive failures recorded for `key`. */
  failures(key: string): number;
}

/** Per-key exponential backoff; state exists only for keys that are currently failing. */
export class KeyedBackoff implements RateLimiter {
  readonly #opts: BackoffOptions;
  readonly #random: Random;
  readonly #state = new Map<string, { failures: number; lastMs: number }>();

  constructor(opts: Partial<BackoffOptions> = {}, random: Random = Math.random) {
    this.#opts = { ...defaultBackoff, ...opts };
    this.#random = random;
  }

  when(key: string): number {
    const prev = this.#state.get(key);
    const failures = (prev?.failures ?? 0) + 1;
    const delay = nextDelay(failures, this.#opts, this.#random, prev?.lastMs);
    this.#state.set(key, { failures, lastMs: delay });
    return delay;
  }

  forget(key: string): void {
    this.#state.delete(key);
  }

  failures(key: string): number {
    return this.#state.get(key)?.failures ?? 0;
  }
}
