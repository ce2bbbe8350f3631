// Time as an injected dependency — the one clock of the operator (queues, informers, leader
// election, backends, issuers, webhooks) — so all of it can be driven step by step in tests
// (FakeClock in fake-clock.ts) instead of waiting on real timers.

/** Cancels a pending timer; calling it twice, or after the timer fired, is harmless. */
export type Cancel = () => void;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  after(ms: number, fn: () => void): Cancel;
}

/** setTimeout fires at once for delays above 2^31 - 1 ms (about 24.8 days): wait in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const due = Date.now() + Math.max(0, ms);
    let timer: NodeJS.Timeout;
    const arm = () => {
      const left = due - Date.now();
      timer = setTimeout(left > MAX_TIMEOUT_MS ? arm : fn, Math.min(Math.max(0, left), MAX_TIMEOUT_MS));
      // Timers here are requeues and retries: they must not keep a stopping process alive.
      timer.unref();
    };
    arm();
    return () => clearTimeout(timer);
  },
};

/** Resolves after `ms` on `clock`, or at once (without throwing) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      cancel();
      resolve();
    };
    const cancel = clock.after(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Rejects with `signal.reason` when the signal aborts before `promise` settles (`onAbort` runs
 * first: a caller that shares `promise` gives up its share there).
 */
export function raceSignal<T>(promise: Promise<T>, signal?: AbortSignal, onAbort?: () => void): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort?.();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}
