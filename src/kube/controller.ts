// A controller: N workers taking keys from a WorkQueue and running a level-triggered
// reconcile for each (controller-runtime's model). The reconcile sees only the key; its result
// decides what happens next:
//   resolves void            → success: backoff forgotten
//   resolves {requeueAfter}  → success, and come back after that many ms (low priority)
//   throws TerminalError     → logged and counted, not retried (a user fault: the reconcile
//                              reports it in status; a change to the object enqueues it again)
//   throws anything else     → retried with per-key backoff (honouring a Retry-After hint)
// Nothing a reconcile, logger or metrics sink does can crash the process.
import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from './clock.ts';
import { KubeError, capMessage, toKubeError } from './errors.ts';
import { isNotLeader } from './fence.ts';
import { type Logger, noopLogger, safeLog } from './logger.ts';
import {
  type ControllerMetrics,
  type ReconcileResultLabel,
  guarded,
  noopControllerMetrics,
} from './metrics.ts';
import { splitKey } from './resources.ts';
import { type AddOptions, type Priority, WorkQueue } from './workqueue.ts';

/**
 * A failure that retrying cannot fix (bad spec, forbidden path): no retry. Errors from other
 * modules can opt in without importing this class by carrying `terminal: true`.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  readonly terminal = true;
  /** CamelCase reason for conditions and events. */
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * A transient failure with a server-provided delay (429 / Retry-After) before the next try. With
 * `countsAsFailure: false` it is only a wait (a backend's circuit is open: its breaker paces the
 * retries): the key comes back after the delay and its backoff neither grows nor resets.
 */
export class RetryAfterError extends Error {
  override readonly name = 'RetryAfterError';
  readonly retryAfterMs: number;
  readonly countsAsFailure: boolean;

  constructor(message: string, retryAfterMs: number, options: { countsAsFailure?: boolean } = {}) {
    super(message);
    this.retryAfterMs = retryAfterMs;
    this.countsAsFailure = options.countsAsFailure ?? true;
  }
}

export interface ReconcileContext {
  key: string;
  namespace: string;
  name: string;
  /** Unique per run; in every log line of this run. */
  reconcileId: string;
  /** Failures since the last success (0 on a first try). */
  retries: number;
  /** Aborted when the controller stops and its grace period ends, or at once by abort(). */
  signal: AbortSignal;
  /** A child logger with controller, namespace, name and reconcileId. */
  log: Logger;
}

export type ReconcileResult = { requeueAfter?: number } | void;

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult>;

