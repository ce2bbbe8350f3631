/**
 * A CSR may ask for no more than the request it comes with. The names, subject, usages and CA
 * flag of a certificate come from the validated request (the VaultCertificate spec or the API
 * body); a CSR that asks for anything else — another name, another subject attribute, another
 * usage, CA:TRUE — is refused before signing, so no issuer can take it from the CSR (the local
 * CA builds its own extensions; Vault's `use_csr_sans` / `use_csr_common_name` would copy them).
 * Asking for less is fine. Other extensions in the CSR are never copied by either issuer.
 *
 * `readCsr` parses and verifies (proof of possession); `csrExcess` is the pure comparison.
 */
import { BuiltCsr, type CertificateRequestSpec, type CsrInput, subjectName } from './csr.ts';
import { type AltNames, sortAltNames } from './general-names.ts';
import { normalizeIp } from './parse.ts';
import { EXTENDED_KEY_USAGES, KEY_USAGE_FLAGS, splitUsages } from './usages.ts';
import { x509 } from './x509.ts';
import { quotedName } from '../text.ts';

export class CsrError extends Error {
  override readonly name = 'CsrError';
}

const OID = {
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
} as const;

/** What a CSR asks for, as plain values. */
export interface CsrRequest {
  /** Subject attributes as `TYPE=value` (CN, O, OU, C, L, ST; other types by OID). */
  subject: string[];
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emailAddresses: string[];
  /** Subject alternative names of other kinds (directory names, UPNs, registered IDs ...). */
  otherNames: string[];
  /** KeyUsage bits; 0 when the CSR asks for none. */
  keyUsage: number;
  /** Extended key usage OIDs. */
  extendedKeyUsages: string[];
  isCA: boolean;
}

export interface ReadCsr {
  csr: x509.Pkcs10CertificateRequest;
  request: CsrRequest;
}

/**
 * What a CSR asks for. A PEM is parsed and its signature checked (proof of possession); one this
 * process built (createCsr) is parsed and signed by construction. Throws CsrError.
 */
export async function readCsr(input: CsrInput): Promise<ReadCsr> {
  if (input instanceof BuiltCsr) return { csr: input.request, request: csrRequest(input.request) };
  const pem = input;
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw new CsrError('the CSR cannot be parsed');
  }
  let verified = false;
  try {
    verified = await csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) throw new CsrError('the CSR signature does not verify');
  return { csr, request: csrRequest(csr) };
}

/** What `csr` asks for. Throws CsrError for parts it cannot read (which it will not sign blind). */
export function csrRequest(csr: x509.Pkcs10CertificateRequest): CsrRequest {
  const out: CsrRequest = {
    subject: [],
    dnsNames: [],
    ipAddresses: [],
    uris: [],
    emailAddresses: [],
    otherNames: [],
    keyUsage: 0,
    extendedKeyUsages: [],
    isCA: false,
  };
  try {
    out.subject = nameAttributes(csr.subjectName.toJSON());
  } catch {
    throw new CsrError('the CSR subject cannot be read');
  }
  // Every extensionRequest attribute counts (Go, and so Vault, reads them all), each holding
  // exactly one set of extensions.
  let extensions: x509.Extension[] = [];
  try {
    for (const attr of csr.attributes) {
      if (attr.type !== OID.extensionRequest) continue;
      if (!(attr instanceof x509.ExtensionsAttribute) || attr.values.length !== 1) {
        throw new CsrError('the CSR has an extension request vaultsync cannot read');
      }
      extensions = extensions.concat(attr.items);
    }
  } catch (err) {
    if (err instanceof CsrError) throw err;
    throw new CsrError('the CSR has an extension vaultsync cannot read');
  }
  for (const ext of extensions) {
    switch (ext.type) {
      case OID.subjectAltName:
        if (!(ext instanceof x509.SubjectAlternativeNameExtension)) throw unreadable('subjectAltName');
        for (const [kind, names] of Object.entries(sortAltNames(ext.names.items))) {
          out[kind as keyof AltNames].push(...names);
        }
        break;
      case OID.keyUsage:
        if (!(ext instanceof x509.KeyUsagesExtension)) throw unreadable('keyUsage');
        out.keyUsage |= ext.usages;
        break;
      case OID.extendedKeyUsage:
        if (!(ext instanceof x509.ExtendedKeyUsageExtension)) throw unreadable('extendedKeyUsage');
        out.extendedKeyUsages.push(...ext.usages.map(String));
        break;
      case OID.basicConstraints:
        if (!(ext instanceof x509.BasicConstraintsExtension)) throw unreadable('basicConstraints');
        out.isCA ||= ext.ca;
        break;
      default:
      // Not copied by either issuer: the local CA builds its own, Vault's sign/<role> ignores them.
    }
  }
  return out;
}

