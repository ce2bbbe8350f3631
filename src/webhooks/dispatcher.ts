// One receiver's delivery loop. `enqueue` is synchronous and O(1): it puts the event in a
// bounded ring buffer (a full buffer drops its oldest event, counted) and wakes the loop. The
// loop, in the background, sends one event at a time in order: each attempt signed afresh and
// bounded by the timeout; a retryable failure waits (exponential backoff with jitter, or the
// receiver's Retry-After) before the next attempt, up to maxAttempts. Nothing here ever waits
// on the caller's side, so a slow or dead receiver cannot slow a reconcile.
import { raceSignal } from '../kube/clock.ts';
import { type Clock, sleep } from '../kube/clock.ts';
import { type Logger, noopLogger, safeLog } from '../kube/logger.ts';
import {
  type AttemptResult,
  type DeliveryOutcome,
  type WebhookMetrics,
  noopWebhookMetrics,
} from './metrics.ts';
import { BoundedQueue } from './queue.ts';
import { type RetrySchedule, classifyStatus, retryAfterMs, retryDelay } from './retry.ts';
import { HEADERS, type SigningKey, signatureHeader } from './signature.ts';
import { type Transport, errorCode } from './transport.ts';

/** An event ready to send: its body is serialised once and shared by every receiver. */
export interface QueuedEvent {
  id: string;
  type: string;
  body: string;
}

export interface DispatcherOptions {
  /** Receiver name (metrics label, log field); the URL is never logged, it may hold a token. */
  name: string;
  url: string;
  queueSize: number;
  /** Per attempt: from sending the request to the response headers. */
  timeoutMs: number;
  maxAttempts: number;
  retry: RetrySchedule;
  /** The current signing key (re-read from its file now and then by the caller). */
  signingKey: () => SigningKey | Promise<SigningKey>;
  transport: Transport;
  clock: Clock;
  random?: () => number;
  metrics?: WebhookMetrics;
  logger?: Logger;
  userAgent?: string;
}

type AttemptOutcome =
  | { kind: 'delivered' }
  | { kind: 'rejected'; status: number }
  | { kind: 'retry'; result: AttemptResult; retryAfterMs?: number; detail: string }
  | { kind: 'aborted' };

/** Logs about drops are rate-limited to one per receiver per this interval. */
const DROP_LOG_INTERVAL_MS = 60_000;

export class ReceiverDispatcher {
  readonly name: string;
  readonly #o: DispatcherOptions;
  readonly #queue: BoundedQueue<QueuedEvent>;
  readonly #metrics: WebhookMetrics;
  readonly #log: Logger;
  readonly #random: () => number;
  /** Aborted by `close()` once the drain time is up: stops sleeps and in-flight attempts. */
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #inFlight: QueuedEvent | undefined;
  #closed = false;
  #failing = false;
  #dropsSinceLog = 0;
  #lastDropLog = -Infinity;
  #idleWaiters: (() => void)[] = [];

  constructor(opts: DispatcherOptions) {
    this.name = opts.name;
    this.#o = opts;
    this.#queue = new BoundedQueue(opts.queueSize);
    this.#metrics = opts.metrics ?? noopWebhookMetrics;
    this.#log = opts.logger ?? noopLogger;
    this.#random = opts.random ?? Math.random;
  }

  /** Events not yet delivered: waiting, plus the one in flight. */
  get depth(): number {
    return this.#queue.size + (this.#inFlight ? 1 : 0);
  }

  /** Queues the event and returns at once; never throws. No-op after `close()`. */
  enqueue(event: QueuedEvent): void {
    if (this.#closed) return;
    try {
      const dropped = this.#queue.push(event);
      if (dropped) this.#dropped(dropped);
      this.#gauge();
      this.#kick();
    } catch (err) {
      safeLog(this.#log, 'error', 'Failed to queue webhook event', {
        receiver: this.name,
        error: errorCode(err),
      });
    }
  }

