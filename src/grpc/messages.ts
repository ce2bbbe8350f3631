// proto3 messages ↔ the API's JSON shapes (pure). proto3 has no "unset" for scalars and
// repeated fields: an empty string, an empty list or a zero is a field the caller left out.
import type { BatchItem, SecretValue } from '../http/api/operations/secrets.ts';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** Drops what proto3 cannot tell from unset: '', 0, [], null and objects left empty by that. */
export function compact(value: unknown): Json | undefined {
  if (value === '' || value === 0 || value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return value.length > 0 ? (value as Json[]) : undefined;
  if (typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const c = compact(v);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value as Json;
}

/** `message` without the names that travel in params, compacted (never undefined: `{}`). */
export function bodyOf(message: object, names: readonly string[]): Record<string, Json> {
  const body = { ...(message as Record<string, unknown>) };
  for (const n of names) delete body[n];
  return (compact(body) as Record<string, Json> | undefined) ?? {};
}

export const secretMessage = (s: SecretValue) => ({
  path: s.path,
  version: s.version,
  data: Object.fromEntries(s.data),
});

export const itemMessage = (i: BatchItem) => (i.error ? { path: i.path, error: i.error } : secretMessage(i));
