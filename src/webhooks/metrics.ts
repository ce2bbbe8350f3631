// Delivery metrics (prom-client). Labels are bounded: receiver names come from the config,
// event types and outcomes from fixed lists. Every sink method is cheap and never throws.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LIFECYCLE_EVENTS } from '../config/schema.ts';

/**
 * The fate of one event at one receiver. delivered: a 2xx answer. rejected: a status retrying
 * cannot fix (4xx other than 408/425/429, 3xx). failed: maxAttempts used up. abandoned: the
 * operator stopped before it could be delivered. (Events dropped from a full queue are counted
 * by vaultsync_webhook_events_dropped_total.)
 */
export type DeliveryOutcome = 'delivered' | 'rejected' | 'failed' | 'abandoned';

/** One HTTP attempt: the status class, or why there was none. */
export type AttemptResult = '2xx' | '3xx' | '4xx' | '5xx' | 'timeout' | 'error';

export interface WebhookMetrics {
  /** Events waiting at a receiver, the one being delivered included. */
  queueDepth(receiver: string, depth: number): void;
  /** An event dropped because the receiver's queue was full (the oldest goes). */
  dropped(receiver: string, event: string): void;
  delivery(receiver: string, event: string, outcome: DeliveryOutcome): void;
  attempt(receiver: string, result: AttemptResult, seconds: number): void;
}

export const noopWebhookMetrics: WebhookMetrics = {
  queueDepth() {},
  dropped() {},
  delivery() {},
  attempt() {},
};

const OUTCOMES: readonly DeliveryOutcome[] = ['delivered', 'rejected', 'failed', 'abandoned'];
const RESULTS: readonly AttemptResult[] = ['2xx', '3xx', '4xx', '5xx', 'timeout', 'error'];
const EVENTS: ReadonlySet<string> = new Set(LIFECYCLE_EVENTS);
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Registers the webhook metrics; every series of the configured receivers starts at 0. */
export function createWebhookMetrics(registry: Registry, receivers: readonly string[]): WebhookMetrics {
  const deliveries = new Counter({
    name: 'vaultsync_webhook_deliveries_total',
    help: 'Lifecycle events by receiver, event type and final outcome (delivered, rejected, failed, abandoned).',
    labelNames: ['receiver', 'event', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'vaultsync_webhook_request_duration_seconds',
    help: 'Duration of webhook delivery attempts by receiver and result (status class, timeout or error).',
    labelNames: ['receiver', 'result'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const depth = new Gauge({
    name: 'vaultsync_webhook_queue_depth',
    help: 'Lifecycle events waiting for delivery per receiver (the one in flight included).',
    labelNames: ['receiver'],
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'vaultsync_webhook_events_dropped_total',
    help: "Lifecycle events dropped because the receiver's queue was full (the oldest are dropped).",
    labelNames: ['receiver', 'event'],
    registers: [registry],
  });
  for (const receiver of receivers) {
    depth.set({ receiver }, 0);
    for (const event of LIFECYCLE_EVENTS) {
      dropped.inc({ receiver, event }, 0);
      for (const outcome of OUTCOMES) deliveries.inc({ receiver, event, outcome }, 0);
    }
  }
  const event = (e: string) => (EVENTS.has(e) ? e : 'other');
  return {
    queueDepth(receiver, n) {
      depth.set({ receiver }, n);
    },
    dropped(receiver, e) {
      dropped.inc({ receiver, event: event(e) });
    },
    delivery(receiver, e, outcome) {
      deliveries.inc({ receiver, event: event(e), outcome: OUTCOMES.includes(outcome) ? outcome : 'failed' });
    },
    attempt(receiver, result, seconds) {
      duration.observe(
        { receiver, result: RESULTS.includes(result) ? result : 'error' },
        Math.max(0, seconds),
      );
    },
  };
}
