// The signing half of the embedded local CA: a self-signed CA certificate for a key, and a
// certificate for the key of a CSR. Subject, names, usages and CA flag come from the request
// (src/pki/csr-policy.ts refuses a CSR asking for more); the validity and serial are ours.
import { randomBytes } from 'node:crypto';
import { type CertificateRequestSpec, type CsrInput, requestExtensions, subjectName } from './csr.ts';
import { CsrError, assertCsrWithinRequest, readCsr } from './csr-policy.ts';
import type { PrivateKey } from './keys.ts';
import { type X509CryptoKey, type X509KeyPair, type X509SigningAlgorithm, x509 } from './x509.ts';

export interface CertificateAuthority {
  certificate: x509.X509Certificate;
  key: PrivateKey;
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

export interface LeafOptions {
  notBefore: Date;
  notAfter: Date;
  serialNumber?: string;
  /** The issuer's `allowCA`: a request with isCA gets CA:TRUE, pathLen 0; false refuses it. */
  allowCA?: boolean;
}

/**
 * The extensions of a certificate for `req`, built from the request alone: basic constraints
 * (critical; CA:FALSE unless a CA is asked for and allowed, then CA:TRUE with path length 0 and
 * keyCertSign), SANs, key usage and extended key usage.
 */
export function leafExtensions(req: CertificateRequestSpec, ca: boolean): x509.Extension[] {
  const extensions = requestExtensions({ ...req, isCA: false });
  if (!ca) return [new x509.BasicConstraintsExtension(false, undefined, true), ...extensions];
  const usage = extensions.find((e) => e instanceof x509.KeyUsagesExtension);
  const bits = (usage?.usages ?? 0) | x509.KeyUsageFlags.keyCertSign;
  return [
    new x509.BasicConstraintsExtension(true, 0, true),
    ...extensions.filter((e) => e !== usage),
    new x509.KeyUsagesExtension(bits, true),
  ];
}

/**
 * Signs the key of `csr` with the CA: a PEM certificate whose subject, names, usages and CA
 * flag come from `req`, never from the CSR. The CSR's signature is checked, and a CSR asking for
 * more than `req` is refused (CsrError), as is a CA certificate without `allowCA`.
 */
export async function signCsr(
  ca: CertificateAuthority,
  csr: CsrInput,
  req: CertificateRequestSpec,
  opts: LeafOptions,
): Promise<string> {
  const { csr: read, request } = await readCsr(csr);
  assertCsrWithinRequest(request, req);
  if (req.isCA && opts.allowCA !== true) {
    throw new CsrError('a CA certificate (isCA) was asked for, and this CA signs none (allowCA: false)');
  }
  const extensions = leafExtensions(req, req.isCA);
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(read.publicKey));
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey));
  const { keys, algorithm } = ca.key.signingKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: opts.serialNumber ?? randomSerial(),
    subject: subjectName(req),
    issuer: ca.certificate.subjectName,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    publicKey: read.publicKey,
    signingKey: keys.privateKey as X509CryptoKey,
    signingAlgorithm: algorithm as X509SigningAlgorithm,
    extensions,
  });
  return cert.toString('pem');
}
