/**
 * Picking one value out of a remote secret, the same way for every backend:
 * `property` is a key of the secret (`password`), or a key followed by a dotted path into
 * that key's JSON value (`config.db.password`). A key that itself contains dots wins over a
 * path (`tls.crt` is the key `tls.crt` when it exists).
 */
import { BackendError } from '../resilience/errors.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import type { RemoteSecret, SecretData } from './types.ts';

/** Returns the bytes of `property`; rejects with `NotFound` naming the keys there are (never values). */
export function extractProperty(
  secret: RemoteSecret | SecretData,
  property: string,
  path = '',
): Sensitive<Buffer> {
  const data = secret instanceof Sensitive ? secret.reveal() : secret.data.reveal();
  const where = path ? ` of the secret at "${path}"` : '';
  const direct = data.get(property);
  if (direct !== undefined) return new Sensitive(direct);

  // Longest key that is a dotted prefix of the property, then a path into its JSON value.
  const parts = property.split('.');
  for (let i = parts.length - 1; i >= 1; i--) {
    const key = parts.slice(0, i).join('.');
    const raw = data.get(key);
    if (raw === undefined) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new BackendError('NotFound', `property "${property}"${where}: key "${key}" does not hold JSON`);
    }
    for (const [j, step] of parts.slice(i).entries()) {
      if (typeof value !== 'object' || value === null || !Object.hasOwn(value, step)) {
        const at = parts.slice(0, i + j + 1).join('.');
        throw new BackendError('NotFound', `property "${property}"${where}: "${at}" not found`);
      }
      value = (value as Record<string, unknown>)[step];
    }
    return new Sensitive(encodeValue(value));
  }
  const keys = [...data.keys()].sort();
  const list = keys.length === 0 ? 'the secret has no keys' : `keys: ${truncateList(keys)}`;
  const inside = path ? ` in the secret at "${path}"` : '';
  throw new BackendError('NotFound', `property "${property}" not found${inside} (${list})`);
}

/** Bytes for a decoded value: strings as UTF-8, everything else as JSON. */
export function encodeValue(value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value);
  return Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
}

/** Builds `SecretData` from a decoded JSON object (e.g. Vault's `data.data`). */
export function dataFromObject(obj: Readonly<Record<string, unknown>>): SecretData {
  const map = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(obj)) map.set(k, encodeValue(v));
  return new Sensitive<ReadonlyMap<string, Buffer>>(map);
}

function truncateList(keys: readonly string[]): string {
  const shown = keys.slice(0, 20).join(', ');
  return keys.length > 20 ? `${shown}, … (${keys.length} keys)` : shown;
}