  /** Resolves once nothing is waiting or in flight. */
  idle(): Promise<void> {
    if (!this.#loop && this.#queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Takes no more events, lets the loop deliver for up to `drainMs`, then stops it: the attempt
   * in flight is aborted and whatever is left is counted as abandoned.
   */
  async close(drainMs: number): Promise<void> {
    this.#closed = true;
    if (this.depth > 0) {
      let cancel = () => {};
      const deadline = new Promise<void>((resolve) => (cancel = this.#o.clock.after(drainMs, resolve)));
      await Promise.race([this.idle(), deadline]);
      cancel();
    }
    this.#stop.abort();
    await this.#loop;
    for (const w of this.#idleWaiters.splice(0)) w();
    const left = this.#queue.drain();
    for (const e of left) this.#metrics.delivery(this.name, e.type, 'abandoned');
    if (left.length > 0) {
      safeLog(this.#log, 'warn', 'Webhook events not delivered before shutdown', {
        receiver: this.name,
        events: left.length,
      });
    }
    this.#gauge();
  }

  // -------------------------------------------------------------------------------------------

  #kick(): void {
    if (this.#loop || this.#stop.signal.aborted) return;
    // Started on a later microtask: enqueue itself does no I/O and no signing.
    this.#loop = Promise.resolve()
      .then(() => this.#run())
      .catch((err: unknown) => {
        safeLog(this.#log, 'error', 'Webhook delivery loop failed', {
          receiver: this.name,
          error: errorCode(err),
        });
      })
      .finally(() => {
        this.#loop = undefined;
        if (this.#queue.size > 0 && !this.#stop.signal.aborted) this.#kick();
        else for (const w of this.#idleWaiters.splice(0)) w();
      });
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      const event = this.#queue.shift();
      if (!event) return;
      this.#inFlight = event;
      try {
        const outcome = await this.#deliver(event);
        this.#metrics.delivery(this.name, event.type, outcome);
      } finally {
        this.#inFlight = undefined;
        this.#gauge();
      }
    }
  }

  async #deliver(event: QueuedEvent): Promise<DeliveryOutcome> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(event, attempt);
      switch (outcome.kind) {
        case 'delivered':
          if (this.#failing) {
            this.#failing = false;
            safeLog(this.#log, 'info', 'Webhook receiver accepts deliveries again', { receiver: this.name });
          }
          return 'delivered';
        case 'aborted':
          return 'abandoned';
        case 'rejected':
          safeLog(this.#log, 'warn', 'Webhook receiver rejected an event; not retried', {
            receiver: this.name,
            eventId: event.id,
            event: event.type,
            status: outcome.status,
          });
          return 'rejected';
        case 'retry': {
          const fields = {
            receiver: this.name,
            eventId: event.id,
            event: event.type,
            attempt,
            error: outcome.detail,
          };
          if (!this.#failing) {
            this.#failing = true;
            safeLog(this.#log, 'warn', 'Webhook delivery failed; retrying with backoff', fields);
          } else {
            safeLog(this.#log, 'debug', 'Webhook delivery failed', fields);
          }
          if (attempt >= this.#o.maxAttempts) {
            safeLog(this.#log, 'warn', 'Webhook event given up after maxAttempts', fields);
            return 'failed';
          }
          const backoff = retryDelay(attempt, this.#o.retry, this.#random);
          await sleep(this.#o.clock, Math.max(backoff, outcome.retryAfterMs ?? 0), this.#stop.signal);
          if (this.#stop.signal.aborted) return 'abandoned';
        }
      }
    }
  }

  async #attempt(event: QueuedEvent, attempt: number): Promise<AttemptOutcome> {
    const clock = this.#o.clock;
    const started = clock.now();
    const controller = new AbortController();
    let timedOut = false;
    const onStop = () => controller.abort();
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    const cancelTimer = clock.after(this.#o.timeoutMs, () => {
      timedOut = true;
      controller.abort();
    });
    const observe = (result: AttemptResult) =>
      this.#metrics.attempt(this.name, result, (clock.now() - started) / 1000);
    try {
      const key = await this.#o.signingKey();
      const timestamp = Math.floor(clock.now() / 1000);
      // Raced with the signal: a transport that ignores it still cannot outlive the timeout.
      const response = await raceSignal(
        this.#o.transport({
          url: this.#o.url,
          body: event.body,
          signal: controller.signal,
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': this.#o.userAgent ?? 'vaultsync-webhooks',
            [HEADERS.eventId]: event.id,
            [HEADERS.event]: event.type,
            [HEADERS.timestamp]: String(timestamp),
            [HEADERS.signature]: signatureHeader(key, timestamp, event.body),
            [HEADERS.attempt]: String(attempt),
          },
        }),
        controller.signal,
      );
      const status = response.status;
      observe(`${Math.min(5, Math.max(1, Math.floor(status / 100)))}xx` as AttemptResult);
      const cls = classifyStatus(status);
      if (cls === 'delivered') return { kind: 'delivered' };
      if (cls === 'rejected') return { kind: 'rejected', status };
      const after = retryAfterMs(response.retryAfter, clock.now(), this.#o.retry.maxDelayMs);
      return {
        kind: 'retry',
        result: status >= 500 ? '5xx' : '4xx',
        detail: `HTTP ${status}`,
        ...(after !== undefined && { retryAfterMs: after }),
      };
    } catch (err) {
      if (this.#stop.signal.aborted && !timedOut) return { kind: 'aborted' };
      const result: AttemptResult = timedOut ? 'timeout' : 'error';
      observe(result);
      return {
        kind: 'retry',
        result,
        detail: timedOut ? `timeout after ${this.#o.timeoutMs}ms` : errorCode(err),
      };
    } finally {
      cancelTimer();
      this.#stop.signal.removeEventListener('abort', onStop);
    }
  }

  #dropped(event: QueuedEvent): void {
    this.#metrics.dropped(this.name, event.type);
    this.#dropsSinceLog++;
    const now = this.#o.clock.now();
    if (now - this.#lastDropLog >= DROP_LOG_INTERVAL_MS) {
      safeLog(this.#log, 'warn', 'Webhook queue full; dropped the oldest events', {
        receiver: this.name,
        dropped: this.#dropsSinceLog,
        queueSize: this.#o.queueSize,
      });
      this.#lastDropLog = now;
      this.#dropsSinceLog = 0;
    }
  }

  #gauge(): void {
    this.#metrics.queueDepth(this.name, this.depth);
  }
}
