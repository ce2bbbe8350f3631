// A list/watch informer: an in-memory cache of one resource (optionally one namespace, or a
// set of namespaces, and label/field selectors) kept current by a watch, with handlers that only
// enqueue keys.
//
// Built on client-node's Watch plus our own list rather than makeInformer/ListWatch, because
// that informer stops for good on any error but 410 and timeouts, runs handlers unguarded (a
// throw becomes an unhandled rejection), never relists, has no watchdog for a silently stalled
// watch, cannot take an injected clock, and never asks for bookmarks. Here:
// - every failure (list or watch) restarts the cycle after a jittered exponential backoff;
//   410 Gone relists at once; an ERROR event from the server relists after the backoff; a
//   clean close, a client timeout or a broken connection re-watches from the last version
//   (the server replays what we missed, or answers 410);
// - a relist (only after 410, an ERROR event or the watchdog) reconciles the cache with the
//   server: update for objects whose resourceVersion changed, delete for those gone, add for
//   new ones;
// - the periodic resync replays the cache, as client-go's and controller-runtime's do: an
//   update(obj, obj) for every cached object (isReplay tells it apart), so controllers re-check
//   their level, with no request to the server: idle, an informer sends nothing but watches;
// - every watch asks for bookmarks and a server-side timeoutSeconds. A healthy watch, however
//   quiet, therefore ends by itself: the server closes it at its timeout (usually after a
//   bookmark). A watch that shows no sign of life (no event, no bookmark, no close) for its
//   timeout plus a grace period is stuck on a dead connection: the watchdog relists (the
//   silent stalls of client-node issues #364, #958, #1933). Bookmarks are not guaranteed:
//   the API server sends one only when the resource's watch cache has moved past the
//   watch's version, so "no bookmark for a minute" alone is no sign of trouble;
// - hasSynced()/healthy()/status() feed /readyz.
import type { KubernetesObject } from '@kubernetes/client-node';
import { type BackoffOptions, type Random, defaultBackoff, jitter, nextDelay } from './backoff.ts';
import { type Cancel, type Clock, sleep, systemClock } from './clock.ts';
import { type KubeError, fromStatus, toKubeError } from './errors.ts';
import { HandlerSet, type InformerHandlers } from './informer-handlers.ts';
import { type InformerOptions, type InformerStatus, informerSource } from './informer-options.ts';
import type { ListWatchSource, WatchEvent } from './list-watch.ts';
import { type Logger, noopLogger, safeLog } from './logger.ts';
import { ObjectCache, stripBulkyMetadata } from './object-cache.ts';
import { type EndCause, type WatchEnd, judgeWatchEnd } from './watch-outcome.ts';

export class Informer<T extends KubernetesObject> {
  readonly name: string;
  readonly #source: ListWatchSource<T>;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #log: Logger;
  readonly #backoff: BackoffOptions;
  readonly #transform: (obj: T) => T;
  readonly #resyncMs: number;
  readonly #watchTimeoutS: number;
  readonly #graceMs: number;
  readonly #unhealthyAfterMs: number;

  readonly #cache = new ObjectCache<T>();
  readonly #handlers: HandlerSet<T>;
  #rv = '';
  #relistWanted = true;
  #synced = false;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #stopSignal = new AbortController();
  #cancelReplay: Cancel | undefined;
  #endWatch: ((end: EndCause) => void) | undefined;
  #watching = false;
  #lastEventAt: number | undefined;
  #lastSyncAt: number | undefined;
  #failures = 0;
  #lastDelay = 0;
  #lastError: KubeError | undefined;
  // 410s that arrived right after a fresh list; more than one in a row means back off.
  #quickGones = 0;
  #syncWaiters: (() => void)[] = [];

  constructor(opts: InformerOptions<T>) {
    this.name = opts.name ?? opts.resource.kind;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#log = (opts.logger ?? noopLogger).child({ informer: this.name });
    this.#backoff = { ...defaultBackoff, baseMs: 1000, capMs: 30_000, ...opts.backoff };
    this.#transform = opts.transform ?? stripBulkyMetadata;
    this.#resyncMs = opts.resyncIntervalMs ?? 10 * 60_000;
    this.#watchTimeoutS = opts.watchTimeoutSeconds ?? 300;
    this.#graceMs = opts.watchdogGraceMs ?? 60_000;
    this.#unhealthyAfterMs = opts.unhealthyAfterMs ?? 60_000;
    this.#source = informerSource(opts, this.#graceMs);
    this.#handlers = new HandlerSet<T>(this.#log);
  }

