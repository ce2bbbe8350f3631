// Changes recorded for a workload but not yet stored (pending-store.ts): a reconcile takes them,
// then stores them (the restart waits) or applies them at once (the restart happens), and only
// then consumes what it took — a change that arrived meanwhile stays for the next look.
import type { Digests } from '../shared/digests.ts';
import type { PendingAddition } from './annotations.ts';

export class UnsavedChanges {
  readonly #byKey = new Map<string, PendingAddition[]>();

  add(key: string, addition: PendingAddition): void {
    this.#byKey.set(key, [...(this.#byKey.get(key) ?? []), addition]);
  }

  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** A copy of the changes recorded for a workload (consume them once they are stored or applied). */
  take(key: string): PendingAddition[] {
    return (this.#byKey.get(key) ?? []).slice();
  }

  /** Forgets the changes `take` returned; later ones stay. */
  consume(key: string, taken: readonly PendingAddition[]): void {
    const left = (this.#byKey.get(key) ?? []).filter((a) => !taken.includes(a));
    if (left.length > 0) this.#byKey.set(key, left);
    else this.#byKey.delete(key);
  }

  /** Forgets every change of a workload (it is gone, or its restart cannot happen). */
  drop(key: string): void {
    this.#byKey.delete(key);
  }

  /** Is a change to any of the `wanted` data recorded for the workload? */
  waitsFor(key: string, wanted: Digests): boolean {
    return (this.#byKey.get(key) ?? []).some((a) => carries(a.secrets, wanted));
  }
}

/** Does a pending record name at least one of the `wanted` digests? */
export function carries(secrets: Digests, wanted: Digests): boolean {
  return Object.keys(wanted).some((k) => secrets[k] === wanted[k]);
}
