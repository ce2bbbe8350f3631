// Reading certificates: split PEM bundles, parse with @peculiar/x509, and reduce a certificate
// to the facts the controller decides on (validity, serial, names, public key). Errors say
// what is wrong without quoting the input.
import { X509Certificate } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { sortAltNames } from './general-names.ts';
import { x509 } from './x509.ts';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export class CertificateFormatError extends Error {
  override readonly name = 'CertificateFormatError';
}

/** The CERTIFICATE blocks of a PEM bundle, each normalised to end with a newline. */
export function splitPemCertificates(text: string): string[] {
  return [...text.matchAll(PEM_CERT)].map((m) => `${m[0]}\n`);
}

export function parseCertificate(pem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    throw new CertificateFormatError('not a valid PEM certificate');
  }
}

export interface CertificateInfo {
  /** Lower-case hex, no separators. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  subject: string;
  issuer: string;
  commonName?: string;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emailAddresses: string[];
  isCA: boolean;
  /** Subject equals issuer (a root, or a self-signed leaf). */
  selfIssued: boolean;
  /** SubjectPublicKeyInfo, DER. */
  spki: Buffer;
}

/** Canonical text of an IP address (IPv6 compressed, lower case), for comparisons. */
export function normalizeIp(ip: string): string {
  if (isIPv4(ip)) return ip;
  if (isIPv6(ip)) return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  return ip;
}

/**
 * The facts of a certificate. Validity, serial, CA flag and public key come from node:crypto's
 * X509Certificate (OpenSSL, cheap); the names (subject alternative names, common name) from
 * @peculiar/x509's decoded extension and subject, never from node's display strings, whose
 * escaping of commas and quotes would otherwise have to be undone. Throws CertificateFormatError.
 */
export function certificateInfo(cert: string | Buffer | x509.X509Certificate): CertificateInfo {
  let c: X509Certificate;
  let decoded: x509.X509Certificate;
  try {
    c = new X509Certificate(cert instanceof x509.X509Certificate ? Buffer.from(cert.rawData) : cert);
    decoded = cert instanceof x509.X509Certificate ? cert : new x509.X509Certificate(c.raw);
  } catch {
    throw new CertificateFormatError('not a valid PEM certificate');
  }
  const names = certificateNames(decoded);
  const cn = decoded.subjectName.getField('CN')[0];
  return {
    serialNumber: normalizeSerial(c.serialNumber),
    notBefore: c.validFromDate,
    notAfter: c.validToDate,
    subject: c.subject ?? '',
    issuer: c.issuer ?? '',
    ...(cn === undefined ? {} : { commonName: cn }),
    ...names,
    isCA: c.ca,
    selfIssued: (c.subject ?? '') === (c.issuer ?? ''),
    spki: c.publicKey.export({ type: 'spki', format: 'der' }),
  };
}

export type CertificateNames = Pick<CertificateInfo, 'dnsNames' | 'ipAddresses' | 'uris' | 'emailAddresses'>;

/**
 * The DNS, IP (canonical text), URI and email names of the subjectAltName extension, decoded.
 * Other name forms (directory names, otherName) are not names vaultsync checks on a certificate.
 */
function certificateNames(cert: x509.X509Certificate): CertificateNames {
  let san: x509.SubjectAlternativeNameExtension | null;
  try {
    san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  } catch {
    throw new CertificateFormatError('the subjectAltName extension cannot be read');
  }
  const { dnsNames, ipAddresses, uris, emailAddresses } = sortAltNames(san?.names.items ?? []);
  return { dnsNames, ipAddresses: ipAddresses.map(normalizeIp), uris, emailAddresses };
}

/** Serial as lower-case hex of whole bytes, without leading zero bytes. */
export function normalizeSerial(hex: string): string {
  const lower = hex.toLowerCase().replace(/[^0-9a-f]/g, '');
  const even = lower.length % 2 === 1 ? `0${lower}` : lower;
  return even.replace(/^(00)+(?=.)/, '');
}

/** Serial in the colon form Vault uses (`1a:2b:...`). */
export function colonSerial(hex: string): string {
  const even = hex.length % 2 === 1 ? `0${hex}` : hex;
  return even.match(/../g)!.join(':');
}
