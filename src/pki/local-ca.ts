// The signing half of the embedded local CA: a self-signed CA certificate for a key, and a
// leaf certificate for a CSR. The CSR's signature is checked; its subject and requested
// extensions (names, usages, basic constraints) are copied, the validity and serial are ours.
import { randomBytes } from 'node:crypto';
import type { PrivateKey } from './keys.ts';
import { type X509CryptoKey, type X509KeyPair, type X509SigningAlgorithm, x509 } from './x509.ts';

export interface CertificateAuthority {
  certificate: x509.X509Certificate;
  key: PrivateKey;
}

export class CsrError extends Error {
  override readonly name = 'CsrError';
}

/** A random positive 128-bit serial in hex (RFC 5280: at most 20 octets, positive). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

export async function createSelfSignedCa(opts: {
  commonName: string;
  key: PrivateKey;
  notBefore: Date;
  notAfter: Date;
}): Promise<string> {
  const { keys, algorithm } = opts.key.signingKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [opts.commonName] }],
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    keys: keys as X509KeyPair,
    signingAlgorithm: algorithm as X509SigningAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as X509CryptoKey),
    ],
  });
  return cert.toString('pem');
}

const COPIED_EXTENSIONS = [
  x509.SubjectAlternativeNameExtension,
  x509.KeyUsagesExtension,
  x509.ExtendedKeyUsageExtension,
  x509.BasicConstraintsExtension,
];

/** Signs `csrPem` with the CA: a PEM certificate valid from `notBefore` to `notAfter`. */
export async function signCsr(
  ca: CertificateAuthority,
  csrPem: string,
  validity: { notBefore: Date; notAfter: Date; serialNumber?: string },
): Promise<string> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new CsrError('the CSR cannot be parsed');
  }
  if (!(await csr.verify())) throw new CsrError('the CSR signature does not verify');
  const extensions: x509.Extension[] = [];
  for (const type of COPIED_EXTENSIONS) {
    const ext = csr.extensions.find((e) => e instanceof type);
    if (ext) extensions.push(ext);
  }
  if (!extensions.some((e) => e instanceof x509.BasicConstraintsExtension)) {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(csr.publicKey));
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey));
  const { keys, algorithm } = ca.key.signingKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: validity.serialNumber ?? randomSerial(),
    subject: csr.subjectName,
    issuer: ca.certificate.subjectName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: csr.publicKey,
    signingKey: keys.privateKey as X509CryptoKey,
    signingAlgorithm: algorithm as X509SigningAlgorithm,
    extensions,
  });
  return cert.toString('pem');
}
