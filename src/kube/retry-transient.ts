// Start-up calls to the Kubernetes API (the MAC keys, the API's CA and its published bundle)
// wait out a transient outage instead of failing the process. A replica started while the
// apiserver is frozen or restarting used to exit ("Timeout: network error"), and the kubelet
// restarts an exiting container into CrashLoopBackOff, whose delay (up to 5 min) then outlasts
// the outage (test/faults/cluster.test.ts: six exits in a 90 s apiserver freeze). Errors that
// need a change first (403, 422, ...) still fail at once.
import { type BackoffOptions, type Random, nextDelay } from './backoff.ts';
import { type Clock, sleep, systemClock } from './clock.ts';
import { toKubeError } from './errors.ts';
import { type Logger, noopLogger, safeLog } from './logger.ts';

export interface RetryTransientOptions {
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** Default: 1 s base, 30 s cap, decorrelated jitter. */
  backoff?: Partial<BackoffOptions>;
  /** Stops waiting (the last error is thrown). */
  signal?: AbortSignal;
}

/** Runs `fn` until it succeeds or fails with an error that is not transient. */
export async function retryTransient<T>(
  what: string,
  fn: () => Promise<T>,
  opts: RetryTransientOptions = {},
): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const backoff: BackoffOptions = { baseMs: 1000, capMs: 30_000, jitter: 'decorrelated', ...opts.backoff };
  let failures = 0;
  let previous = 0;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const e = toKubeError(err);
      if (!e.transient || opts.signal?.aborted) throw err;
      failures++;
      previous = Math.max(
        nextDelay(failures, backoff, opts.random ?? Math.random, previous),
        e.retryAfterMs ?? 0,
      );
      safeLog(opts.logger ?? noopLogger, 'warn', 'Kubernetes API not reachable at start-up; retrying', {
        what,
        error: e.message,
        failures,
        delayMs: previous,
      });
      // The clock's timers do not keep the process alive (they are requeues), and at start-up
      // nothing else may yet: hold it open while waiting, or node would exit in silence.
      const keepAlive = setInterval(() => {}, 60_000);
      try {
        await sleep(clock, previous, opts.signal);
      } finally {
        clearInterval(keepAlive);
      }
    }
  }
}