/**
 * What the CSR asks for beyond `req`, one human-readable item each (names are not secret);
 * empty when the CSR asks for no more than the request. Pure.
 */
export function csrExcess(csr: CsrRequest, req: CertificateRequestSpec): string[] {
  const out: string[] = [];
  const subject = new Set(nameAttributes(subjectName(req)));
  for (const a of csr.subject) if (!subject.has(a)) out.push(`subject ${quotedName(a)}`);
  const dns = new Set(req.dnsNames.map((d) => d.toLowerCase()));
  for (const d of csr.dnsNames) if (!dns.has(d.toLowerCase())) out.push(`DNS name "${quotedName(d)}"`);
  const ips = new Set(req.ipAddresses.map(normalizeIp));
  for (const ip of csr.ipAddresses) if (!ips.has(normalizeIp(ip))) out.push(`IP address "${quotedName(ip)}"`);
  const uris = new Set(req.uris);
  for (const u of csr.uris) if (!uris.has(u)) out.push(`URI "${quotedName(u)}"`);
  const emails = new Set(req.emailAddresses);
  for (const e of csr.emailAddresses) if (!emails.has(e)) out.push(`email address "${quotedName(e)}"`);
  for (const n of csr.otherNames) out.push(`subject alternative name ${quotedName(n)}`);
  const { keyUsage, extended } = splitUsages(req.usages);
  const extraBits = csr.keyUsage & ~keyUsage;
  for (const [name, flag] of Object.entries(KEY_USAGE_NAMES)) {
    if (extraBits & flag) out.push(`key usage "${name}"`);
  }
  const allowedEku = new Set(extended);
  for (const oid of new Set(csr.extendedKeyUsages)) {
    if (!allowedEku.has(oid)) out.push(`extended key usage "${EKU_NAMES[oid] ?? oid}"`);
  }
  if (csr.isCA && !req.isCA) out.push('CA:TRUE (basic constraints)');
  return out;
}

/** Throws CsrError naming what the CSR asks for beyond `req`. */
export function assertCsrWithinRequest(csr: CsrRequest, req: CertificateRequestSpec): void {
  const excess = csrExcess(csr, req);
  if (excess.length === 0) return;
  const shown = excess.length > 10 ? [...excess.slice(0, 10), `and ${excess.length - 10} more`] : excess;
  throw new CsrError(
    `the CSR asks for more than the request: ${shown.join(', ')}; ` +
      'put it in the request (the spec or the API body) or leave it out of the CSR',
  );
}

/** `TYPE=value` for each attribute of a JSON name. */
function nameAttributes(name: x509.JsonName): string[] {
  const out: string[] = [];
  for (const rdn of name) {
    for (const [type, values] of Object.entries(rdn)) for (const v of values) out.push(`${type}=${v}`);
  }
  return out;
}

function unreadable(what: string): CsrError {
  return new CsrError(`the CSR's ${what} extension cannot be read`);
}

/** One name per key usage bit (the first of the aliases). */
const KEY_USAGE_NAMES: Record<string, number> = Object.fromEntries(
  Object.entries(KEY_USAGE_FLAGS).filter(([name]) => name !== 'signing'),
);
const EKU_NAMES: Record<string, string> = {};
for (const [name, oid] of Object.entries(EXTENDED_KEY_USAGES)) EKU_NAMES[oid] ??= name;
