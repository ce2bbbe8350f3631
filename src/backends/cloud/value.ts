/**
 * What the cloud secret managers (AWS, Google, Azure) share: each version of a secret is one
 * opaque value, mapped to our key → bytes model the same way for all three.
 *
 * Reading: a value that is a JSON object gives one key per top-level property (strings as
 * they are, anything else JSON-encoded, as `property.ts` expects); any other value (plain
 * text, a JSON scalar or array, binary) is the single key `value`.
 *
 * Writing: the single key `value` is stored as it is (text, or bytes where the service takes
 * bytes) unless it would read back as a JSON object; any other data is stored as a JSON object
 * of strings. Either way what is written reads back as the same keys and values.
 */
import { BackendError } from '../../resilience/errors.ts';
import { dataFromObject } from '../property.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import type { SecretData } from '../types.ts';

/** The key of a value that is not a JSON object. */
export const VALUE_KEY = 'value';

/** One remote value as secret data (see the file comment). */
export function decodeValue(bytes: Buffer): SecretData {
  const text = utf8(bytes);
  const obj = text === undefined ? undefined : jsonObject(text);
  if (obj) return dataFromObject(obj);
  return new Sensitive<ReadonlyMap<string, Buffer>>(new Map([[VALUE_KEY, Buffer.from(bytes)]]));
}

export interface EncodedValue {
  readonly bytes: Buffer;
  /** The value as text when it is valid UTF-8 (services that store strings need it). */
  readonly text: string | undefined;
}

/**
 * Secret data as one remote value. Rejects with `InvalidRequest` (naming the key, never the
 * value) when a key other than `value` holds bytes that are not UTF-8 text.
 */
export function encodeData(data: SecretData, backend: string): EncodedValue {
  const map = data.reveal();
  const only = map.size === 1 ? map.get(VALUE_KEY) : undefined;
  if (only !== undefined) {
    const text = utf8(only);
    if (text === undefined || !jsonObject(text)) return { bytes: Buffer.from(only), text };
  }
  const obj: Record<string, string> = {};
  for (const [key, value] of map) {
    const text = utf8(value);
    if (text === undefined) {
      throw new BackendError(
        'InvalidRequest',
        `value of key "${key}" is not UTF-8 text; binary data can only be written as the single key "${VALUE_KEY}"`,
        { backend },
      );
    }
    obj[key] = text;
  }
  const text = JSON.stringify(obj);
  return { bytes: Buffer.from(text, 'utf8'), text };
}

/** The text of `bytes` when they are valid UTF-8, else undefined. */
export function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  const t = text.trimStart();
  if (!t.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(t);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Names

export interface NameRules {
  /** Characters allowed inside one path segment (a character class body). */
  readonly segmentChars: string;
  /** Longest name the service takes. */
  readonly maxLength: number;
  /** What the service calls the name, for messages: "secret ID", "secret name". */
  readonly what: string;
}

/** Joins path segments into a flat name: `team-a/db` → `team-a--db`. */
export const SEGMENT_SEPARATOR = '--';

/**
 * The flat secret name for a path, for services whose names cannot hold "/" (Google, Azure).
 * Segments may not contain "--" nor start or end with "-", so the mapping is one-to-one and
 * a path allowed by the tenancy rules can never name another path's secret.
 */
export function flatName(path: string, rules: NameRules, backend: string): string {
  const segment = new RegExp(`^[${rules.segmentChars}]+$`);
  for (const s of path.split('/')) {
    if (!segment.test(s) || s.startsWith('-') || s.endsWith('-') || s.includes(SEGMENT_SEPARATOR)) {
      throw new BackendError(
        'InvalidRequest',
        `path "${path.slice(0, 80)}" cannot name a ${rules.what}: each "/"-separated segment may hold only [${rules.segmentChars}], ` +
          `must not start or end with "-" and must not contain "--" (segments are joined with "--")`,
        { backend },
      );
    }
  }
  const name = path.split('/').join(SEGMENT_SEPARATOR);
  if (name.length > rules.maxLength) {
    throw new BackendError(
      'InvalidRequest',
      `path "${path.slice(0, 80)}" gives a ${rules.what} longer than ${rules.maxLength} characters`,
      { backend },
    );
  }
  return name;
}
