import type { Clock } from '../kube/clock.ts';

/**
 * Runs `fn` with a signal that aborts when `outer` does (with its reason) or after `timeoutMs`
 * (with `timedOut()`); without a `timeoutMs` only the outer signal counts. Settles on abort even
 * if `fn` ignores its signal, so a hung call never holds the caller.
 */
export async function withTimeout<T>(
  clock: Clock,
  timeoutMs: number | undefined,
  outer: AbortSignal | undefined,
  timedOut: () => unknown,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (outer?.aborted) throw outer.reason;
  const controller = new AbortController();
  const cancel =
    timeoutMs === undefined ? undefined : clock.after(timeoutMs, () => controller.abort(timedOut()));
  const onAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  try {
    return await new Promise<T>((resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
      fn(controller.signal).then(resolve, reject);
    });
  } finally {
    cancel?.();
    outer?.removeEventListener('abort', onAbort);
  }
}
