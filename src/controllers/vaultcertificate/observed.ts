// What the Secret holds, parsed once per reconcile: certificate chain, key, CA, our annotations
// and the keyed MAC of the certificate material. Parse failures are recorded, not thrown.
import { OperatorAnnotation } from '../../apis/v1alpha1/index.ts';
import type { V1Secret } from '@kubernetes/client-node';
import {
  type CertificateInfo,
  CertificateFormatError,
  KeyFormatError,
  type PrivateKey,
  certificateInfo,
  parsePrivateKeyPem,
  splitPemCertificates,
} from '../../pki/index.ts';
import { type MacKeyring, type MacVerdict, MacUse } from '../../secrets/mac-keyring.ts';
import { MAC_KEYS } from './secret.ts';

export interface ObservedSecret {
  exists: boolean;
  /** tls.crt and tls.key are both present and non-empty. */
  hasData: boolean;
  certPem?: string;
  /** Certificates after the leaf in tls.crt. */
  chainPem: string[];
  caPem?: string;
  cert?: CertificateInfo;
  certError?: string;
  key?: PrivateKey;
  keyError?: string;
  /** tls.key belongs to the certificate; undefined when either cannot be read. */
  keyMatchesCert?: boolean;
  /** Set by the reconciler: the generation and revision this Secret was last found complete for. */
  verified?: string;
  /** Keyed HMAC of tls.crt, tls.key and ca.crt (whatever is there), with the current key. */
  mac?: string;
  /**
   * Does a recorded MAC (status.certificateMAC) belong to this material? `accepted`: made before
   * an upgrade or with a previous key: the same material, worth a status rewrite, not a re-issue.
   */
  macVerdict?: (mac: string) => MacVerdict;
  issuer?: string;
  requestHash?: string;
  revision?: number;
  resourceVersion?: string;
}

const decode = (secret: V1Secret, key: string): Buffer | undefined => {
  const b64 = secret.data?.[key];
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64');
};

/** certificateMAC: bound to the Secret's namespace and name (secrets/mac-keyring.ts). */
export function certificateMac(macKeys: MacKeyring, secret: V1Secret) {
  return macKeys.bind(MacUse.VaultCertificate, {
    namespace: secret.metadata?.namespace ?? '',
    kind: 'Secret',
    name: secret.metadata?.name ?? '',
  });
}

export function observeSecret(secret: V1Secret | undefined, macKeys: MacKeyring): ObservedSecret {
  if (!secret) return { exists: false, hasData: false, chainPem: [] };
  const crt = decode(secret, 'tls.crt');
  const key = decode(secret, 'tls.key');
  const ca = decode(secret, 'ca.crt');
  const annotations = secret.metadata?.annotations ?? {};
  const revision = Number(annotations[OperatorAnnotation.CertificateRevision]);
  const out: ObservedSecret = {
    exists: true,
    hasData: !!crt?.length && !!key?.length,
    chainPem: [],
    ...(annotations[OperatorAnnotation.Issuer] === undefined
      ? {}
      : { issuer: annotations[OperatorAnnotation.Issuer] }),
    ...(annotations[OperatorAnnotation.CertificateRequest] === undefined
      ? {}
      : { requestHash: annotations[OperatorAnnotation.CertificateRequest] }),
    ...(Number.isSafeInteger(revision) && revision > 0 ? { revision } : {}),
    ...(secret.metadata?.resourceVersion === undefined
      ? {}
      : { resourceVersion: secret.metadata.resourceVersion }),
  };
  const material = new Map<string, Buffer>();
  for (const [k, v] of [
    [MAC_KEYS[0], crt],
    [MAC_KEYS[1], key],
    [MAC_KEYS[2], ca],
  ] as const) {
    if (v !== undefined) material.set(k, v);
  }
  const macs = certificateMac(macKeys, secret);
  out.mac = macs.mac(material);
  out.macVerdict = (mac) => macs.verdict(material, mac);
  if (!out.hasData) return out;
  const certs = splitPemCertificates(crt!.toString('utf8'));
  if (certs.length === 0) {
    out.certError = 'tls.crt holds no PEM certificate';
  } else {
    out.certPem = certs[0];
    out.chainPem = certs.slice(1);
    try {
      out.cert = certificateInfo(certs[0]!);
    } catch (err) {
      out.certError =
        err instanceof CertificateFormatError ? `tls.crt: ${err.message}` : 'tls.crt cannot be read';
    }
  }
  if (ca?.length) out.caPem = ca.toString('utf8');
  try {
    out.key = parsePrivateKeyPem(key!);
  } catch (err) {
    out.keyError = err instanceof KeyFormatError ? err.message : 'tls.key cannot be read';
  }
  if (out.key && out.cert) out.keyMatchesCert = out.key.spki().equals(out.cert.spki);
  return out;
}
