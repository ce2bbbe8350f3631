// The issuance step: make the key (or keep it, under rotationPolicy Never) and have the issuer
// sign a CSR for it (mode sign), or have the issuer make both (mode issue); then check that what
// came back can be read and belongs to the key. Issuer errors pass through as they are.
import { VaultCertificateReason } from '../../apis/v1alpha1/index.ts';
import type { VaultCertificate } from '../../apis/v1alpha1/index.ts';
import type { IssuedCertificate, Issuer } from '../../issuers/index.ts';
import {
  type BuiltCsr,
  type CertificateInfo,
  KeyFormatError,
  type PrivateKey,
  type RsaKeyGenerator,
  certificateInfo,
  createCsr,
  generatePrivateKey,
  keySpecEqual,
  parsePrivateKeyPem,
} from '../../pki/index.ts';
import { Failure } from '../failure/index.ts';
import type { KeyAhead } from './key-ahead.ts';
import type { ObservedSecret } from './observed.ts';
import type { DesiredCertificate } from './spec.ts';

export interface Obtained {
  issued: IssuedCertificate;
  key: PrivateKey;
  cert: CertificateInfo;
}

/**
 * The key for mode sign: the one in the Secret under rotationPolicy Never, else a new one — the
 * one made ahead while the Secret was read, with its CSR, when there is one.
 */
async function signingKey(
  desired: DesiredCertificate,
  observed: ObservedSecret,
  opts: { rsa: RsaKeyGenerator; signal: AbortSignal; ahead?: KeyAhead },
): Promise<{ key: PrivateKey; csr?: Promise<BuiltCsr> }> {
  if (desired.rotationPolicy === 'Never' && observed.key && keySpecEqual(observed.key.spec, desired.key)) {
    return { key: observed.key };
  }
  try {
    if (opts.ahead) return { key: await opts.ahead.key, csr: opts.ahead.csr };
    return { key: await generatePrivateKey(desired.key, { rsa: opts.rsa, signal: opts.signal }) };
  } catch (err) {
    if (opts.signal.aborted) throw err;
    throw new Failure(
      VaultCertificateReason.KeyGenerationFailed,
      `could not generate a ${desired.key.algorithm} key: ${err instanceof Error ? err.message : 'unknown error'}`,
    );
  }
}

export async function obtainCertificate(
  vc: VaultCertificate,
  desired: DesiredCertificate,
  issuer: Issuer,
  observed: ObservedSecret,
  opts: { rsa: RsaKeyGenerator; signal: AbortSignal; ahead?: KeyAhead },
): Promise<Obtained> {
  const callCtx = { namespace: vc.metadata?.namespace ?? '', signal: opts.signal };
  const order = {
    ...desired.request,
    ...(desired.durationMs === undefined ? {} : { durationMs: desired.durationMs }),
    ...(desired.issuer.role === undefined ? {} : { role: desired.issuer.role }),
  };
  let issued: IssuedCertificate;
  let key: PrivateKey;
  if (desired.mode === 'sign') {
    const signing = await signingKey(desired, observed, opts);
    key = signing.key;
    const csr = await (signing.csr ?? createCsr(desired.request, key));
    issued = await issuer.sign({ ...order, csr }, callCtx);
  } else {
    issued = await issuer.issue({ ...order, key: desired.key }, callCtx);
    key = issuedKey(issued, issuer.name);
  }
  return { issued, key, cert: issuedCertificate(issued, key, issuer.name) };
}

/** Mode issue: the private key the issuer made. */
function issuedKey(issued: IssuedCertificate, issuerName: string): PrivateKey {
  try {
    return parsePrivateKeyPem(issued.privateKeyPem?.reveal() ?? '');
  } catch (err) {
    if (!(err instanceof KeyFormatError)) throw err;
    throw new Failure(
      VaultCertificateReason.InvalidIssuedCertificate,
      `issuer ${issuerName} returned no usable private key`,
    );
  }
}

/** The certificate returned, readable and for `key`. */
function issuedCertificate(issued: IssuedCertificate, key: PrivateKey, issuerName: string): CertificateInfo {
  let cert: CertificateInfo;
  try {
    cert = certificateInfo(issued.certificatePem);
  } catch {
    throw new Failure(
      VaultCertificateReason.InvalidIssuedCertificate,
      `issuer ${issuerName} returned a certificate that cannot be read`,
    );
  }
  if (!key.spki().equals(cert.spki)) {
    throw new Failure(
      VaultCertificateReason.InvalidIssuedCertificate,
      `issuer ${issuerName} returned a certificate for another key`,
    );
  }
  return cert;
}
