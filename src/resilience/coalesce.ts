/**
 * Request coalescing: concurrent calls with the same key share one in-flight request
 * (principle 6). A successful result is also kept (bounded, least recently used first out):
 * a caller may be served one no older than its `maxAgeMs` (default `ttlMs`), so many resources
 * refreshing one path within their sharing window cause one read. `maxAgeMs: 0` asks for a
 * fresh read: it neither takes a kept result nor joins a request started before it. Failures
 * are never kept.
 *
 * Cancellation is per caller: a caller whose signal aborts stops waiting; the shared request
 * is aborted only when every caller has gone.
 */
import { LRUCache } from 'lru-cache';
import { raceSignal, type Clock } from '../kube/clock.ts';

export interface CoalescerOptions {
  readonly clock: Clock;
  /** Serve kept results this old to callers that do not say (0: share only concurrent requests). */
  readonly ttlMs?: number;
  /** Most results kept (least recently used dropped first). */
  readonly maxEntries?: number;
  /** No result is kept longer than this, whatever a caller asks (ms). */
  readonly maxKeepMs?: number;
}

/** How long a result may be kept at most unless the owner says (a refresh's sharing window cap). */
export const DEFAULT_MAX_KEEP_MS = 5 * 60_000;

interface Kept<T> {
  readonly value: T;
  /** When the request that gave it started: the value is at least this new. */
  readonly at: number;
}

interface Flight<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  /** When it started (the age of its result). */
  readonly started: number;
  waiters: number;
  /** Invalidated while in flight: its result is not kept and no new caller joins it. */
  stale: boolean;
}

export class Coalescer<T> {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxKeepMs: number;
  readonly #inflight = new Map<string, Flight<T>>();
  readonly #kept: LRUCache<string, Kept<T>>;

  constructor(options: CoalescerOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? 0;
    this.#maxKeepMs = Math.max(options.maxKeepMs ?? DEFAULT_MAX_KEEP_MS, this.#ttlMs);
    this.#kept = new LRUCache<string, Kept<T>>({ max: options.maxEntries ?? 1000 });
  }

  /**
   * Runs `fn` for `key` unless a call for it is in flight (or kept no longer than `maxAgeMs`
   * ago), and returns the shared result. `onShared` is told when this caller did not start a
   * request of its own, with the time the shared request started (how old its answer may be).
   */
  run(
    key: string,
    fn: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
    onShared?: (startedAt: number) => void,
    askedMaxAgeMs?: number,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    // The configured TTL is a floor for every caller but one asking for a fresh read (0).
    const fresh = askedMaxAgeMs === 0;
    const maxAgeMs = fresh ? 0 : Math.max(askedMaxAgeMs ?? 0, this.#ttlMs);
    const now = this.#clock.now();
    const kept = this.#kept.get(key);
    if (kept && now - kept.at >= this.#maxKeepMs) this.#kept.delete(key);
    else if (kept && maxAgeMs > 0 && now - kept.at < maxAgeMs) {
      onShared?.(kept.at);
      return Promise.resolve(kept.value);
    }
    let flight = this.#inflight.get(key);
    // A caller asking for a fresh read does not take the answer to a request sent before it asked.
    if (flight && !flight.stale && (!fresh || flight.started >= now)) {
      onShared?.(flight.started);
    } else {
      flight = this.#start(key, fn);
    }
    return this.#wait(flight, signal);
  }

  /** Drops kept results (and stops sharing in-flight calls) whose key starts with `prefix`. */
  invalidate(prefix: string): void {
    this.invalidateWhere((key) => key.startsWith(prefix));
  }

  /** Drops kept results (and stops sharing in-flight calls) whose key passes `test`. */
  invalidateWhere(test: (key: string) => boolean): void {
    for (const key of [...this.#kept.keys()]) if (test(key)) this.#kept.delete(key);
    for (const [key, flight] of this.#inflight) if (test(key)) flight.stale = true;
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
      started: this.#clock.now(),
      waiters: 0,
      stale: false,
      promise: Promise.resolve()
        .then(() => fn(controller.signal))
        .then(
          (value) => {
            if (this.#inflight.get(key) === flight) this.#inflight.delete(key);
            if (!flight.stale) this.#keep(key, value, flight.started);
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

  /** Keeps the newest answer: a request that started earlier but ended later does not replace it. */
  #keep(key: string, value: T, at: number): void {
    const kept = this.#kept.get(key, { updateAgeOnGet: false });
    if (kept && kept.at > at) return;
    this.#kept.set(key, { value, at });
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
