// The resourceVersions this process just wrote, so the informer's echo of its own write wakes
// no reconcile: the reconcile that wrote it already acted on everything the echo says, and one
// woken by it would run against a cache that does not yet hold the status it wrote (a second,
// wasted reconcile per object, and the stale read issue 17's history fix had to cover).
// An entry lives until the next event for its object (echo or not), so the map holds only
// writes whose events are still on the way.
import type { KubernetesObject } from '@kubernetes/client-node';
import { type InformerHandlers, isReplay } from './informer-handlers.ts';
import { keyOf } from './resources.ts';

export class OwnWrites {
  readonly #versions = new Map<string, string>();

  /** This process wrote `key` and the apiserver answered with `resourceVersion`. */
  record(key: string, resourceVersion: string | undefined): void {
    if (resourceVersion) this.#versions.set(key, resourceVersion);
  }

  /** Whether an add or update event of `key` at `resourceVersion` is the echo of our own write. */
  isEcho(key: string, resourceVersion: string | undefined): boolean {
    const written = this.#versions.get(key);
    if (written === undefined) return false;
    this.#versions.delete(key);
    return written === resourceVersion;
  }

  forget(key: string): void {
    this.#versions.delete(key);
  }

  get size(): number {
    return this.#versions.size;
  }
}

/** `handlers` with the echoes of `writes` dropped (deletions always go through). */
export function skippingEchoes<T extends KubernetesObject>(
  handlers: InformerHandlers<T>,
  writes: OwnWrites,
): InformerHandlers<T> {
  const echo = (obj: T) => writes.isEcho(keyOf(obj), obj.metadata?.resourceVersion);
  return {
    add: (obj) => (echo(obj) ? undefined : handlers.add?.(obj)),
    update: (old, obj) => (!isReplay(old, obj) && echo(obj) ? undefined : handlers.update?.(old, obj)),
    delete: (obj) => {
      writes.forget(keyOf(obj));
      return handlers.delete?.(obj);
    },
  };
}
