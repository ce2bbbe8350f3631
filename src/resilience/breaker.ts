/**
 * Per-backend circuit breaker (cockatiel): after `failureThreshold` consecutive transient
 * failures (unreachable, timeouts, 5xx) it opens and calls fail fast with `CircuitOpen`;
 * after `halfOpenAfterMs` one trial call goes through and closes or re-opens it. Each refusal,
 * and the failure that opened it, says when that is (`retryAfterMs`, `circuitOpen`): a caller
 * retrying then is the probe, or waits for it.
 * Answers that prove the backend is up (found, not found, denied) count as successes;
 * throttling and cancellation count as neither.
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  IsolatedCircuitError,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { BackendError, isBackendError, type BackendErrorCode } from './errors.ts';
import type { CircuitStateName } from './metrics.ts';

export interface BreakerOptions {
  readonly name: string;
  readonly failureThreshold: number;
  readonly halfOpenAfterMs: number;
  readonly onStateChange?: (state: CircuitStateName) => void;
}

/** Answers that say the backend is up and deciding: throttling, our own open circuit, a version mismatch. */
const NOT_OUTAGES: ReadonlySet<BackendErrorCode> = new Set(['Throttled', 'CircuitOpen', 'Conflict']);

/** Failures that count towards opening the circuit. */
export function countsAsFailure(err: unknown): boolean {
  return isBackendError(err) && err.transient && !NOT_OUTAGES.has(err.code);
}

const STATE_NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

type Outcome<T> = { ok: T } | { passed: unknown };

export class Breaker {
  readonly #policy: CircuitBreakerPolicy;
  readonly #name: string;
  readonly #halfOpenAfterMs: number;
  #openedAt = 0;

  constructor(options: BreakerOptions) {
    this.#name = options.name;
    this.#halfOpenAfterMs = options.halfOpenAfterMs;
    this.#policy = circuitBreaker(handleWhen(countsAsFailure), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.failureThreshold),
    });
    // cockatiel measures the open period with Date.now(); so do we, for retryAfterMs.
    this.#policy.onBreak(() => {
      this.#openedAt = Date.now();
    });
    if (options.onStateChange) {
      const notify = options.onStateChange;
      this.#policy.onStateChange((s) => notify(STATE_NAMES[s]));
    }
  }

  get state(): CircuitStateName {
    return STATE_NAMES[this.#policy.state];
  }

  /**
   * How long until the next trial call may go through (≥ 1 ms: a caller retrying at that time
   * is the probe, or waits for it — cockatiel holds calls made while a probe is in flight).
   * Rounded up, so a retry at that time never finds the circuit still open.
   */
  #retryAfterMs(): number {
    return Math.max(1, Math.ceil(this.#openedAt + this.#halfOpenAfterMs - Date.now()));
  }

  async execute<T>(fn: () => Promise<T>): Promise<T> {
    let outcome: Outcome<T>;
    try {
      outcome = await this.#policy.execute(async (): Promise<Outcome<T>> => {
        try {
          return { ok: await fn() };
        } catch (err) {
          if (countsAsFailure(err)) throw err;
          // Not a failure of the backend: passes through the breaker as a success.
          return { passed: err };
        }
      });
    } catch (err) {
      if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
        // The message stays the same for the whole outage (it lands in status: no churn); when
        // to retry travels in retryAfterMs.
        throw new BackendError(
          'CircuitOpen',
          `backend "${this.#name}" is failing; calls are paused until a trial call succeeds (circuit open)`,
          { retryAfterMs: this.#retryAfterMs(), backend: this.#name },
        );
      }
      // This failure opened the circuit (or found it opened): the caller waits for the probe too.
      if (isBackendError(err) && countsAsFailure(err) && this.#policy.state === CircuitState.Open) {
        throw new BackendError(err.code, err.message, {
          transient: err.transient,
          retryAfterMs: this.#retryAfterMs(),
          ...(err.backend !== undefined && { backend: err.backend }),
          circuitOpen: true,
        });
      }
      throw err;
    }
    if ('passed' in outcome) throw outcome.passed;
    return outcome.ok;
  }
}
