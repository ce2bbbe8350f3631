// The certificate material a Secret is written from — freshly issued, or what the Secret holds
// when only its metadata or extra outputs change — the Secret applied for it, its keyed MAC, and
// how the Secret parses once written (so the next reconcile parses nothing). Pure.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate } from '../../apis/v1alpha1/index.ts';
import type { IssuedCertificate } from '../../issuers/index.ts';
import type { CertificateInfo, PrivateKey } from '../../pki/index.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import { type ObservedSecret, certificateMac } from './observed.ts';
import { type CertificateMaterial, MAC_KEYS, desiredSecret, secretData } from './secret.ts';
import { type DesiredCertificate, issuerRef, requestHash } from './spec.ts';

/** What the issuer returned, with the key (DER too when the spec asks for it). */
export function issuedMaterial(
  desired: DesiredCertificate,
  issued: IssuedCertificate,
  key: PrivateKey,
): CertificateMaterial {
  return {
    certPem: issued.certificatePem,
    chainPem: issued.chainPem,
    caPem: issued.caPem,
    keyPem: key.pem(),
    ...(desired.outputs.der ? { keyDer: key.der() } : {}),
  };
}

/** What a complete Secret holds (a CA missing from it: the chain's last, else the leaf). */
export function heldMaterial(desired: DesiredCertificate, observed: ObservedSecret): CertificateMaterial {
  const key = observed.key!;
  return {
    certPem: observed.certPem!,
    chainPem: observed.chainPem,
    caPem: observed.caPem ?? observed.chainPem[observed.chainPem.length - 1] ?? observed.certPem!,
    keyPem: key.pem(),
    ...(desired.outputs.der ? { keyDer: key.der() } : {}),
  };
}

/** The Secret applied for `material`, annotated with the issuer, the request and the revision. */
export function secretFor(
  vc: VaultCertificate,
  desired: DesiredCertificate,
  material: CertificateMaterial,
  revision: number,
): V1Secret {
  return desiredSecret(vc, desired, secretData(desired, material), {
    issuer: issuerRef(desired),
    requestHash: requestHash(desired),
    revision,
  });
}

/** HMAC of the material in a Secret we apply (same keys and bytes as observeSecret reads). */
export function materialMacOf(macKeys: MacKeyring, secret: V1Secret): string {
  const material = new Map<string, Buffer>();
  for (const k of MAC_KEYS) {
    const v = secret.data?.[k];
    if (v !== undefined) material.set(k, Buffer.from(v, 'base64'));
  }
  return certificateMac(macKeys, secret).mac(material);
}

/** The Secret just applied as observeSecret would parse it, already found complete. */
export function appliedObservation(input: {
  vc: VaultCertificate;
  desired: DesiredCertificate;
  material: CertificateMaterial;
  cert: CertificateInfo;
  key: PrivateKey;
  mac: string;
  revision: number;
  resourceVersion: string;
}): ObservedSecret {
  const { material, revision } = input;
  return {
    exists: true,
    hasData: true,
    certPem: material.certPem,
    chainPem: [...material.chainPem],
    caPem: material.caPem,
    cert: input.cert,
    key: input.key,
    keyMatchesCert: true,
    verified: verifiedStamp(input.vc, revision),
    mac: input.mac,
    issuer: issuerRef(input.desired),
    requestHash: requestHash(input.desired),
    revision,
    resourceVersion: input.resourceVersion,
  };
}

/** The generation and revision a Secret was found complete for (ObservedSecret.verified). */
export const verifiedStamp = (vc: VaultCertificate, revision: number) =>
  `${vc.metadata?.generation ?? 0}/${revision}`;
