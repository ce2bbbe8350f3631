// The API's serving certificate: the user's (PEM files, e.g. a mounted kubernetes.io/tls
// Secret that cert-manager or a VaultCertificate renews — re-read when it changes), or one
// signed at start-up by a CA made in memory for this process (clients pin it or skip checks).
import { readFile, stat } from 'node:fs/promises';
import {
  createCsr,
  createSelfSignedCa,
  generatePrivateKey,
  parsePrivateKeyPem,
  signCsr,
} from '../../pki/index.ts';
import { x509 } from '../../pki/x509.ts';

export interface ServingMaterial {
  cert: string;
  key: string;
  /** The generated CA (generated mode only): what a client would trust. */
  caPem?: string;
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

export async function generateServingMaterial(
  dnsNames: readonly string[],
  now = Date.now(),
): Promise<ServingMaterial> {
  const caKey = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
  const caPem = await createSelfSignedCa({
    commonName: 'vaultsync API CA (in memory)',
    key: caKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3650 * DAY_MS),
  });
  const ca = { certificate: new x509.X509Certificate(caPem), key: caKey };
  const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
  const csr = await createCsr(
    {
      commonName: dnsNames[0] ?? 'vaultsync',
      dnsNames,
      ipAddresses: ['127.0.0.1'],
      uris: [],
      emailAddresses: [],
      usages: ['digital signature', 'server auth'],
      isCA: false,
    },
    key,
  );
  const cert = await signCsr(ca, csr, {
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * DAY_MS),
  });
  return { cert: `${cert.trim()}\n${caPem.trim()}\n`, key: key.pem().reveal(), caPem };
}

export async function readServingMaterial(certFile: string, keyFile: string): Promise<ServingMaterial> {
  const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  parsePrivateKeyPem(key); // fails here, with a clear error, rather than in the TLS stack
  return { cert, key };
}

/** Modification times of the files, to notice a renewed certificate. */
export async function fileStamp(...files: string[]): Promise<string> {
  const stats = await Promise.all(files.map((f) => stat(f)));
  return stats.map((s) => `${s.mtimeMs}:${s.size}`).join(',');
}
