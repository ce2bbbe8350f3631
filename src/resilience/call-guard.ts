/**
 * What every remote call gets — backends' reads and writes, issuers' signing — in this order:
 *   admission (shut down? the caller's tenancy or policy check) → coalescing (reads, when
 *   configured) → circuit breaker → token bucket → per-request timeout → the call,
 * with every call reported to the metrics. Written once here; `backends/guard.ts` and
 * `issuers/guard.ts` only say what is checked and what is coalesced.
 *
 * What reaches the caller is a BackendError named after the guarded backend or issuer, or the
 * caller's own abort reason: anything else becomes `Unknown` without its message (it could hold
 * anything). A 429 (Throttled) closes the bucket for its Retry-After, never less than the default.
 */
import type { Clock } from '../kube/clock.ts';
import { Breaker } from './breaker.ts';
import { Coalescer } from './coalesce.ts';
import { BackendError, isAbort, isBackendError, withBackend } from './errors.ts';
import type { BackendMetrics, BackendOperation, BackendOutcome, CircuitStateName } from './metrics.ts';
import { TokenBucket } from './rate-limit.ts';
import { withTimeout } from './timeout.ts';

export interface CallGuardOptions {
  /** What is guarded, for messages: `backend "vault"`, `issuer "pki"`. */
  readonly kind: 'backend' | 'issuer';
  readonly name: string;
  /** Undefined: no bucket (in-process issuers). */
  readonly rateLimit?: { readonly qps: number; readonly burst: number; readonly maxWait: number };
  /** Undefined: no breaker. */
  readonly circuitBreaker?: { readonly failureThreshold: number; readonly halfOpenAfter: number };
  /** Reads share one request per key, and keep a success this long (ms); undefined: no sharing. */
  readonly coalesce?: { readonly ttl: number };
  /** Per-request timeout, ms; undefined: none. */
  readonly timeout?: number;
}

export interface CallGuardDeps {
  readonly clock: Clock;
  readonly metrics: BackendMetrics;
}

/** When a backend throttles without saying for how long (or says 0). */
export const DEFAULT_THROTTLE_MS = 1000;

/**
 * How long to pause after a 429: its Retry-After, but never less than the default. OpenBao's
 * quotas answer `Retry-After: 0` in the last second of a block; taken literally, every worker
 * would retry at once and get 429 again, a hot loop until the block ends.
 */
export function throttlePauseMs(retryAfterMs: number | undefined): number {
  return Math.max(retryAfterMs ?? 0, DEFAULT_THROTTLE_MS);
}

/** The metrics outcome of a failed call: its code, or `Cancelled` when the caller gave up. */
export function outcomeOf(err: unknown): BackendOutcome {
  return isBackendError(err) ? err.code : 'Cancelled';
}

/** An error's class name when it is a plain identifier (the only thing of it we print). */
export function errorName(err: unknown): string {
  const name = err instanceof Error ? err.name : typeof err;
  return /^[A-Za-z][\w.]{0,63}$/.test(name) ? name : 'error';
}

export class CallGuard<R = unknown> {
  readonly name: string;
  readonly #what: string;
  readonly #opts: CallGuardOptions;
  readonly #deps: CallGuardDeps;
  readonly #bucket: TokenBucket | undefined;
  readonly #breaker: Breaker | undefined;
  readonly #coalescer: Coalescer<R> | undefined;
  /** Throttled errors raised by our own bucket (not by the remote side). */
  readonly #local = new WeakSet<object>();
  #closed = false;

