// After a failure that needs a user's fix (a refused write, a key the apiserver rejects, an
// unsafe shrink, a missing path), the backend is not read again until the user-error retry
// interval is over, or something the user controls changed: the spec, the sync-now or
// allow-shrink annotation, or the target Secret — or the status no longer shows the failure
// (someone else wrote it). Without it, the status write of the failure itself wakes the resource
// and reads the backend again (and every relist would too).
// In-process only: a restarted operator reads once.
import type { V1Secret } from '@kubernetes/client-node';
import { UserAnnotation, type VaultSecret } from '../../apis/v1alpha1/index.ts';

export interface HoldInput {
  generation: number | undefined;
  syncNow: string | undefined;
  allowShrink: string | undefined;
  /** resourceVersion of the target Secret, undefined when there is none. */
  secretVersion: string | undefined;
}

/** What the user controls about a read: a change lets a held read go ahead at once. */
export const holdInput = (vs: VaultSecret, existing: V1Secret | undefined): HoldInput => ({
  generation: vs.metadata?.generation,
  syncNow: vs.metadata?.annotations?.[UserAnnotation.SyncNow],
  allowShrink: vs.metadata?.annotations?.[UserAnnotation.AllowShrink],
  secretVersion: existing?.metadata?.resourceVersion,
});

interface Held {
  fingerprint: string;
  until: number;
  /** The Ready reason the status shows for this failure. */
  shown: string | undefined;
}

const fingerprintOf = (input: HoldInput): string =>
  JSON.stringify([
    input.generation ?? null,
    input.syncNow ?? null,
    input.allowShrink ?? null,
    input.secretVersion ?? null,
  ]);

export class FailureHold {
  readonly #held = new Map<string, Held>();

  /**
   * Remember a failure after a read: hold further reads until `until` (epoch ms) while the
   * status shows the Ready reason `shown`.
   */
  hold(key: string, input: HoldInput, until: number, shown: string | undefined): void {
    this.#held.set(key, { fingerprint: fingerprintOf(input), until, shown });
  }

  /** Milliseconds the read stays held, or undefined when it may go ahead. */
  remaining(key: string, input: HoldInput, now: number, shown: string | undefined): number | undefined {
    const held = this.#held.get(key);
    if (!held) return undefined;
    if (held.until <= now || held.fingerprint !== fingerprintOf(input) || held.shown !== shown) {
      this.#held.delete(key);
      return undefined;
    }
    return held.until - now;
  }

  forget(key: string): void {
    this.#held.delete(key);
  }

  get size(): number {
    return this.#held.size;
  }
}
