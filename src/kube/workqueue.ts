// A work queue of object keys ("namespace/name") with client-go semantics:
// - a key waits in the queue at most once (duplicates are dropped);
// - a key is never handed to two workers at once: a key added while it is being processed is
//   remembered and queued again when done() is called;
// - delayed adds share ONE timer, armed for the earliest entry of a min-heap;
// - rate-limited adds wait for a per-key backoff that forget() resets;
// - two priorities: 'high' keys (new objects, changes, never synced) are served before 'low'
//   keys (planned refreshes), so a burst of refreshes cannot delay a user's new resource.
import { type Cancel, type Clock, systemClock } from './clock.ts';
import { KeyedBackoff, type RateLimiter } from './backoff.ts';
import { Fifo, MinHeap } from './collections.ts';
import { guarded, noopWorkqueueMetrics, type WorkqueueMetrics } from './metrics.ts';

export type Priority = 'high' | 'low';

export interface AddOptions {
  /** Default 'high'. A key added with both priorities keeps the higher one. */
  priority?: Priority;
}

export interface RateLimitedOptions extends AddOptions {
  /** Wait at least this long (a server's Retry-After) even if the backoff is shorter. */
  minDelayMs?: number;
}

export interface WorkQueueOptions {
  clock?: Clock;
  rateLimiter?: RateLimiter;
  metrics?: WorkqueueMetrics;
}

interface Delayed {
  due: number;
  priority: Priority;
  seq: number;
}

interface HeapEntry {
  due: number;
  seq: number;
  key: string;
}

const higher = (a: Priority, b: Priority | undefined): Priority =>
  a === 'high' || b === 'high' ? 'high' : 'low';

export class WorkQueue {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  readonly #metrics: WorkqueueMetrics;

  // Keys waiting for a worker, with the priority they wait at and since when.
  readonly #queued = new Map<string, { priority: Priority; since: number }>();
  // FIFOs per priority. They may hold stale entries (a key upgraded from low to high keeps
  // its old low entry); #queued is the truth and stale entries are skipped when popped.
  readonly #high = new Fifo<string>();
  readonly #low = new Fifo<string>();
  // Keys a worker holds, with the time it took them.
  readonly #processing = new Map<string, number>();
  // Keys added while being processed: queued again by done().
  readonly #dirtyWhileProcessing = new Map<string, Priority>();

  // Delayed adds: the earliest due time per key, and a heap ordered by due time. Heap entries
  // whose seq no longer matches #delayed are stale and skipped.
  readonly #delayed = new Map<string, Delayed>();
  readonly #heap = new MinHeap<HeapEntry>((a, b) => a.due < b.due || (a.due === b.due && a.seq < b.seq));
  #seq = 0;
  #timerDue: number | undefined;
  #cancelTimer: Cancel | undefined;

