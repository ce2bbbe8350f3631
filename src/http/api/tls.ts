// The API's serving certificate: the user's (PEM files, e.g. a mounted kubernetes.io/tls
// Secret that cert-manager or a VaultCertificate renews — re-read when it changes), or one this
// replica signs for itself from the CA all replicas share (ca.ts), renewed before it expires.
// The serving key is made here and never leaves the process.
import { readFile, stat } from 'node:fs/promises';
import { generatePrivateKey, parsePrivateKeyPem, randomSerial } from '../../pki/index.ts';
import { type X509CryptoKey, type X509SigningAlgorithm, x509 } from '../../pki/x509.ts';
import type { ApiCa } from './ca.ts';

export interface ServingMaterial {
  /** The leaf certificate, then the chain up to the CA (PEM). */
  cert: string;
  key: string;
  /** The CA bundle clients trust (CA-signed mode, or a user-provided `caFile`). */
  caPem?: string;
  /** When the certificate should be replaced (CA-signed mode only), ms since the epoch. */
  renewAt?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Names every in-cluster client may use for the API Service. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
    'localhost',
  ];
}

/** Lifetime of a replica's serving certificate; it is renewed after two thirds of it. */
export const SERVING_LIFETIME_MS = 90 * DAY_MS;

/** A fresh key and a certificate for it from `ca`, for `dnsNames`, 127.0.0.1 and ::1. */
export async function signServingMaterial(
  ca: ApiCa,
  dnsNames: readonly string[],
  now = Date.now(),
): Promise<ServingMaterial> {
  const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
  const { keys } = key.signingKeys();
  const signing = ca.key.signingKeys();
  const names = [...new Set(dnsNames)];
  const notBefore = now - 60_000;
  const notAfter = now + SERVING_LIFETIME_MS;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [names[0] ?? 'vaultsync'] }],
    issuer: ca.certificate.subjectName,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey as X509CryptoKey,
    signingKey: signing.keys.privateKey as X509CryptoKey,
    signingAlgorithm: signing.algorithm as X509SigningAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.map((value) => ({ type: 'dns' as const, value })),
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as X509CryptoKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
  });
  return {
    cert: `${cert.toString('pem').trim()}\n${ca.certPem.trim()}\n`,
    key: key.pem().reveal(),
    caPem: ca.certPem,
    renewAt: notBefore + ((notAfter - notBefore) * 2) / 3,
  };
}

export async function readServingMaterial(
  certFile: string,
  keyFile: string,
  caFile?: string,
): Promise<ServingMaterial> {
  const [cert, key, caPem] = await Promise.all([
    readFile(certFile, 'utf8'),
    readFile(keyFile, 'utf8'),
    caFile === undefined ? undefined : readFile(caFile, 'utf8'),
  ]);
  parsePrivateKeyPem(key); // fails here, with a clear error, rather than in the TLS stack
  return { cert, key, ...(caPem !== undefined && { caPem }) };
}

/** Modification times of the files, to notice a renewed certificate. */
export async function fileStamp(...files: string[]): Promise<string> {
  const stats = await Promise.all(files.map((f) => stat(f)));
  return stats.map((s) => `${s.mtimeMs}:${s.size}`).join(',');
}
