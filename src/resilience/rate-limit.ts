/**
 * Per-backend token bucket: `qps` tokens a second, at most `burst` saved up. Callers wait
 * their turn in FIFO order; a caller whose wait would exceed `maxWaitMs` gets a `Throttled`
 * error at once (with `retryAfterMs`) so that a worker is not held. After the backend says
 * "slow down" (429 + Retry-After), `blockUntil` closes the bucket: nothing is let through
 * before that time, and it reopens at the sustained rate, not with a burst.
 */
import type { Cancel, Clock } from '../kube/clock.ts';
import { BackendError } from './errors.ts';

export interface TokenBucketOptions {
  readonly qps: number;
  readonly burst: number;
  /** Longest a caller may wait for a token. */
  readonly maxWaitMs: number;
  readonly clock: Clock;
  /** Backend name for error messages. */
  readonly name?: string;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const EPSILON = 1e-9;

export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #maxWaitMs: number;
  readonly #clock: Clock;
  readonly #name: string;
  #tokens: number;
  #last: number;
  #blockedUntil = 0;
  readonly #queue: Waiter[] = [];
  #cancelTimer: Cancel | undefined;

  constructor(options: TokenBucketOptions) {
    if (!(options.qps > 0) || !(options.burst >= 1))
      throw new Error('TokenBucket needs qps > 0 and burst >= 1');
    this.#qps = options.qps;
    this.#burst = options.burst;
    this.#maxWaitMs = options.maxWaitMs;
    this.#clock = options.clock;
    this.#name = options.name ?? 'backend';
    this.#tokens = options.burst;
    this.#last = options.clock.now();
  }

  /** Time (ms since epoch) before which no request may be sent; 0 when not blocked. */
  get blockedUntil(): number {
    return this.#blockedUntil > this.#clock.now() ? this.#blockedUntil : 0;
  }

  /** Callers waiting for a token. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Takes a token, waiting for it if needed. Rejects with `Throttled` or `signal.reason`. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#refill();
    const now = this.#clock.now();
    if (this.#queue.length === 0 && now >= this.#blockedUntil && this.#tokens >= 1 - EPSILON) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    const wait = this.#estimatedWait(this.#queue.length, now);
    if (wait > this.#maxWaitMs) return Promise.reject(this.#throttled(wait));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal.reason);
          this.#schedule();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      this.#schedule();
    });
  }

  /**
   * Sends nothing before `until` (ms since epoch). Queued callers whose wait now exceeds
   * `maxWaitMs` are released with `Throttled`.
   */
  blockUntil(until: number): void {
    const now = this.#clock.now();
    if (until <= now || until <= this.#blockedUntil) return;
    this.#blockedUntil = until;
    this.#tokens = 0;
    this.#last = until;
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const wait = this.#estimatedWait(i, now);
      if (wait > this.#maxWaitMs) {
        const [w] = this.#queue.splice(i, 1);
        if (w) this.#settle(w, this.#throttled(wait));
      }
    }
    this.#schedule();
  }

  /** Rejects every waiter (on close). */
  close(reason: unknown): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    for (const w of this.#queue.splice(0)) this.#settle(w, reason);
  }

  #refill(): void {
    const now = this.#clock.now();
    if (now <= this.#last) return;
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#qps) / 1000);
    this.#last = now;
  }

  /** Wait for the caller at queue position `position` (0 = first), from `now`. */
  #estimatedWait(position: number, now: number): number {
    const start = Math.max(now, this.#blockedUntil);
    const tokensAtStart = start > now ? 0 : this.#tokens;
    const missing = position + 1 - tokensAtStart;
    return start - now + Math.max(0, (missing * 1000) / this.#qps);
  }

  #throttled(waitMs: number): BackendError {
    return new BackendError(
      'Throttled',
      `rate limit of backend "${this.#name}" reached; retry in ${Math.ceil(waitMs)}ms`,
      { retryAfterMs: Math.ceil(waitMs), backend: this.#name },
    );
  }

  #schedule(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    if (this.#queue.length === 0) return;
    this.#refill();
    const now = this.#clock.now();
    const delay =
      now < this.#blockedUntil
        ? this.#blockedUntil - now
        : Math.max(0, ((1 - this.#tokens) * 1000) / this.#qps);
    if (delay <= EPSILON) {
      this.#drain();
      return;
    }
    this.#cancelTimer = this.#clock.after(Math.ceil(delay), () => {
      this.#cancelTimer = undefined;
      this.#drain();
    });
  }

  #drain(): void {
    this.#refill();
    while (this.#queue.length > 0 && this.#clock.now() >= this.#blockedUntil && this.#tokens >= 1 - EPSILON) {
      const w = this.#queue.shift() as Waiter;
      this.#tokens -= 1;
      this.#settle(w);
    }
    this.#schedule();
  }

  #settle(w: Waiter, err?: unknown): void {
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    if (err === undefined) w.resolve();
    else w.reject(err);
  }
}
