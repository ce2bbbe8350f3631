/**
 * Wraps a concrete backend with what every backend gets, in this order:
 *   tenancy (before anything else; reads by `allowedPaths`, writes by `allowedWritePaths`) →
 *   coalescing (reads) → circuit breaker → token bucket → per-request timeout → the adapter.
 * and reports every call to the metrics. A 429 (Throttled with retryAfterMs) closes the
 * bucket until then. Anything an adapter throws that is not a BackendError becomes `Unknown`
 * without its message (it could hold anything).
 */
import { Breaker } from './breaker.ts';
import type { Clock } from './clock.ts';
import { Coalescer } from './coalesce.ts';
import { BackendError, isBackendError, withBackend } from './errors.ts';
import type { BackendMetrics, BackendOperation, BackendOutcome, CircuitStateName } from './metrics.ts';
import { TokenBucket } from './rate-limit.ts';
import { compileTenancy, type Access, type TenancyRules } from './tenancy.ts';
import type {
  Backend,
  BackendAdapter,
  CallContext,
  ReadRequest,
  RemoteSecret,
  WriteRequest,
  WriteResult,
} from './types.ts';

export interface GuardOptions extends TenancyRules {
  readonly rateLimit: { readonly qps: number; readonly burst: number; readonly maxWait: number };
  readonly circuitBreaker: { readonly failureThreshold: number; readonly halfOpenAfter: number };
  readonly coalesce: { readonly ttl: number };
  /** Per-request timeout, ms. */
  readonly timeout: number;
}

export interface GuardDeps {
  readonly clock: Clock;
  readonly metrics: BackendMetrics;
}

/** When a backend throttles without saying for how long (or says 0). */
export const DEFAULT_THROTTLE_MS = 1000;

/**
 * How long to pause after a backend's 429: its Retry-After, but never less than the default.
 * OpenBao's quotas answer `Retry-After: 0` in the last second of a block; taken literally, every
 * worker would retry at once and get 429 again, a hot loop until the block ends.
 */
export function throttlePauseMs(retryAfterMs: number | undefined): number {
  return Math.max(retryAfterMs ?? 0, DEFAULT_THROTTLE_MS);
}

export class GuardedBackend implements Backend {
  readonly name: string;
  readonly type: string;
  readonly #adapter: BackendAdapter;
  readonly #tenancy: ReturnType<typeof compileTenancy>;
  readonly #coalescer: Coalescer<RemoteSecret>;
  readonly #bucket: TokenBucket;
  readonly #breaker: Breaker;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #metrics: BackendMetrics;
  #closed = false;
  /** Throttled errors raised by our own bucket (not by the backend). */
  readonly #local = new WeakSet<object>();

