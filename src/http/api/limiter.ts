// A fixed-window request counter per key (a caller, a source address), the rule
// @fastify/rate-limit's local store applies, shared by the HTTPS and gRPC transports so a
// caller's budget is one budget whichever way it calls. Keys are kept in an LRU: a flood of
// new keys evicts old ones rather than growing memory.
import { LRUCache } from 'lru-cache';

export interface LimitVerdict {
  readonly allowed: boolean;
  readonly max: number;
  readonly windowMs: number;
  /** Until the window ends (ms). */
  readonly resetMs: number;
}

export type Limiter = (key: string) => LimitVerdict;

export function windowLimiter(max: number, windowMs: number, now: () => number = Date.now): Limiter {
  const windows = new LRUCache<string, { start: number; count: number }>({ max: 10_000 });
  return (key) => {
    const t = now();
    let w = windows.get(key);
    if (!w || w.start + windowMs <= t) {
      w = { start: t, count: 0 };
      windows.set(key, w);
    }
    w.count += 1;
    return { allowed: w.count <= max, max, windowMs, resetMs: w.start + windowMs - t };
  };
}
