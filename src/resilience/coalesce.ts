/**
 * Request coalescing: concurrent calls with the same key share one in-flight request
 * (principle 6). With `ttlMs > 0` a successful result is also kept that long, so many
 * resources refreshing one path within the window cause one read. Failures are never kept.
 *
 * Cancellation is per caller: a caller whose signal aborts stops waiting; the shared request
 * is aborted only when every caller has gone.
 */
import { raceSignal, type Clock } from '../kube/clock.ts';

export interface CoalescerOptions {
  readonly clock: Clock;
  /** Keep results this long (0: share only concurrent requests). */
  readonly ttlMs?: number;
  /** Most results kept (oldest dropped first). */
  readonly maxEntries?: number;
}

interface Flight<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  waiters: number;
  /** Invalidated while in flight: its result is not kept and no new caller joins it. */
  stale: boolean;
}

export class Coalescer<T> {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #inflight = new Map<string, Flight<T>>();
  readonly #kept = new Map<string, { value: T; expires: number }>();

  constructor(options: CoalescerOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? 0;
    this.#maxEntries = options.maxEntries ?? 1000;
  }

  /**
   * Runs `fn` for `key` unless a call for it is in flight (or kept), and returns the shared
   * result. `onShared` is told when this caller did not start a request of its own.
   */
  run(
    key: string,
    fn: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
    onShared?: () => void,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const kept = this.#kept.get(key);
    if (kept) {
      if (kept.expires > this.#clock.now()) {
        onShared?.();
        return Promise.resolve(kept.value);
      }
      this.#kept.delete(key);
    }
    let flight = this.#inflight.get(key);
    if (flight && !flight.stale) {
      onShared?.();
    } else {
      flight = this.#start(key, fn);
    }
    return this.#wait(flight, signal);
  }

  /** Drops kept results (and stops sharing in-flight calls) whose key starts with `prefix`. */
  invalidate(prefix: string): void {
    for (const key of [...this.#kept.keys()]) if (key.startsWith(prefix)) this.#kept.delete(key);
    for (const [key, flight] of this.#inflight) if (key.startsWith(prefix)) flight.stale = true;
  }

  clear(): void {
    this.#kept.clear();
    for (const flight of this.#inflight.values()) flight.stale = true;
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  #start(key: string, fn: (signal: AbortSignal) => Promise<T>): Flight<T> {
    const controller = new AbortController();
    const flight: Flight<T> = {
      controller,
      waiters: 0,
      stale: false,
      promise: Promise.resolve()
        .then(() => fn(controller.signal))
        .then(
          (value) => {
            if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
            if (this.#ttlMs > 0 && !flight.stale) this.#keep(key, value);
            return value;
          },
          (err: unknown) => {
            if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
            throw err;
          },
        ),
    };
    // Nobody may be waiting when it fails (every caller aborted): never an unhandled rejection.
    flight.promise.catch(() => undefined);
    this.#inflight.set(key, flight);
    return flight;
  }

  #keep(key: string, value: T): void {
    this.#kept.delete(key);
    this.#kept.set(key, { value, expires: this.#clock.now() + this.#ttlMs });
    while (this.#kept.size > this.#maxEntries) {
      const oldest = this.#kept.keys().next().value as string;
      this.#kept.delete(oldest);
    }
  }

  #wait(flight: Flight<T>, signal?: AbortSignal): Promise<T> {
    flight.waiters++;
    if (!signal) return flight.promise;
    return raceSignal(flight.promise, signal, () => {
      flight.waiters--;
      if (flight.waiters === 0) {
        flight.stale = true;
        flight.controller.abort(signal.reason);
      }
    });
  }
}
