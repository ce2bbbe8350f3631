// When to read the backend again. Pure. A refresh is due in the window
// [lastRefresh + 90% of the interval, lastRefresh + interval]; each resource is requeued at a
// random point of its window, so resources created together (or an operator restart) do not
// become a refresh storm.
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import { isTrue } from '../../kube/conditions.ts';

export const JITTER_FRACTION = 0.1;

/** Why the backend must be read now, or undefined when the last read is still good. */
export function refreshReason(vs: VaultSecret, intervalMs: number, now: number): string | undefined {
  const status = vs.status;
  if (!status?.lastRefreshTime) return 'never read';
  if (status.observedGeneration !== vs.metadata?.generation) return 'spec changed';
  if (!isTrue(status.conditions, 'Ready')) return 'not ready';
  if (intervalMs > 0 && now >= Date.parse(status.lastRefreshTime) + intervalMs * (1 - JITTER_FRACTION)) {
    return 'refresh interval elapsed';
  }
  return undefined;
}

/** Milliseconds until the next planned refresh; undefined with interval 0 (sync once). */
export function nextRefreshDelay(
  lastRefreshMs: number,
  intervalMs: number,
  now: number,
  random: () => number,
): number | undefined {
  if (intervalMs <= 0) return undefined;
  const due = lastRefreshMs + intervalMs * (1 - JITTER_FRACTION * random());
  return Math.max(0, due - now);
}
