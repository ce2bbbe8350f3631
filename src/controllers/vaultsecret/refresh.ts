// When to read the backend again, and how old a shared read may be. Pure.
//
// Every resource that reads the same source (backend and paths) with the same interval refreshes
// at the same instants — slots one interval apart, at a phase taken from a hash of the source —
// so all of them take one backend read per interval between them: the first to run reads, the
// others are served that result (it is at most the sharing window old, backends/guard.ts).
// Different sources get different phases spread over the interval, so resources created together,
// or an operator restart, do not become a refresh storm.
import { createHash } from 'node:crypto';
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import { isTrue } from '../../kube/conditions.ts';

/** A read result may be shared for this fraction of the refresh interval. */
export const SHARE_FRACTION = 0.1;
/** ...and never longer than this (a long interval must not keep values around for hours). */
export const MAX_SHARE_MS = 5 * 60_000;
/** status.lastRefreshTime keeps whole seconds: a slot is looked for after the stored time plus this. */
const STORED_PRECISION_MS = 1000;

/**
 * How old a read result another resource took may be when it is served to this one: a tenth of
 * the refresh interval, at most five minutes. A sync-once resource (interval 0) shares only
 * concurrent reads.
 */
export function sharedReadWindow(intervalMs: number): number {
  return intervalMs > 0 ? Math.min(intervalMs * SHARE_FRACTION, MAX_SHARE_MS) : 0;
}

/** Where in each interval the slots of one source lie: a stable hash of it, in [0, interval). */
export function refreshPhase(source: string, intervalMs: number): number {
  if (intervalMs <= 0) return 0;
  return createHash('sha256').update(source).digest().readUIntBE(0, 6) % Math.round(intervalMs);
}

/** The first slot after the last refresh (strictly after the stored, truncated, time). */
export function nextRefreshAt(lastRefreshMs: number, intervalMs: number, phase: number): number {
  const from = lastRefreshMs + STORED_PRECISION_MS;
  return phase + (Math.floor((from - phase) / intervalMs) + 1) * intervalMs;
}

/** Why the backend must be read now, or undefined when the last read is still good. */
export function refreshReason(
  vs: VaultSecret,
  intervalMs: number,
  now: number,
  phase: number,
): string | undefined {
  const status = vs.status;
  if (!status?.lastRefreshTime) return 'never read';
  if (status.observedGeneration !== vs.metadata?.generation) return 'spec changed';
  if (!isTrue(status.conditions, 'Ready')) return 'not ready';
  if (intervalMs > 0 && now >= nextRefreshAt(Date.parse(status.lastRefreshTime), intervalMs, phase)) {
    return 'refresh interval elapsed';
  }
  return undefined;
}

/** Milliseconds until the next slot; undefined with interval 0 (sync once). */
export function nextRefreshDelay(
  lastRefreshMs: number,
  intervalMs: number,
  now: number,
  phase: number,
): number | undefined {
  if (intervalMs <= 0) return undefined;
  return Math.max(0, nextRefreshAt(lastRefreshMs, intervalMs, phase) - now);
}
