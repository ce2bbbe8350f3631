// When a delivery is retried, and after how long. Pure; the random source is an argument.
import { exponentialDelay, type Random } from '../kube/backoff.ts';

export interface RetrySchedule {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * The wait after failed attempt `attempt` (1 for the first): initialDelay × 2^(attempt−1),
 * capped at maxDelay, then "equal jitter": uniform in [half of it, all of it]. Never below half
 * the initial delay (no hot loop), and receivers that failed together are not retried in step.
 */
export function retryDelay(attempt: number, schedule: RetrySchedule, random: Random): number {
  const cap = Math.max(schedule.initialDelayMs, schedule.maxDelayMs);
  const exp = exponentialDelay(Math.max(1, attempt), schedule.initialDelayMs, cap);
  return Math.floor(exp / 2 + random() * (exp / 2));
}

/** What an HTTP status means for the event: done, worth another attempt, or refused for good. */
export type StatusClass = 'delivered' | 'retry' | 'rejected';

/**
 * 2xx: delivered. 408, 425, 429 and 5xx: the receiver may take it later, so retry. Anything
 * else (redirects are not followed; 400, 401, 403, 404, 410, 413, ...) will not change by
 * sending the same bytes again: rejected, not retried.
 */
export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 425 || status === 429 || (status >= 500 && status < 600)) return 'retry';
  return 'rejected';
}

/** `Retry-After` (seconds or an HTTP date) in ms from `now`, capped; undefined when absent or invalid. */
export function retryAfterMs(header: string | undefined, now: number, capMs: number): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^[0-9]{1,10}$/.test(text)) ms = Number(text) * 1000;
  else {
    // An HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT".
    if (!/^[A-Za-z]{3}, /.test(text)) return undefined;
    const at = Date.parse(text);
    if (!Number.isFinite(at)) return undefined;
    ms = at - now;
  }
  return Math.min(capMs, Math.max(0, ms));
}
