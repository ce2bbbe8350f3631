// When to renew, and how long to wait after a failed issuance. Pure; jitter comes from a hash
// of a stable seed (the serial, the resource's uid), so a restarted operator computes the same
// times and renews nothing early.
import { createHash } from 'node:crypto';
import type { RenewBefore } from './spec.ts';

/** Renewals are spread over this fraction of the renewal window, always earlier, never later. */
export const RENEWAL_JITTER = 0.1;
export const BACKOFF_BASE_MS = 5_000;
export const BACKOFF_CAP_MS = 30 * 60_000;

/** A number in [0, 1) derived from `seed`. */
export function stableFraction(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

export interface Renewal {
  /** ms since the epoch. */
  at: number;
  /** The renewBefore in effect, ms. */
  renewBeforeMs: number;
  /** renewBefore was not shorter than the certificate's lifetime: a third of it is used. */
  adjusted: boolean;
}

/**
 * Renew `renewBefore` (or the percentage of the actual notBefore..notAfter) before expiry,
 * moved earlier by up to 10% of that window. A renewBefore as long as the lifetime itself
 * (a backend that shortened the certificate) falls back to a third of the lifetime, as
 * cert-manager does, instead of renewing at once forever.
 */
export function renewalTime(
  cert: { notBefore: Date; notAfter: Date; serialNumber: string },
  renewBefore: RenewBefore,
): Renewal {
  const notBefore = cert.notBefore.getTime();
  const notAfter = cert.notAfter.getTime();
  const lifetime = Math.max(0, notAfter - notBefore);
  let renewBeforeMs =
    renewBefore.kind === 'duration' ? renewBefore.ms : (lifetime * renewBefore.percentage) / 100;
  const adjusted = renewBeforeMs >= lifetime;
  if (adjusted) renewBeforeMs = lifetime / 3;
  const jitter = renewBeforeMs * RENEWAL_JITTER * stableFraction(cert.serialNumber);
  return { at: Math.floor(notAfter - renewBeforeMs - jitter), renewBeforeMs, adjusted };
}

/** Delay before attempt n+1 after n consecutive failures: 5 s doubling to 30 min, −10% jitter. */
export function issuanceBackoff(failures: number, seed: string): number {
  if (failures <= 0) return 0;
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 30));
  return Math.floor(exp * (1 - 0.1 * stableFraction(`${seed}/${failures}`)));
}

/** ms until the next attempt is allowed; 0 when there is no failure to wait for. */
export function backoffRemaining(
  status:
    { failedIssuanceAttempts?: number; lastFailureTime?: string; observedGeneration?: number } | undefined,
  generation: number | undefined,
  seed: string,
  now: number,
): number {
  const failures = status?.failedIssuanceAttempts ?? 0;
  if (failures <= 0 || !status?.lastFailureTime) return 0;
  // A changed spec deserves a prompt try: the failure was for the old one.
  if (status.observedGeneration !== generation) return 0;
  const last = Date.parse(status.lastFailureTime);
  if (!Number.isFinite(last)) return 0;
  return Math.max(0, last + issuanceBackoff(failures, seed) - now);
}

/** Requeues are capped: a daily look at every certificate, and no timer beyond setTimeout's range. */
export const MAX_REQUEUE_MS = 24 * 3_600_000;

/** When to look again (the renewal time, a retry): at least 1 s, at most a day away. */
export function requeueDelay(ms: number): number {
  return Math.min(MAX_REQUEUE_MS, Math.max(1000, ms));
}
