// Signing of lifecycle webhook deliveries: HMAC-SHA256 over "<timestamp>.<body>", the scheme
// Stripe and Slack use. Pure functions, exported for receivers (docs/webhooks.md) and tests.
//
//   Vaultsync-Timestamp: 1767225600                 (unix seconds of this attempt)
//   Vaultsync-Signature: v1=<hex HMAC-SHA256(key, "1767225600." + raw body)>
//
// The timestamp is signed with the body, so a captured delivery cannot be replayed later than
// the receiver's tolerance; the event id (in the body, so also signed) lets it drop duplicates.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** HTTP headers of a delivery (HTTP header names are case-insensitive). */
export const HEADERS = {
  /** `v1=<hex>`; several comma-separated signatures may appear, one matching is enough. */
  signature: 'Vaultsync-Signature',
  /** Unix time in seconds when this attempt was signed (each retry is signed again). */
  timestamp: 'Vaultsync-Timestamp',
  /** The event's unique id, the same as `id` in the body and the same on every retry. */
  eventId: 'Vaultsync-Event-Id',
  /** The event type, e.g. `synced`, the same as `type` in the body. */
  event: 'Vaultsync-Event',
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: 'Vaultsync-Delivery-Attempt',
} as const;

export const SIGNATURE_VERSION = 'v1';

/** Default tolerance between the signed timestamp and the receiver's clock: five minutes. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SigningKey = string | Uint8Array;

/** The hex HMAC-SHA256 of `"<timestamp>.<body>"`. A string key is used as its UTF-8 bytes. */
export function computeSignature(
  key: SigningKey,
  timestamp: number | string,
  body: string | Uint8Array,
): string {
  const mac = createHmac('sha256', key);
  mac.update(`${timestamp}.`);
  mac.update(body);
  return mac.digest('hex');
}

/** The value of the `Vaultsync-Signature` header: `v1=<hex>`. */
export function signatureHeader(key: SigningKey, timestamp: number, body: string | Uint8Array): string {
  return `${SIGNATURE_VERSION}=${computeSignature(key, timestamp, body)}`;
}

export interface VerifyInput {
  key: SigningKey;
  /** The raw request body, exactly as received (not re-serialised JSON). */
  body: string | Uint8Array;
  /** The `Vaultsync-Signature` header. */
  signature: string | undefined;
  /** The `Vaultsync-Timestamp` header. */
  timestamp: string | undefined;
  /** The receiver's clock, ms since the epoch (default Date.now()). */
  now?: number;
  /** Largest accepted difference between the timestamp and `now`, seconds (default 300). */
  toleranceSeconds?: number;
}

export type VerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'missing-header' | 'bad-timestamp' | 'stale' | 'mismatch' };

/**
 * Checks a delivery: the timestamp is a whole number of seconds within the tolerance of `now`,
 * and one of the `v1=` signatures equals the HMAC of "<timestamp>.<body>" (constant-time).
 */
export function verifySignature(input: VerifyInput): VerifyResult {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) return { ok: false, reason: 'missing-header' };
  if (!/^[0-9]{1,12}$/.test(timestamp.trim())) return { ok: false, reason: 'bad-timestamp' };
  const ts = Number(timestamp.trim());
  const now = Math.floor((input.now ?? Date.now()) / 1000);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - ts) > tolerance) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(computeSignature(input.key, ts, input.body), 'hex');
  for (const part of signature.split(',')) {
    const [version, hex] = part.trim().split('=', 2);
    if (version !== SIGNATURE_VERSION || !hex || !/^[0-9a-fA-F]{64}$/.test(hex)) continue;
    if (timingSafeEqual(Buffer.from(hex, 'hex'), expected)) return { ok: true, timestamp: ts };
  }
  return { ok: false, reason: 'mismatch' };
}