  constructor(adapter: BackendAdapter, options: GuardOptions, deps: GuardDeps) {
    this.name = adapter.name;
    this.type = adapter.type;
    this.#adapter = adapter;
    this.#clock = deps.clock;
    this.#metrics = deps.metrics;
    this.#timeoutMs = options.timeout;
    this.#tenancy = compileTenancy(adapter.name, options);
    this.#coalescer = new Coalescer({ clock: deps.clock, ttlMs: options.coalesce.ttl });
    this.#bucket = new TokenBucket({
      qps: options.rateLimit.qps,
      burst: options.rateLimit.burst,
      maxWaitMs: options.rateLimit.maxWait,
      clock: deps.clock,
      name: adapter.name,
    });
    this.#breaker = new Breaker({
      name: adapter.name,
      failureThreshold: options.circuitBreaker.failureThreshold,
      halfOpenAfterMs: options.circuitBreaker.halfOpenAfter,
      onStateChange: (state) => deps.metrics.circuitState(adapter.name, state),
    });
    deps.metrics.circuitState(adapter.name, 'closed');
  }

  /** Circuit state, for status and tests. */
  get circuitState(): CircuitStateName {
    return this.#breaker.state;
  }

  async read(req: ReadRequest, ctx: CallContext): Promise<RemoteSecret> {
    const started = this.#clock.now();
    this.#admit('read', req.path, ctx, started);
    try {
      const key = coalesceKey(req.path, req.version, this.#adapter.identity(ctx));
      const secret = await this.#coalescer.run(
        key,
        (shared) => this.#call('read', shared, (signal) => this.#adapter.read(req, { ...ctx, signal })),
        ctx.signal,
        () => this.#metrics.coalesced(this.name),
      );
      return secret;
    } catch (err) {
      throw this.#caught(err, ctx.signal);
    }
  }

  async write(req: WriteRequest, ctx: CallContext): Promise<WriteResult> {
    const started = this.#clock.now();
    this.#admit('write', req.path, ctx, started);
    try {
      return await this.#call('write', ctx.signal, (signal) => this.#adapter.write(req, { ...ctx, signal }));
    } catch (err) {
      throw this.#caught(err, ctx.signal);
    } finally {
      // Whatever happened, what was read before may be old now.
      this.#coalescer.invalidate(`${req.path}\u0000`);
    }
  }

  /** A reachability call, through the breaker and the bucket like any other (readiness caches it). */
  check(signal?: AbortSignal): Promise<void> {
    return this.#call('check', signal, (s) => this.#adapter.check(s));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#bucket.close(
      new BackendError('Unavailable', `backend "${this.name}" is shut down`, { backend: this.name }),
    );
    this.#coalescer.clear();
    await this.#adapter.close();
  }

  // -------------------------------------------------------------------------------------------

  /** Tenancy (reads and writes by their own rules) and liveness, before anything is queued or sent. */
  #admit(op: Access, path: string, ctx: CallContext, started: number): void {
    const denied = this.#closed
      ? new BackendError('Unavailable', `backend "${this.name}" is shut down`, { backend: this.name })
      : this.#tenancy(ctx.namespace, path, op);
    if (denied) {
      this.#metrics.request(this.name, op, denied.code, this.#clock.now() - started);
      throw denied;
    }
  }

  /** One request through breaker, bucket and timeout, reported to the metrics. */
  async #call<T>(
    op: BackendOperation,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const started = this.#clock.now();
    try {
      const result = await this.#breaker.execute(async () => {
        try {
          await this.#bucket.acquire(signal);
        } catch (err) {
          if (isBackendError(err) && err.code === 'Throttled') {
            this.#local.add(err);
            this.#metrics.throttled(this.name, 'local');
          }
          throw err;
        }
        return this.#withTimeout(signal, fn);
      });
      this.#metrics.request(this.name, op, 'success', this.#clock.now() - started);
      return result;
    } catch (err) {
      const e = this.#caught(err, signal);
      if (isBackendError(e) && e.code === 'Throttled' && !this.#local.has(err as object)) {
        this.#metrics.throttled(this.name, 'remote');
      }
      this.#metrics.request(this.name, op, outcomeOf(e), this.#clock.now() - started);
      throw e;
    }
  }

  /** Runs `fn` with a signal that also aborts after the per-request timeout. */
  async #withTimeout<T>(outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (outer?.aborted) throw outer.reason;
    const controller = new AbortController();
    const timeout = new BackendError(
      'Unavailable',
      `backend "${this.name}" did not answer within ${this.#timeoutMs}ms`,
      { backend: this.name },
    );
    const timer = this.#clock.setTimeout(() => controller.abort(timeout), this.#timeoutMs);
    const onAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    try {
      // Settle on abort even if the adapter ignores its signal.
      return await new Promise<T>((resolve, reject) => {
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
        fn(controller.signal).then(resolve, reject);
      });
    } catch (err) {
      this.#afterFailure(err);
      throw err;
    } finally {
      this.#clock.clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  /** A throttle answer from the backend closes the bucket for its Retry-After. */
  #afterFailure(err: unknown): void {
    if (isBackendError(err) && err.code === 'Throttled') {
      this.#bucket.blockUntil(this.#clock.now() + throttlePauseMs(err.retryAfterMs));
    }
  }

  /** Normalises what reaches the caller: BackendError with our name, or the caller's abort reason. */
  #caught(err: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted && err === signal.reason) return err;
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
    const kind = err instanceof Error ? err.name : typeof err;
    return new BackendError('Unknown', `unexpected ${kind} in backend "${this.name}"`, {
      backend: this.name,
    });
  }
}

function outcomeOf(err: unknown): BackendOutcome {
  return isBackendError(err) ? err.code : 'Cancelled';
}

export function coalesceKey(path: string, version: string | undefined, identity: string): string {
  return `${path}\u0000${version ?? ''}\u0000${identity}`;
}
