// Fixture builders for the VaultCertificate unit tests: resources, Secrets and certificates.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate, VaultCertificateSpec } from '../../apis/v1alpha1/index.ts';
import {
  type CertificateRequestSpec,
  type CsrInput,
  type PrivateKey,
  createCsr,
  createSelfSignedCa,
  generatePrivateKey,
  parseCertificate,
  signCsr,
} from '../../pki/index.ts';
import { MacKeyring } from '../../secrets/mac-keyring.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { secretData, desiredSecret } from './secret.ts';
import { type DesiredCertificate, desiredCertificate, issuerRef, requestHash } from './spec.ts';

export const macKeys = new MacKeyring(new Sensitive<Uint8Array>(Buffer.alloc(32, 7)));

export function certificate(
  spec: Partial<VaultCertificateSpec> = {},
  meta: Partial<VaultCertificate['metadata']> = {},
): VaultCertificate {
  return {
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'VaultCertificate',
    metadata: { name: 'api', namespace: 'shop', uid: 'uid-1', generation: 1, ...meta },
    spec: {
      issuer: { backend: 'ca' },
      dnsNames: ['api.shop.svc'],
      secretName: 'api-tls',
      ...spec,
    },
  };
}

export interface TestCa {
  pem: string;
  key: PrivateKey;
  /** Signs the CSR's key for `request` (the names, usages and CA flag come from it). */
  sign(csr: CsrInput, request: CertificateRequestSpec, notBefore: Date, notAfter: Date): Promise<string>;
}

export async function testCa(now = Date.now()): Promise<TestCa> {
  const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
  const pem = await createSelfSignedCa({
    commonName: 'unit CA',
    key,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 10 * 365 * 86_400_000),
  });
  const ca = { certificate: parseCertificate(pem), key };
  return {
    pem,
    key,
    sign: (csr, request, notBefore, notAfter) => signCsr(ca, csr, request, { notBefore, notAfter }),
  };
}

/** A Secret as vaultsync would have written it for `vc`, with a certificate valid `notBefore..notAfter`. */
export async function issuedSecret(
  vc: VaultCertificate,
  ca: TestCa,
  validity: { notBefore: number; notAfter: number },
  opts: { key?: PrivateKey; desired?: DesiredCertificate; revision?: number } = {},
): Promise<{ secret: V1Secret; key: PrivateKey; certPem: string }> {
  const desired = opts.desired ?? desiredCertificate(vc);
  const key = opts.key ?? (await generatePrivateKey(desired.key));
  const csr = await createCsr(desired.request, key);
  const certPem = await ca.sign(
    csr,
    desired.request,
    new Date(validity.notBefore),
    new Date(validity.notAfter),
  );
  const data = secretData(desired, { certPem, chainPem: [], caPem: ca.pem, keyPem: key.pem() });
  const secret = desiredSecret(vc, desired, data, {
    issuer: issuerRef(desired),
    requestHash: requestHash(desired),
    revision: opts.revision ?? 1,
  });
  secret.metadata = { ...secret.metadata, resourceVersion: '1', uid: 'secret-uid' };
  return { secret, key, certPem };
}
