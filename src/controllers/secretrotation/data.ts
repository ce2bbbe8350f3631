// The remote secret a rotation writes. Pure: values stay in the maps they came in.
//
// TwoPhase keeps the previous value under `<key>_previous` in the new version (not as the
// previous backend version): whoever verifies the value (a database, a service checking API
// keys) reads both from the same secret through the same VaultSecret, with any backend, and
// retiring is one more write that drops the `_previous` keys. A previous backend version would
// need every reader to pin two versions, and retiring it would need a delete-version call that
// not every backend has.
import type { Generator } from '../../apis/v1alpha1/index.ts';
import { outputKeys } from '../../secrets/generators.ts';

export const PREVIOUS_SUFFIX = '_previous';

export const previousKey = (key: string): string => `${key}${PREVIOUS_SUFFIX}`;

/** Every key the generators write (`<key>`, and `<key>.pub` for key pairs), sorted. */
export function generatedKeys(generate: Readonly<Record<string, Pick<Generator, 'type'>>>): string[] {
  return Object.entries(generate)
    .flatMap(([k, g]) => outputKeys(k, g))
    .sort();
}

/** The backend lacks the path or one of the generated keys. */
export function missingValues(
  current: ReadonlyMap<string, Buffer> | undefined,
  keys: readonly string[],
): boolean {
  return !current || keys.some((k) => !current.has(k));
}

/**
 * The new version: keys of the remote secret not generated here are kept; generated keys get
 * their new values; with TwoPhase, each generated key that had a value keeps it as
 * `<key>_previous`. Stale `_previous` keys of generated keys are dropped (Replace, or a key
 * that had no value before).
 */
export function rotatedData(
  current: ReadonlyMap<string, Buffer> | undefined,
  generated: ReadonlyMap<string, Buffer>,
  keys: readonly string[],
  strategy: 'Replace' | 'TwoPhase',
): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const previousKeys = new Set(keys.map(previousKey));
  for (const [k, v] of current ?? []) if (!previousKeys.has(k)) out.set(k, v);
  if (strategy === 'TwoPhase') {
    for (const k of keys) {
      const old = current?.get(k);
      if (old !== undefined) out.set(previousKey(k), old);
    }
  }
  for (const [k, v] of generated) out.set(k, v);
  return out;
}

/** True when the version holds a previous value (TwoPhase) for a generated key. */
export function hasPreviousValues(
  current: ReadonlyMap<string, Buffer> | undefined,
  keys: readonly string[],
): boolean {
  return keys.some((k) => current?.has(previousKey(k)) ?? false);
}

/** The version after retiring: the same without the `_previous` keys of generated keys. */
export function retiredData(
  current: ReadonlyMap<string, Buffer>,
  keys: readonly string[],
): Map<string, Buffer> {
  const drop = new Set(keys.map(previousKey));
  return new Map([...current].filter(([k]) => !drop.has(k)));
}

/** Version a is at least version b (numeric when both are numbers, else equal). */
export function versionAtLeast(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (/^[0-9]+$/.test(a) && /^[0-9]+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a === b;
}

/**
 * The version after a rollback (rollbackOnFailure): each generated key that has a previous value
 * gets it back as its current value; the `_previous` keys are dropped, and with them the value
 * that failed to roll out. Keys not generated here are kept. Undefined when there is nothing to
 * roll back to.
 */
export function rolledBackData(
  current: ReadonlyMap<string, Buffer>,
  keys: readonly string[],
): Map<string, Buffer> | undefined {
  if (!hasPreviousValues(current, keys)) return undefined;
  const out = retiredData(current, keys);
  for (const k of keys) {
    const old = current.get(previousKey(k));
    if (old !== undefined) out.set(k, old);
  }
  return out;
}
