// The wipe guard: a successful read can still be an accident (a KV secret overwritten with {},
// a path migrated half-way). A read that would leave the Secret with none of the keys this
// VaultSecret wrote, or remove more than half of them, is refused unless the resource says so:
// `spec.target.allowEmpty: true` (empty is fine) or a new value of the `vaultsync.io/allow-shrink`
// annotation (this one shrink is fine; answered once). Pure.
import { UserAnnotation } from '../../apis/v1alpha1/index.ts';

/** Any new value lets the next read shrink the Secret, once (status.allowShrinkHandled). */

export interface ShrinkInput {
  /** Keys this VaultSecret wrote before (the Secret's managed-keys annotation); none: first write. */
  previous: readonly string[];
  next: readonly string[];
  allowEmpty: boolean;
  /** A new allow-shrink annotation value is waiting to be used. */
  acknowledged: boolean;
}

/** The refusal message, or undefined when the write may go ahead. Names key counts, not keys. */
export function unsafeShrink(input: ShrinkInput): string | undefined {
  const { previous, next } = input;
  if (previous.length === 0 || input.acknowledged) return undefined;
  const kept = new Set(next);
  const removed = previous.filter((k) => !kept.has(k)).length;
  const ack = `to accept it, set a new value on the annotation ${UserAnnotation.AllowShrink} (e.g. kubectl annotate --overwrite vaultsecret <name> ${UserAnnotation.AllowShrink}=$(date +%s))`;
  if (next.length === 0) {
    if (input.allowEmpty) return undefined;
    return `the backend read would leave the Secret with none of its ${previous.length} keys; the Secret keeps its data; if the data is meant to be empty, set spec.target.allowEmpty: true, or ${ack}`;
  }
  if (removed * 2 > previous.length) {
    return `the backend read would remove ${removed} of the Secret's ${previous.length} keys (more than half); the Secret keeps its data; ${ack}`;
  }
  return undefined;
}