  constructor(options: CallGuardOptions, deps: CallGuardDeps) {
    const { name, rateLimit, circuitBreaker, coalesce } = options;
    this.name = name;
    this.#what = `${options.kind} "${name}"`;
    this.#opts = options;
    this.#deps = deps;
    this.#bucket =
      rateLimit && new TokenBucket({ ...rateLimit, maxWaitMs: rateLimit.maxWait, clock: deps.clock, name });
    this.#breaker =
      circuitBreaker &&
      new Breaker({
        name,
        failureThreshold: circuitBreaker.failureThreshold,
        halfOpenAfterMs: circuitBreaker.halfOpenAfter,
        onStateChange: (state) => deps.metrics.circuitState(name, state),
      });
    if (this.#breaker) deps.metrics.circuitState(name, 'closed');
    this.#coalescer = coalesce && new Coalescer<R>({ clock: deps.clock, ttlMs: coalesce.ttl });
  }

  /** Circuit state, for status and tests (`closed` without a breaker). */
  get circuitState(): CircuitStateName {
    return this.#breaker?.state ?? 'closed';
  }

  /**
   * Admission, before anything is queued or sent: refused when shut down or when `check` names
   * a denial (tenancy, policy); a refusal is reported like any other outcome.
   */
  admit(op: BackendOperation, check: () => BackendError | undefined): void {
    const started = this.#deps.clock.now();
    const denied = this.#closed ? this.#shutDown() : check();
    if (denied) {
      this.#deps.metrics.request(this.name, op, denied.code, this.#deps.clock.now() - started);
      throw denied;
    }
  }

  /**
   * A read shared by every concurrent caller with the same key, and served from a kept result
   * no older than `maxAgeMs` (default: the configured TTL; 0: a fresh read).
   */
  async read(
    key: string,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<R>,
    maxAgeMs?: number,
    onShared?: (startedAt: number) => void,
  ): Promise<R> {
    const coalescer = this.#coalescer;
    if (!coalescer) return this.call('read', signal, fn);
    try {
      return await coalescer.run(
        key,
        (shared) => this.call('read', shared, fn),
        signal,
        (startedAt) => {
          this.#deps.metrics.coalesced(this.name);
          onShared?.(startedAt);
        },
        maxAgeMs,
      );
    } catch (err) {
      throw this.#caught(err, signal);
    }
  }

  /** Forgets kept and in-flight reads whose key starts with `prefix` (after a write). */
  invalidate(prefix: string): void {
    this.#coalescer?.invalidate(prefix);
  }

  /** One request through breaker, bucket and timeout, reported to the metrics. */
  async call<T>(
    op: BackendOperation,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const { clock, metrics } = this.#deps;
    const started = clock.now();
    try {
      const run = async () => {
        await this.#acquire(signal);
        return this.#timed(signal, fn);
      };
      const result = await (this.#breaker ? this.#breaker.execute(run) : run());
      metrics.request(this.name, op, 'success', clock.now() - started);
      return result;
    } catch (err) {
      const e = this.#caught(err, signal);
      if (isBackendError(e) && e.code === 'Throttled' && !this.#local.has(err as object)) {
        metrics.throttled(this.name, 'remote');
      }
      metrics.request(this.name, op, outcomeOf(e), clock.now() - started);
      throw e;
    }
  }

  /** Refuses new calls, fails the queued ones, forgets kept reads. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#bucket?.close(this.#shutDown());
    this.#coalescer?.clear();
  }

  // -------------------------------------------------------------------------------------------

  async #acquire(signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#bucket?.acquire(signal);
    } catch (err) {
      if (isBackendError(err) && err.code === 'Throttled') {
        this.#local.add(err);
        this.#deps.metrics.throttled(this.name, 'local');
      }
      throw err;
    }
  }

  async #timed<T>(signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ms = this.#opts.timeout;
    const timedOut = () =>
      new BackendError('Unavailable', `${this.#what} did not answer within ${ms}ms`, { backend: this.name });
    try {
      return await withTimeout(this.#deps.clock, ms, signal, timedOut, fn);
    } catch (err) {
      // A throttle answer closes the bucket for its Retry-After before the breaker sees it.
      if (isBackendError(err) && err.code === 'Throttled') {
        this.#bucket?.blockUntil(this.#deps.clock.now() + throttlePauseMs(err.retryAfterMs));
      }
      throw err;
    }
  }

  /** Normalises what reaches the caller: a BackendError with our name, or the caller's abort reason. */
  #caught(err: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted && isAbort(err, signal)) return err;
    if (isBackendError(err)) {
      const named = withBackend(err, this.name);
      // No hint, or "retry now" (Retry-After: 0): the caller waits the default pause too.
      if (named.code === 'Throttled' && (named.retryAfterMs ?? 0) <= 0) {
        return new BackendError('Throttled', named.message, {
          retryAfterMs: DEFAULT_THROTTLE_MS,
          backend: this.name,
          transient: true,
        });
      }
      return named;
    }
    return new BackendError('Unknown', `unexpected ${errorName(err)} in ${this.#what}`, {
      backend: this.name,
    });
  }

  #shutDown(): BackendError {
    return new BackendError('Unavailable', `${this.#what} is shut down`, { backend: this.name });
  }
}
