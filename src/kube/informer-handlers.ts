// What an informer hands its changes to: handlers that only enqueue keys, called so that a
// throw or a rejection is logged and never reaches the list/watch loop.
import type { KubernetesObject } from '@kubernetes/client-node';
import { toKubeError } from './errors.ts';
import { type Logger, safeLog } from './logger.ts';
import { keyOf } from './resources.ts';

export interface InformerHandlers<T> {
  add?(obj: T): unknown;
  update?(oldObj: T, newObj: T): unknown;
  delete?(obj: T): unknown;
}

type Kind = keyof InformerHandlers<unknown>;

/** The handlers registered on one informer. */
export class HandlerSet<T> {
  // Replaced, never changed in place: a handler removed during a dispatch does not disturb it.
  #handlers: readonly InformerHandlers<T>[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Adds handlers; returns a function that removes them. */
  add(handlers: InformerHandlers<T>): () => void {
    this.#handlers = [...this.#handlers, handlers];
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== handlers);
    };
  }

  /** Hands a change to every handler. */
  emit(kind: 'add' | 'delete', obj: T): void;
  emit(kind: 'update', old: T, obj: T): void;
  emit(kind: Kind, a: T, b?: T): void {
    for (const h of this.#handlers) this.call(h, kind, a, b);
  }

  /** Calls one handler; a throw or rejection is logged, never passed on. */
  call(h: InformerHandlers<T>, kind: Kind, a: T, b?: T): void {
    try {
      const out = kind === 'update' ? h.update?.(a, b!) : h[kind]?.(a);
      if (out && typeof (out as Promise<unknown>).then === 'function') {
        (out as Promise<unknown>).then(undefined, (err: unknown) => this.#failed(kind, err));
      }
    } catch (err) {
      this.#failed(kind, err);
    }
  }

  #failed(kind: string, err: unknown): void {
    safeLog(this.#log, 'error', 'Informer handler failed', {
      handler: kind,
      error: toKubeError(err).message,
    });
  }
}

/**
 * Is this update a resync's replay of the cache (the object did not change)? Watch events and
 * relists hand over an update only when the resourceVersion moved.
 */
export function isReplay<T extends KubernetesObject>(oldObj: T, newObj: T): boolean {
  if (oldObj === newObj) return true;
  const rv = oldObj.metadata?.resourceVersion;
  return rv !== undefined && rv === newObj.metadata?.resourceVersion;
}

/**
 * Handlers that enqueue the object's own key (or keys mapped from it, e.g. an owner's).
 * A replay (isReplay) goes to `onReplay` instead (default: `enqueue`), so a controller can keep
 * replays from bringing forward work it has already planned.
 */
export function enqueueHandlers<T extends KubernetesObject>(
  enqueue: (key: string) => void,
  keysFor: (obj: T) => string[] = (obj) => [keyOf(obj)],
  onReplay: (key: string) => void = enqueue,
): InformerHandlers<T> {
  const push = (to: (key: string) => void, ...objs: T[]) => {
    for (const key of new Set(objs.flatMap(keysFor))) to(key);
  };
  // Both sides of an update: a changed label or reference can move the object to other keys.
  return {
    add: (obj) => push(enqueue, obj),
    update: (old, obj) => (isReplay(old, obj) ? push(onReplay, obj) : push(enqueue, old, obj)),
    delete: (obj) => push(enqueue, obj),
  };
}
