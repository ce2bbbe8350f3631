import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Sensitive } from './sensitive.ts';

/** Version tag of the v1 encoding (mac-keyring.ts writes v2). */
const PREFIX = 'hmac-sha256:v1:';

export type SecretDataMap = ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;

function entries(data: SecretDataMap): [string, Uint8Array][] {
  const list = data instanceof Map ? [...data.entries()] : Object.entries(data as Record<string, Uint8Array>);
  // Byte-wise order of the UTF-8 keys: independent of insertion order and of the locale.
  return list.sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

function lengthPrefix(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length);
  return b;
}

/**
 * Keyed HMAC-SHA256 of `prefix` (already unambiguous, e.g. length-prefixed) and a data map, in
 * base64url. Stable over key order; every key and value is length-prefixed, so no two different
 * maps share an encoding (`{a: "bc"}` vs `{ab: "c"}`).
 */
export function encodeSecretData(key: Uint8Array, prefix: Uint8Array, data: SecretDataMap): string {
  const mac = createHmac('sha256', key);
  mac.update(prefix);
  const sorted = entries(data);
  mac.update(lengthPrefix(sorted.length));
  for (const [k, v] of sorted) {
    const kb = Buffer.from(k, 'utf8');
    mac.update(lengthPrefix(kb.length));
    mac.update(kb);
    mac.update(lengthPrefix(v.byteLength));
    mac.update(v);
  }
  return mac.digest('base64url');
}

/**
 * The v1 scheme: the master key itself over the data alone, `hmac-sha256:v1:<base64url>`.
 * Written by earlier releases; now only verified (mac-keyring.ts makes the MACs, bound to
 * their object), so statuses written before an upgrade still match their data.
 */
export function secretDataMac(key: Sensitive<Uint8Array>, data: SecretDataMap): string {
  return PREFIX + encodeSecretData(key.reveal(), Buffer.alloc(0), data);
}

/** Constant-time comparison of two MACs (as returned by `secretDataMac`). */
export function macEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) {
    // Still spend the time of a comparison; the lengths of MACs are public anyway.
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}
