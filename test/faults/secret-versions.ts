// The fault cases' wrong-write check: every stored version of a managed Secret must hold exactly
// one key whose value OpenBao held for that Secret, never an older value after a newer one, and
// the Secret must never be deleted. Pure, so the check itself is tested (secret-versions.test.ts).

export interface SecretVersion {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  name: string;
  resourceVersion: string;
  /** The Secret's `data` (base64 values). */
  data?: Record<string, string>;
}

/**
 * The versions that are wrong, as `name@resourceVersion (why)`: never a value. `history(name)`
 * gives the values the backend held for that Secret's `key`, oldest first.
 */
export function wrongSecretVersions(
  versions: readonly SecretVersion[],
  history: (name: string) => readonly string[],
  key: string,
): string[] {
  const wrong: string[] = [];
  /** The newest backend value (its index in the history) each Secret has held so far. */
  const newest = new Map<string, number>();
  for (const v of versions) {
    const at = `${v.name}@${v.resourceVersion}`;
    if (v.type === 'DELETED') {
      wrong.push(`${at} (deleted)`);
      continue;
    }
    const data = v.data ?? {};
    const keys = Object.keys(data);
    const encoded = data[key];
    const value = encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString();
    const index = value === undefined ? -1 : history(v.name).indexOf(value);
    if (keys.length !== 1 || index < 0) {
      wrong.push(
        `${at} (keys: ${keys.join(',') || 'none'}${index < 0 && keys.length ? ', a value not from the backend' : ''})`,
      );
    } else if (index < (newest.get(v.name) ?? -1)) {
      wrong.push(`${at} (an older backend value after a newer one)`);
    } else {
      newest.set(v.name, index);
    }
  }
  return wrong;
}