  /**
   * Registers handlers; they should only enqueue keys. Throws and rejections are caught and
   * logged. Handlers added after the first sync are replayed the current objects as adds.
   * Returns a function that removes them.
   */
  addHandlers(handlers: InformerHandlers<T>): () => void {
    const remove = this.#handlers.add(handlers);
    if (this.#synced) for (const obj of this.#cache.values()) this.#handlers.call(handlers, 'add', obj);
    return remove;
  }

  start(): void {
    if (this.#loop || this.#stopped) return;
    // #run handles its own errors; the catch only keeps a bug there from becoming an
    // unhandled rejection.
    this.#loop = this.#run().catch((err: unknown) =>
      safeLog(this.#log, 'error', 'Informer loop crashed', { error: toKubeError(err).message }),
    );
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#cancelReplay?.();
    this.#stopSignal.abort();
    this.#endWatch?.({ reason: 'stop' });
    await this.#loop;
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves after the first successful list (or when stopped). */
  waitForSync(): Promise<void> {
    if (this.#synced || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /**
   * Synced, running, and either watching now or heard from the server (event, list, accepted
   * watch) within unhealthyAfterMs: a reconnect or a short outage does not flip readiness.
   */
  healthy(): boolean {
    if (!this.#synced || this.#stopped) return false;
    if (this.#watching) return true;
    const last = this.#lastEventAt;
    return last !== undefined && this.#clock.now() - last < this.#unhealthyAfterMs;
  }

  lastEventTime(): Date | undefined {
    return this.#lastEventAt === undefined ? undefined : new Date(this.#lastEventAt);
  }

  status(): InformerStatus {
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    return {
      name: this.name,
      synced: this.#synced,
      healthy: this.healthy(),
      watching: this.#watching,
      objects: this.#cache.size,
      lastEventTime: iso(this.#lastEventAt),
      lastSyncTime: iso(this.#lastSyncAt),
      consecutiveFailures: this.#failures,
      lastError: this.#lastError?.message,
    };
  }

  // --- cache reads (objects are shared: do not mutate them) ---

  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.#cache.getByName(namespace, name);
  }

  has(key: string): boolean {
    return this.#cache.has(key);
  }

  keys(): string[] {
    return this.#cache.keys();
  }

  list(namespace?: string): T[] {
    return this.#cache.list(namespace);
  }

  listByLabels(match: Record<string, string>, namespace?: string): T[] {
    return this.#cache.listByLabels(match, namespace);
  }

  size(): number {
    return this.#cache.size;
  }

  // --- the list/watch cycle ---

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (this.#relistWanted || !this.#rv) await this.#relist();
        if (this.#stopped) break;
        const end = await this.#watchOnce();
        this.#afterWatch(end);
      } catch (err) {
        if (this.#stopped) break;
        await this.#backOff(err);
      }
    }
    this.#watching = false;
  }

  /** Decides what a finished watch means; throws to take the backoff path. */
  #afterWatch(end: WatchEnd): void {
    const verdict = judgeWatchEnd(end, this.#quickGones);
    this.#quickGones = verdict.quickGones;
    if (verdict.relist) this.#relistWanted = true;
    if (verdict.replacedStuck)
      safeLog(this.#log, 'warn', 'Replaced a stuck watch', { silentMs: end.durationMs });
    if (verdict.error) throw verdict.error;
  }

  async #backOff(err: unknown): Promise<void> {
    this.#failures++;
    const e = toKubeError(err);
    this.#lastError = e;
    if (e.code === 'Gone') this.#relistWanted = true;
    const delay = Math.max(
      nextDelay(this.#failures, this.#backoff, this.#random, this.#lastDelay),
      e.retryAfterMs ?? 0,
    );
    this.#lastDelay = delay;
    safeLog(this.#log, 'warn', 'List/watch failed; retrying', {
      error: e.message,
      failures: this.#failures,
      delayMs: delay,
    });
    await sleep(this.#clock, delay, this.#stopSignal.signal);
  }

  async #relist(): Promise<void> {
    const result = await this.#source.list(this.#stopSignal.signal);
    if (this.#stopped) return;
    const { added, updated, deleted } = this.#cache.replace(result.items.map((o) => this.#transform(o)));
    this.#rv = result.resourceVersion;
    this.#relistWanted = false;
    this.#lastSyncAt = this.#lastEventAt = this.#clock.now();
    this.#onProgress();
    const first = !this.#synced;
    this.#synced = true;
    for (const obj of added) this.#handlers.emit('add', obj);
    for (const [old, obj] of updated) this.#handlers.emit('update', old, obj);
    for (const obj of deleted) this.#handlers.emit('delete', obj);
    if (first) {
      safeLog(this.#log, 'info', 'Synced cache', { objects: this.#cache.size });
      for (const w of this.#syncWaiters.splice(0)) w();
      this.#scheduleReplay();
    } else if (added.length + updated.length + deleted.length > 0) {
      safeLog(this.#log, 'debug', 'Relist found changes', {
        added: added.length,
        updated: updated.length,
        deleted: deleted.length,
      });
    }
  }

  /** From the first sync on, every resync period (apart from relists and watches). */
  #scheduleReplay(): void {
    if (!(this.#resyncMs > 0) || this.#stopped) return;
    this.#cancelReplay = this.#clock.after(jitter(this.#resyncMs, 0.1, this.#random), () => {
      this.#cancelReplay = undefined;
      this.#replay();
      this.#scheduleReplay();
    });
  }

  /** Hands every cached object to the update handlers as update(obj, obj); asks the server nothing. */
  #replay(): void {
    if (this.#stopped) return;
    const objects = [...this.#cache.values()];
    for (const obj of objects) this.#handlers.emit('update', obj, obj);
    safeLog(this.#log, 'debug', 'Replayed cache', { objects: objects.length });
  }

  /** Runs one watch from the current version; resolves when it ends, however it ends. */
  #watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let finished = false;
      let connected = false;
      let events = 0;
      let handle: { abort(): void } | undefined;
      let cancelDog: Cancel | undefined;
      const started = this.#clock.now();

      const finish = (end: EndCause) => {
        if (finished) return;
        finished = true;
        cancelDog?.();
        this.#endWatch = undefined;
        this.#watching = false;
        try {
          handle?.abort();
        } catch {
          // Already closed.
        }
        resolve({ ...end, events, connected, durationMs: this.#clock.now() - started });
      };
      this.#endWatch = finish;

      // The server ends a healthy watch by timeoutSeconds; silence beyond that means stuck.
      const timeoutSeconds = this.#watchTimeoutS + Math.floor(this.#random() * this.#watchTimeoutS);
      const silentLimit = timeoutSeconds * 1000 + this.#graceMs;
      const checkSilence = () => {
        const idle = this.#clock.now() - Math.max(started, this.#lastEventAt ?? started);
        if (idle >= silentLimit) return finish({ reason: 'watchdog' });
        cancelDog = this.#clock.after(silentLimit - idle, checkSilence);
      };
      cancelDog = this.#clock.after(silentLimit, checkSilence);

      const onEvent = (e: WatchEvent<T>) => {
        if (finished) return; // a late line from a stream we already left
        events++;
        try {
          this.#onWatchEvent(e, finish);
        } catch (err) {
          finish({ err });
        }
      };
      this.#source
        .watch({ resourceVersion: this.#rv, timeoutSeconds }, onEvent, (err) =>
          finish({ err: err ?? undefined }),
        )
        .then((h) => {
          if (finished) {
            h.abort();
            return;
          }
          handle = h;
          connected = true;
          this.#watching = true;
          // The server accepted the watch: that is a sign of life too.
          this.#lastEventAt = this.#clock.now();
        })
        .catch((err: unknown) => finish({ err }));
    });
  }

  #onWatchEvent(e: WatchEvent<T>, finish: (end: EndCause) => void): void {
    this.#lastEventAt = this.#clock.now();
    if (e.type === 'ERROR') {
      // The server ended the watch with a Status (410, or its own failure): list afresh.
      this.#relistWanted = true;
      return finish({ err: fromStatus(e.object), serverError: true });
    }
    this.#quickGones = 0;
    const rv = e.object?.metadata?.resourceVersion;
    if (e.type === 'BOOKMARK') {
      if (rv) this.#rv = rv;
      this.#onProgress();
      return;
    }
    const obj = this.#transform(e.object);
    if (e.type === 'DELETED') {
      this.#cache.delete(obj);
      if (rv) this.#rv = rv;
      this.#onProgress();
      this.#handlers.emit('delete', obj);
      return;
    }
    const old = this.#cache.set(obj);
    if (rv) this.#rv = rv;
    this.#onProgress();
    if (!old) this.#handlers.emit('add', obj);
    else if (old.metadata?.resourceVersion !== rv) this.#handlers.emit('update', old, obj);
  }

  #onProgress(): void {
    this.#failures = 0;
    this.#lastDelay = 0;
  }
}
