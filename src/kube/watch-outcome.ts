// What a finished watch means for the informer's next step: watch again from its version,
// list again first, or back off like any failure.
import { KubeError, toKubeError } from './errors.ts';

export type WatchEndReason = 'watchdog' | 'stop';

/** How a watch ended, as the informer saw it. */
export interface WatchEnd {
  err?: unknown;
  /** The server ended the watch with an ERROR event (err is its Status). */
  serverError?: boolean;
  reason?: WatchEndReason;
  /** Events received (bookmarks included). */
  events: number;
  /** The server accepted the watch (HTTP 200). */
  connected: boolean;
  durationMs: number;
}

/** What ends a watch; the rest of `WatchEnd` is counted by the watch itself. */
export type EndCause = Pick<WatchEnd, 'err' | 'serverError' | 'reason'>;

/** A watch shorter than this that brought nothing counts as a failure (no hot reconnect loop). */
const MIN_USEFUL_WATCH_MS = 1000;

export interface WatchVerdict {
  /** List again before the next watch (false: leave the informer's wish as it is). */
  readonly relist: boolean;
  /** 410s that arrived right after a fresh list, counting this one. */
  readonly quickGones: number;
  /** An accepted watch went silent and is replaced at once (worth a warning). */
  readonly replacedStuck: boolean;
  /** Back off with this error before the next cycle. */
  readonly error?: KubeError;
}

/**
 * Decides what a finished watch means. `quickGones`: the 410s in a row so far that came right
 * after a list; more than one in a row means back off.
 */
export function judgeWatchEnd(end: WatchEnd, quickGones: number): WatchVerdict {
  const verdict = { relist: false, quickGones, replacedStuck: false };
  if (end.reason === 'stop') return verdict;
  if (end.reason === 'watchdog') {
    // At most once per watch timeout, so no hot loop: an accepted watch that went silent
    // (a dead connection) is replaced at once; one that never connected backs off. Either
    // way the cache is listed again: something between us and the server is wrong, and a
    // relist this rare is the safety net the periodic relist used to be.
    if (end.connected) return { ...verdict, relist: true, replacedStuck: true };
    const error = new KubeError({
      code: 'Timeout',
      status: 0,
      reason: 'WatchStuck',
      message: `Timeout: watch not established after ${end.durationMs} ms`,
    });
    return { ...verdict, relist: true, error };
  }
  if (end.err !== undefined && end.err !== null) {
    const e = toKubeError(end.err);
    // Our version is too old for the watch cache: list again, no need to wait (unless it
    // keeps happening right after a list: then back off like any failure).
    if (e.code === 'Gone') {
      const gones = end.durationMs < MIN_USEFUL_WATCH_MS ? quickGones + 1 : 0;
      return { ...verdict, relist: true, quickGones: gones, error: gones > 1 ? e : undefined };
    }
    // client-node's inactivity timer on an accepted watch: the server is fine, watch again.
    if (e.code === 'Timeout' && end.connected && !end.serverError) return verdict;
    return { ...verdict, error: e };
  }
  // A clean close, normally at the end of timeoutSeconds: watch again from our version.
  // One that brought nothing and lasted no time (a proxy dropping streams) is a failure.
  if (end.events === 0 && end.durationMs < MIN_USEFUL_WATCH_MS) {
    const error = new KubeError({
      code: 'Unavailable',
      status: 0,
      reason: 'WatchClosed',
      message: 'Unavailable: watch closed at once',
    });
    return { ...verdict, error };
  }
  return verdict;
}
