import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Sensitive } from './sensitive.ts';

/** Version tag of the MAC encoding; part of the output so the encoding can change later. */
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
 * Keyed HMAC-SHA256 of a Secret's data map, for status (`secretMAC`) and drift detection.
 * Stable over key order; every key and value is length-prefixed, so no two different maps
 * share an encoding (`{a: "bc"}` vs `{ab: "c"}`). Returns `hmac-sha256:v1:<base64url>`.
 */
export function secretDataMac(key: Sensitive<Uint8Array>, data: SecretDataMap): string {
  const mac = createHmac('sha256', key.reveal());
  const sorted = entries(data);
  mac.update(lengthPrefix(sorted.length));
  for (const [k, v] of sorted) {
    const kb = Buffer.from(k, 'utf8');
    mac.update(lengthPrefix(kb.length));
    mac.update(kb);
    mac.update(lengthPrefix(v.byteLength));
    mac.update(v);
  }
  return PREFIX + mac.digest('base64url');
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
