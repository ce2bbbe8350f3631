// When to read the backend again, and how old a shared read may be. Pure.
//
// A refresh is due in the last tenth of the interval after the last read (the refresh window,
// [lastRefresh + interval - window, lastRefresh + interval)), at a slot: slots are one window
// apart, at a phase hashed from the source (backend and paths). Resources of one source whose
// last reads fall in one window so refresh at the same instant and take one backend read between
// them: the first reads, the others are served that result (backends/guard.ts). A result is
// shared while it is younger than 80 % of the interval (at most 5 minutes), so a group at any
// later slot of the interval takes it too; a resource served a shared result counts from the time
// of that read and so moves to the slots of the resources it shared with: the groups of one source
// merge in one interval instead of staying apart. No data is ever older than the interval: the
// next refresh is counted from the time the data was read.
// Different sources get different phases, so resources created together, or an operator restart,
// do not become a refresh storm.
//
// A read that changes nothing writes nothing (no status churn: idle costs the apiserver no
// request). So status.lastRefreshTime records the last read that was written with news, and the
// operator remembers later reads in memory (lastRefreshAt). A new process knows only the status:
// a resource whose recorded read is older than the interval refreshes at its slot in the first
// window after the start, not all at once and never later than one interval after the start.
import { createHash } from 'node:crypto';
import type { VaultSecret } from '../../apis/v1alpha1/index.ts';
import { isTrue } from '../../kube/conditions.ts';
import { sourceKey, sourceRefs } from '../shared/source-refs.ts';
import { findEntries, findSourceKey } from './find.ts';

/** Refreshes are due in this last fraction of the interval, at slots this far apart. */
export const WINDOW_FRACTION = 0.1;
/** ...and never a longer window than this. */
export const MAX_WINDOW_MS = 150_000;
/** A read is shared while younger than this fraction of the interval... */
export const SHARE_FRACTION = 0.8;
/** ...and never longer than 5 minutes: values are not kept for hours. */
export const MAX_SHARE_MS = 5 * 60_000;
/** status.lastRefreshTime keeps whole seconds: a slot is looked for after the last read plus this. */
const STORED_PRECISION_MS = 1000;

/** The refresh window (and slot spacing): a tenth of the interval, at most 2.5 minutes. */
export function refreshWindow(intervalMs: number): number {
  return intervalMs > 0 ? Math.min(intervalMs * WINDOW_FRACTION, MAX_WINDOW_MS) : 0;
}

/**
 * How old a read result another resource took may be when it is served to this one: 80 % of the
 * interval (its next refresh, counted from that read, is then still ahead), at most five
 * minutes. A sync-once resource (interval 0) shares only concurrent reads.
 */
export function sharedReadWindow(intervalMs: number): number {
  return intervalMs > 0 ? Math.min(intervalMs * SHARE_FRACTION, MAX_SHARE_MS) : 0;
}

/** The source a resource refreshes from (backend, paths, finds): resources of one source share slots. */
export const refreshSource = (vs: VaultSecret): string =>
  [
    vs.spec.backend,
    ...sourceRefs(vs.spec).map(sourceKey).sort(),
    ...findEntries(vs.spec)
      .map(([, find]) => findSourceKey(find))
      .sort(),
  ].join('\u0000');

/** Where the slots of one source lie: a stable hash of it, in [0, refresh window). */
export function refreshPhase(source: string, intervalMs: number): number {
  const window = Math.round(refreshWindow(intervalMs));
  if (window <= 0) return 0;
  return createHash('sha256').update(source).digest().readUIntBE(0, 6) % window;
}

/**
 * The slot in the last window of the interval after the last refresh (the stored, truncated,
 * time): never sooner than interval − window after it, never later than the interval.
 */
export function nextRefreshAt(lastRefreshMs: number, intervalMs: number, phase: number): number {
  const window = refreshWindow(intervalMs);
  const from = lastRefreshMs + STORED_PRECISION_MS + intervalMs - window;
  return phase + Math.ceil((from - phase) / window) * window;
}

/** The user changed what is read: a result shared from before the change does not answer it. */
const SPEC_CHANGED = 'spec changed';

/** Whether a read for this reason must be fresh rather than a result shared with other resources. */
export const readsFresh = (reason: string | undefined): boolean => reason === SPEC_CHANGED;

/**
 * When the data was last read, for planning the next refresh: what this process remembers, else
 * what status recorded — but, for a process started at `startedMs`, no earlier than one that
 * puts the next slot in the first window after the start (a restart neither reads everything at
 * once nor lets a refresh wait longer than the interval). Undefined: never read.
 */
export function lastRefreshAt(
  recordedMs: number | undefined,
  rememberedMs: number | undefined,
  startedMs: number,
  intervalMs: number,
): number | undefined {
  if (rememberedMs !== undefined) return Math.max(rememberedMs, recordedMs ?? rememberedMs);
  if (recordedMs === undefined || Number.isNaN(recordedMs)) return undefined;
  if (intervalMs <= 0) return recordedMs;
  return Math.max(recordedMs, startedMs - intervalMs + refreshWindow(intervalMs));
}

/** Why the backend must be read now, or undefined when the last read (`lastRefreshMs`) is still good. */
export function refreshReason(
  vs: VaultSecret,
  lastRefreshMs: number | undefined,
  intervalMs: number,
  now: number,
  phase: number,
): string | undefined {
  const status = vs.status;
  if (lastRefreshMs === undefined) return 'never read';
  // No observedGeneration yet: this process read it, the informer has not brought the status
  // back — not a change of spec, and no reason to skip the read just shared (1 fresh read each).
  if (status?.observedGeneration === undefined) return 'status not seen yet';
  if (status.observedGeneration !== vs.metadata?.generation) return SPEC_CHANGED;
  if (!isTrue(status.conditions, 'Ready')) return 'not ready';
  if (intervalMs > 0 && now >= nextRefreshAt(lastRefreshMs, intervalMs, phase)) {
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