export interface ControllerOptions {
  /** Bounded label value: "vaultsecret", "reload", ... */
  name: string;
  reconcile: Reconciler;
  /** Concurrent reconciles (distinct keys); default 2. */
  workers?: number;
  queue?: WorkQueue;
  clock?: Clock;
  logger?: Logger;
  metrics?: ControllerMetrics;
  /** How long stop() waits for in-flight reconciles; default 30 s. */
  shutdownTimeoutMs?: number;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #reconcile: Reconciler;
  readonly #workers: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #shutdownTimeoutMs: number;
  readonly #abort = new AbortController();
  // Keys that reconciled successfully at least once: their retries are low priority, so
  // objects that were never synced are served first.
  readonly #synced = new Set<string>();
  #running: Promise<void>[] = [];
  #active = 0;
  /** A fenced write was refused (leadership lost): said once, the process is standing down. */
  #stoodDown = false;
  #state: 'new' | 'running' | 'stopped' = 'new';

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.#reconcile = opts.reconcile;
    this.#workers = Math.max(1, opts.workers ?? 2);
    this.#clock = opts.clock ?? systemClock;
    this.queue = opts.queue ?? new WorkQueue({ clock: this.#clock });
    this.#log = (opts.logger ?? noopLogger).child({ controller: opts.name });
    this.#metrics = guarded(opts.metrics ?? noopControllerMetrics);
    this.#shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 30_000;
  }

  /**
   * Queues a key (what informer handlers call). Works before start(): a standby replica
   * keeps its queue filled and deduplicated, so it starts work at once when it leads.
   */
  enqueue(key: string, opts: AddOptions = {}): void {
    this.queue.add(key, opts);
  }

  /** Queues a key after a delay (planned refreshes: low priority unless told otherwise). */
  enqueueAfter(key: string, delayMs: number, opts: AddOptions = { priority: 'low' }): void {
    this.queue.addAfter(key, delayMs, opts);
  }

  /** Drops bookkeeping for a key whose object is gone (call from the informer's delete handler). */
  forgetKey(key: string): void {
    this.#synced.delete(key);
    this.queue.forget(key);
  }

  isRunning(): boolean {
    return this.#state === 'running';
  }

  /** Starts the workers. A controller runs once: after stop(), build a new one. */
  start(): void {
    if (this.#state !== 'new') throw new Error(`controller ${this.name} was already started`);
    this.#state = 'running';
    for (let i = 0; i < this.#workers; i++) {
      this.#running.push(
        this.#worker().catch((err: unknown) =>
          safeLog(this.#log, 'error', 'Worker crashed', { error: toKubeError(err).message }),
        ),
      );
    }
    safeLog(this.#log, 'info', 'Started workers', { workers: this.#workers });
  }

  /**
   * Leadership lost: takes no further key and aborts the signal of every reconcile in flight
   * now, without waiting for the shutdown grace. Follow with stop().
   */
  abort(reason?: unknown): void {
    this.queue.shutDown();
    this.#abort.abort(reason);
  }

  /**
   * Stops taking keys and waits up to the shutdown timeout (or `graceMs`) for in-flight
   * reconciles; then aborts their signal and returns (a reconcile that ignores the signal is
   * abandoned).
   */
  async stop(graceMs = this.#shutdownTimeoutMs): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.queue.shutDown();
    let cancel = () => {};
    const timedOut = new Promise<boolean>((resolve) => {
      cancel = this.#clock.after(graceMs, () => resolve(true));
    });
    const finished = Promise.all(this.#running).then(() => false);
    const late = await Promise.race([finished, timedOut]);
    cancel();
    if (late) {
      safeLog(this.#log, 'warn', 'Stopped with reconciles still running', { inFlight: this.#active });
    } else {
      safeLog(this.#log, 'info', 'Stopped workers');
    }
    this.#abort.abort();
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#process(key);
      } catch {
        // #process handles everything; this only guards against a bug there.
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #process(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const reconcileId = randomUUID();
    const log = safeChild(this.#log, { namespace, name, reconcileId });
    const retries = this.queue.numRequeues(key);
    const started = this.#clock.now();
    this.#metrics.activeWorkers(++this.#active);
    let result: ReconcileResultLabel | undefined;
    try {
      const ctx: ReconcileContext = {
        key,
        namespace,
        name,
        reconcileId,
        retries,
        signal: this.#abort.signal,
        log,
      };
      // Promise.resolve().then() also catches a reconcile that throws synchronously.
      const out = await Promise.resolve().then(() => this.#reconcile(key, ctx));
      result = this.#onSuccess(key, out);
    } catch (err) {
      result = this.#onError(key, err, log);
    } finally {
      this.#metrics.activeWorkers(--this.#active);
    }
    if (result) this.#metrics.reconcileTotal(result);
    this.#metrics.reconcileDuration((this.#clock.now() - started) / 1000);
  }

  #onSuccess(key: string, out: ReconcileResult): ReconcileResultLabel {
    this.queue.forget(key);
    this.#synced.add(key);
    const after = out && typeof out === 'object' ? out.requeueAfter : undefined;
    if (after !== undefined && after > 0 && Number.isFinite(after)) {
      this.queue.addAfter(key, after, { priority: 'low' });
      return 'requeue_after';
    }
    return 'success';
  }

  /** The result to count, undefined for none: a replica standing down has not failed. */
  #onError(key: string, err: unknown, log: Logger): ReconcileResultLabel | undefined {
    if (isNotLeader(err)) {
      // Expected when leadership is lost: the process exits for a fresh replica. Not retried.
      this.queue.forget(key);
      safeLog(log, this.#stoodDown ? 'debug' : 'info', 'Stood down: not the leader', {
        error: describe(err),
      });
      this.#stoodDown = true;
      return undefined;
    }
    if (isTerminal(err)) {
      this.queue.forget(key);
      safeLog(log, 'error', 'Reconcile failed permanently', { reason: err.reason, error: describe(err) });
      return 'terminal_error';
    }
    const priority: Priority = this.#synced.has(key) ? 'low' : 'high';
    const hint = retryHint(err);
    if (err instanceof RetryAfterError && !err.countsAsFailure) {
      // A wait, not this key's failure: back at the given time, its backoff left as it was.
      this.queue.addAfter(key, err.retryAfterMs, { priority });
    } else {
      // A server-provided delay (429 / Retry-After) is a floor; the failure still counts.
      this.queue.addRateLimited(key, { priority, minDelayMs: hint });
    }
    safeLog(log, 'error', 'Reconcile failed; will retry', {
      error: describe(err),
      retries: this.queue.numRequeues(key),
      retryAfterMs: hint,
    });
    return 'error';
  }
}

function isTerminal(err: unknown): err is Error & { reason?: string } {
  return (
    err instanceof TerminalError ||
    (err instanceof Error && (err as { terminal?: unknown }).terminal === true)
  );
}

/** A server-provided retry delay, if the error carries one. */
function retryHint(err: unknown): number | undefined {
  if (err instanceof RetryAfterError) return err.retryAfterMs;
  const ms = (err as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof ms === 'number' && ms > 0 ? ms : undefined;
}

/**
 * What a log line may say about an error. Errors from client-node (ApiException, whose message
 * embeds the raw body and headers) go through toKubeError; other errors are expected to be
 * cleaned at their own boundary (backends/) and are only capped here.
 */
function describe(err: unknown): string {
  if (err instanceof KubeError || looksLikeApiException(err) || !(err instanceof Error))
    return toKubeError(err).message;
  return `${err.name}: ${capMessage(err.message)}`;
}

function looksLikeApiException(err: unknown): boolean {
  return !!err && typeof err === 'object' && 'body' in err && 'headers' in err;
}

function safeChild(log: Logger, fields: Record<string, unknown>): Logger {
  try {
    return log.child(fields);
  } catch {
    return noopLogger;
  }
}