  #waiters: ((key: string | undefined) => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#limiter = opts.rateLimiter ?? new KeyedBackoff();
    this.#metrics = guarded(opts.metrics ?? noopWorkqueueMetrics);
  }

  /** Queues `key` unless it already waits; if a worker holds it, queues it again after done(). */
  add(key: string, opts: AddOptions = {}): void {
    if (this.#shuttingDown) return;
    const priority = opts.priority ?? 'high';
    if (this.#processing.has(key)) {
      this.#dirtyWhileProcessing.set(key, higher(priority, this.#dirtyWhileProcessing.get(key)));
      return;
    }
    const waiting = this.#queued.get(key);
    if (waiting) {
      if (priority === 'high' && waiting.priority === 'low') {
        waiting.priority = 'high';
        this.#high.push(key);
        this.#wake();
      }
      return;
    }
    this.#enqueue(key, priority);
  }

  /**
   * Adds `key` only if nothing is pending for it: not waiting, not held by a worker, no delayed
   * add. For an informer's cache replay, which re-checks level without bringing forward a
   * refresh or a retry already planned.
   */
  addUnlessPending(key: string, opts: AddOptions = {}): void {
    if (this.#queued.has(key) || this.#processing.has(key) || this.#delayed.has(key)) return;
    this.add(key, opts);
  }

  /**
   * Adds `key` after `delayMs`. If the key already has a pending delayed add, the earlier due
   * time (and the higher priority) wins. A delay of 0 or less adds at once.
   */
  addAfter(key: string, delayMs: number, opts: AddOptions = {}): void {
    if (this.#shuttingDown) return;
    const priority = opts.priority ?? 'high';
    if (!(delayMs > 0)) return this.add(key, { priority });
    const due = this.#clock.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing && existing.due <= due) {
      existing.priority = higher(priority, existing.priority);
      return;
    }
    const seq = this.#seq++;
    this.#delayed.set(key, { due, priority: higher(priority, existing?.priority), seq });
    this.#heap.push({ due, seq, key });
    this.#arm();
  }

  /** Adds `key` after its next per-key backoff delay (the failure count grows by one). */
  addRateLimited(key: string, opts: RateLimitedOptions = {}): void {
    if (this.#shuttingDown) return;
    this.#metrics.retry();
    const delay = Math.max(this.#limiter.when(key), opts.minDelayMs ?? 0);
    this.addAfter(key, delay, { priority: opts.priority });
  }

  /** Resets the per-key backoff of `key` (call after a successful reconcile). */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  /** Consecutive rate-limited adds since the last forget(). */
  numRequeues(key: string): number {
    return this.#limiter.failures(key);
  }

  /** Waits for the next key; resolves undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Releases a key taken by get(); a key added meanwhile goes back into the queue now. */
  done(key: string): void {
    const since = this.#processing.get(key);
    if (since === undefined) return;
    this.#processing.delete(key);
    this.#metrics.workDuration((this.#clock.now() - since) / 1000);
    const again = this.#dirtyWhileProcessing.get(key);
    if (again) {
      this.#dirtyWhileProcessing.delete(key);
      if (!this.#shuttingDown) this.#enqueue(key, again);
    }
    if (this.#processing.size === 0) this.#resolveDrain();
  }

  /** Keys waiting for a worker (not counting delayed keys or keys being processed). */
  len(): number {
    return this.#queued.size;
  }

  /** Keys scheduled by addAfter/addRateLimited and not yet due. */
  delayedLen(): number {
    return this.#delayed.size;
  }

  /** Keys currently held by workers. */
  processingLen(): number {
    return this.#processing.size;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Stops the queue: adds are ignored, waiting and delayed keys are dropped (a new leader or
   * process relists and re-enqueues everything), and pending get() calls resolve undefined.
   * Keys already taken can still be done(); drain() waits for them.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerDue = undefined;
    this.#heap.clear();
    this.#delayed.clear();
    this.#queued.clear();
    this.#high.clear();
    this.#low.clear();
    this.#dirtyWhileProcessing.clear();
    this.#metrics.depth(0);
    for (const w of this.#waiters.splice(0)) w(undefined);
    if (this.#processing.size === 0) this.#resolveDrain();
  }

  /** Resolves once no key is being processed (after shutDown(), once in-flight work is done). */
  drain(): Promise<void> {
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #enqueue(key: string, priority: Priority): void {
    this.#queued.set(key, { priority, since: this.#clock.now() });
    (priority === 'high' ? this.#high : this.#low).push(key);
    this.#metrics.add();
    this.#metrics.depth(this.#queued.size);
    this.#wake();
  }

  #take(): string | undefined {
    const key = this.#popValid(this.#high, 'high') ?? this.#popValid(this.#low, 'low');
    if (key === undefined) return undefined;
    const waited = this.#queued.get(key)!;
    this.#queued.delete(key);
    const now = this.#clock.now();
    this.#processing.set(key, now);
    this.#metrics.depth(this.#queued.size);
    this.#metrics.queueLatency((now - waited.since) / 1000);
    return key;
  }

  #popValid(fifo: Fifo<string>, priority: Priority): string | undefined {
    for (let key = fifo.shift(); key !== undefined; key = fifo.shift()) {
      if (this.#queued.get(key)?.priority === priority) return key;
    }
    return undefined;
  }

  #wake(): void {
    while (this.#waiters.length > 0) {
      const key = this.#take();
      if (key === undefined) return;
      this.#waiters.shift()!(key);
    }
  }

  #resolveDrain(): void {
    for (const d of this.#drainWaiters.splice(0)) d();
  }

  // Keeps exactly one timer, due at the earliest live heap entry.
  #arm(): void {
    const top = this.#liveTop();
    if (!top) {
      this.#cancelTimer?.();
      this.#cancelTimer = undefined;
      this.#timerDue = undefined;
      return;
    }
    if (this.#timerDue === top.due) return;
    this.#cancelTimer?.();
    this.#timerDue = top.due;
    this.#cancelTimer = this.#clock.after(top.due - this.#clock.now(), () => this.#fire());
  }

  #fire(): void {
    this.#timerDue = undefined;
    this.#cancelTimer = undefined;
    const now = this.#clock.now();
    for (let top = this.#liveTop(); top && top.due <= now; top = this.#liveTop()) {
      this.#heap.pop();
      const entry = this.#delayed.get(top.key)!;
      this.#delayed.delete(top.key);
      this.add(top.key, { priority: entry.priority });
    }
    if (!this.#shuttingDown) this.#arm();
  }

  #liveTop(): HeapEntry | undefined {
    for (let top = this.#heap.peek(); top; top = this.#heap.peek()) {
      if (this.#delayed.get(top.key)?.seq === top.seq) return top;
      this.#heap.pop();
    }
    return undefined;
  }
}
