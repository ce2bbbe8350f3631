// The informer's store: objects by key, read by key, namespace or labels, and replaced
// wholesale by a relist (which reports what changed). Objects are shared: do not mutate them.
import type { KubernetesObject } from '@kubernetes/client-node';
import { keyFor, keyOf } from './resources.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The default informer transform: drops metadata.managedFields and kubectl's
 * last-applied-configuration annotation (memory; for Secrets that annotation would hold the
 * data a second time).
 */
export function stripBulkyMetadata<T extends KubernetesObject>(obj: T): T {
  const meta = obj.metadata;
  if (!meta || (!meta.managedFields && !meta.annotations?.[LAST_APPLIED])) return obj;
  const { managedFields: _drop, ...rest } = meta;
  const copy = { ...rest };
  if (copy.annotations?.[LAST_APPLIED]) {
    const { [LAST_APPLIED]: _omit, ...annotations } = copy.annotations;
    copy.annotations = annotations;
  }
  return { ...obj, metadata: copy };
}

/** Does `obj` carry every label in `match`? */
export function matchesLabels(obj: KubernetesObject, match: Record<string, string>): boolean {
  const labels = obj.metadata?.labels ?? {};
  return Object.entries(match).every(([k, v]) => labels[k] === v);
}

export interface SnapshotDiff<T> {
  added: T[];
  updated: [old: T, current: T][];
  deleted: T[];
}

/** What replacing `current` by `fresh` changes; same resourceVersion means unchanged. */
export function diffSnapshot<T extends KubernetesObject>(
  current: ReadonlyMap<string, T>,
  fresh: ReadonlyMap<string, T>,
): SnapshotDiff<T> {
  const diff: SnapshotDiff<T> = { added: [], updated: [], deleted: [] };
  for (const [key, obj] of fresh) {
    const old = current.get(key);
    if (!old) diff.added.push(obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) diff.updated.push([old, obj]);
  }
  for (const [key, old] of current) if (!fresh.has(key)) diff.deleted.push(old);
  return diff;
}

export class ObjectCache<T extends KubernetesObject> {
  #objects = new Map<string, T>();

  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  getByName(namespace: string | undefined, name: string): T | undefined {
    return this.#objects.get(keyFor(namespace, name));
  }

  has(key: string): boolean {
    return this.#objects.has(key);
  }

  keys(): string[] {
    return [...this.#objects.keys()];
  }

  values(): IterableIterator<T> {
    return this.#objects.values();
  }

  /** All objects, or those of one namespace ("" for cluster-scoped ones). */
  list(namespace?: string): T[] {
    const all = [...this.#objects.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata?.namespace ?? '') === namespace);
  }

  listByLabels(match: Record<string, string>, namespace?: string): T[] {
    return this.list(namespace).filter((o) => matchesLabels(o, match));
  }

  get size(): number {
    return this.#objects.size;
  }

  /** Stores `obj`; returns the object it replaced, if any. */
  set(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.#objects.get(key);
    this.#objects.set(key, obj);
    return old;
  }

  delete(obj: T): void {
    this.#objects.delete(keyOf(obj));
  }

  /** Replaces everything with a fresh list; returns the difference. */
  replace(items: T[]): SnapshotDiff<T> {
    const fresh = new Map(items.map((o) => [keyOf(o), o] as const));
    const diff = diffSnapshot(this.#objects, fresh);
    this.#objects = fresh;
    return diff;
  }
}
