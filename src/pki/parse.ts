// Reading certificates: split PEM bundles, parse with @peculiar/x509, and reduce a certificate
// to the facts the controller decides on (validity, serial, names, public key). Errors say
// what is wrong without quoting the input.
import { X509Certificate } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
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
 * The facts of a certificate, read with node:crypto's X509Certificate (OpenSSL): an order of
 * magnitude cheaper in time and garbage than parsing ASN.1 in JavaScript, which matters when
 * every reconcile after a restart reads one. Throws CertificateFormatError.
 */
export function certificateInfo(cert: string | Buffer | x509.X509Certificate): CertificateInfo {
  let c: X509Certificate;
  try {
    c = new X509Certificate(cert instanceof x509.X509Certificate ? Buffer.from(cert.rawData) : cert);
  } catch {
    throw new CertificateFormatError('not a valid PEM certificate');
  }
  const names = parseSubjectAltName(c.subjectAltName);
  const of = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  const cn = distinguishedNameField(c.subject, 'CN');
  return {
    serialNumber: normalizeSerial(c.serialNumber),
    notBefore: c.validFromDate,
    notAfter: c.validToDate,
    subject: c.subject ?? '',
    issuer: c.issuer ?? '',
    ...(cn === undefined ? {} : { commonName: cn }),
    dnsNames: of('DNS'),
    ipAddresses: of('IP Address').map(normalizeIp),
    uris: of('URI'),
    emailAddresses: of('email'),
    isCA: c.ca,
    selfIssued: (c.subject ?? '') === (c.issuer ?? ''),
    spki: c.publicKey.export({ type: 'spki', format: 'der' }),
  };
}

/** Serial as lower-case hex of whole bytes, without leading zero bytes. */
export function normalizeSerial(hex: string): string {
  const lower = hex.toLowerCase().replace(/[^0-9a-f]/g, '');
  const even = lower.length % 2 === 1 ? `0${lower}` : lower;
  return even.replace(/^(00)+(?=.)/, '');
}

/**
 * node's `subjectAltName`: `DNS:a.example, IP Address:10.0.0.1, URI:spiffe://x, email:a@b`, with
 * a value quoted as a JSON string when it holds characters that would make this ambiguous.
 */
export function parseSubjectAltName(text: string | undefined): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let j = colon + 1;
    let value: string;
    if (text[j] === '"') {
      let k = j + 1;
      while (k < text.length && text[k] !== '"') k += text[k] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(j, k + 1)) as string;
      } catch {
        value = text.slice(j + 1, k);
      }
      j = k + 1;
    } else {
      const end = text.indexOf(', ', j);
      const stop = end < 0 ? text.length : end;
      value = text.slice(j, stop);
      j = stop;
    }
    out.push({ type, value });
    i = text.startsWith(', ', j) ? j + 2 : j + 1;
  }
  return out;
}

/** One field of node's multi-line distinguished name (`CN=a\nO=b`), JSON-quoted values decoded. */
function distinguishedNameField(dn: string | undefined, field: string): string | undefined {
  for (const line of (dn ?? '').split('\n')) {
    if (!line.startsWith(`${field}=`)) continue;
    const value = line.slice(field.length + 1);
    if (value.startsWith('"')) {
      try {
        return JSON.parse(value) as string;
      } catch {
        return value;
      }
    }
    return value;
  }
  return undefined;
}

/** Serial in the colon form Vault uses (`1a:2b:...`). */
export function colonSerial(hex: string): string {
  const even = hex.length % 2 === 1 ? `0${hex}` : hex;
  return even.match(/../g)!.join(':');
}
