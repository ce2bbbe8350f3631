// What the apiserver would refuse in a Secret's data, checked before the apply so the reason
// names the problem (InvalidKey, SecretTooLarge) instead of a bare 422. Pure. Key names are
// not secret values and may be named; values never are.

/** core.MaxSecretSize: the apiserver sums the value bytes of `data` (keys do not count). */
export const MAX_SECRET_SIZE = 1024 * 1024;
/** validation.IsConfigMapKey: at most 253 characters of [-._a-zA-Z0-9]. */
export const MAX_KEY_LENGTH = 253;
const KEY_CHARS = /^[-._a-zA-Z0-9]+$/;

/** Why the apiserver would refuse this key (IsConfigMapKey), or undefined when it is valid. */
export function invalidKeyReason(key: string): string | undefined {
  if (key.length === 0) return 'it is empty';
  if (key.length > MAX_KEY_LENGTH) return `it is longer than ${MAX_KEY_LENGTH} characters`;
  if (!KEY_CHARS.test(key)) return "a Secret key may hold only letters, digits, '-', '_' and '.'";
  if (key === '.' || key === '..' || key.startsWith('..'))
    return "a Secret key may not be '.', '..' or start with '..'";
  return undefined;
}

/** A key name as it may appear in a message: quoted, printable, capped. */
export function showKey(key: string): string {
  const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
  return JSON.stringify(shown);
}

/** The Secret's size as the apiserver counts it. */
export function secretDataSize(data: ReadonlyMap<string, Buffer>): number {
  let size = 0;
  for (const value of data.values()) size += value.length;
  return size;
}

export type DataProblem = { reason: 'InvalidKey' | 'SecretTooLarge'; message: string };

/** The first thing the apiserver would refuse in this data, or undefined. */
export function dataProblem(data: ReadonlyMap<string, Buffer>): DataProblem | undefined {
  for (const key of data.keys()) {
    const why = invalidKeyReason(key);
    if (why) {
      return {
        reason: 'InvalidKey',
        message: `the backend data has the key ${showKey(key)}, which is not a valid Secret key: ${why}; rename it in the backend, or map it with data[].secretKey (and remoteRef.property) instead of dataFrom`,
      };
    }
  }
  const size = secretDataSize(data);
  if (size > MAX_SECRET_SIZE) {
    return {
      reason: 'SecretTooLarge',
      message: `the Secret would hold ${size} bytes of data; Kubernetes allows at most ${MAX_SECRET_SIZE} bytes per Secret; select fewer keys or split them over several VaultSecrets`,
    };
  }
  return undefined;
}
