// A first issuance makes its key and CSR while the Secret is read. The Secret cache holds only
// Secrets labelled as ours, so a VaultCertificate whose Secret it lacks — a new one, the common
// case — reads it from the apiserver first (someone else's Secret is never taken over, and no
// certificate is signed for it). That read and the key generation and CSR do not depend on each
// other: started together, the round trip costs no time of its own. When the read shows a
// Secret after all, the key and CSR are dropped unsent.
import type { VaultCertificateStatus } from '../../apis/v1alpha1/index.ts';
import {
  type BuiltCsr,
  type PrivateKey,
  type RsaKeyGenerator,
  createCsr,
  generatePrivateKey,
} from '../../pki/index.ts';
import { backoffRemaining } from './renewal.ts';
import type { DesiredCertificate } from './spec.ts';

export interface KeyAhead {
  key: Promise<PrivateKey>;
  /** A CSR for `desired.request` signed by `key`. */
  csr: Promise<BuiltCsr>;
}

/**
 * Worth making ahead: mode sign, the Secret is not in the cache and this replica wrote none for
 * it (it is most likely absent, so a certificate will be issued), no certificate kept from a
 * failed write waits to be written, and no issuance backoff holds the attempt back.
 */
export function worthKeyAhead(input: {
  mode: DesiredCertificate['mode'];
  cached: boolean;
  writtenByUs: boolean;
  kept: boolean;
  status: VaultCertificateStatus | undefined;
  generation: number | undefined;
  seed: string;
  now: number;
}): boolean {
  if (input.mode !== 'sign' || input.cached || input.writtenByUs || input.kept) return false;
  return backoffRemaining(input.status, input.generation, input.seed, input.now) === 0;
}

/** Starts the key and the CSR; a failure surfaces where they are awaited, never unhandled. */
export function startKeyAhead(
  desired: Pick<DesiredCertificate, 'key' | 'request'>,
  opts: { rsa: RsaKeyGenerator; signal: AbortSignal },
): KeyAhead {
  const key = generatePrivateKey(desired.key, opts);
  const csr = key.then((k) => createCsr(desired.request, k));
  // Dropped unawaited when the read shows a Secret: no unhandled rejection then.
  key.catch(() => undefined);
  csr.catch(() => undefined);
  return { key, csr };
}
