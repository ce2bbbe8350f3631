// Certificate signing requests (PKCS#10) with @peculiar/x509: subject, subject alternative
// names (DNS, IP, URI, email), key usage, extended key usage and basic constraints, signed by
// the key made in the cluster. Only the CSR leaves the cluster in mode sign.
import type { PrivateKey } from './keys.ts';
import { splitUsages } from './usages.ts';
import { type X509KeyPair, type X509SigningAlgorithm, x509 } from './x509.ts';

export interface CertificateSubject {
  organizations?: readonly string[];
  organizationalUnits?: readonly string[];
  countries?: readonly string[];
  localities?: readonly string[];
  provinces?: readonly string[];
}

/** What a certificate should say about its subject and its use. */
export interface CertificateRequestSpec {
  commonName?: string;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  uris: readonly string[];
  emailAddresses: readonly string[];
  subject?: CertificateSubject;
  usages: readonly string[];
  isCA: boolean;
}

/** The subject as an X.500 name (C, ST, L, O, OU, CN: the usual order). */
export function subjectName(req: Pick<CertificateRequestSpec, 'commonName' | 'subject'>): x509.JsonName {
  const name: x509.JsonName = [];
  const add = (type: string, values: readonly string[] | undefined) => {
    if (values && values.length > 0) name.push({ [type]: [...values] });
  };
  add('C', req.subject?.countries);
  add('ST', req.subject?.provinces);
  add('L', req.subject?.localities);
  add('O', req.subject?.organizations);
  add('OU', req.subject?.organizationalUnits);
  add('CN', req.commonName === undefined ? undefined : [req.commonName]);
  return name;
}

/** The extensions a CSR (and the local CA's certificate) carries for `req`. */
export function requestExtensions(req: CertificateRequestSpec): x509.Extension[] {
  const names: x509.JsonGeneralName[] = [
    ...req.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...req.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...req.uris.map((value) => ({ type: 'url' as const, value })),
    ...req.emailAddresses.map((value) => ({ type: 'email' as const, value })),
  ];
  const { keyUsage, extended } = splitUsages(req.usages);
  const extensions: x509.Extension[] = [];
  // With no subject, the names are the identity and the extension must be critical (RFC 5280).
  if (names.length > 0)
    extensions.push(new x509.SubjectAlternativeNameExtension(names, subjectName(req).length === 0));
  if (keyUsage !== 0) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  if (extended.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(extended));
  // Only a CA asks for basic constraints; issuers (Vault) ignore the extension otherwise.
  if (req.isCA) extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
  return extensions;
}

/**
 * A CSR this process built and signed: its PEM (what leaves the cluster) and the object built.
 * Reading it back before signing (csr-policy.ts) takes the object, not a second parse and check
 * of our own signature — half the CPU of an issuance's CSR work. Only createCsr makes one; a CSR
 * from outside (the API's) is a PEM string and is parsed and verified.
 */
export class BuiltCsr {
  readonly pem: string;
  readonly request: x509.Pkcs10CertificateRequest;
  constructor(request: x509.Pkcs10CertificateRequest) {
    this.request = request;
    this.pem = request.toString('pem');
  }
}

/** A CSR handed to an issuer: a PEM from outside, or one this process built. */
export type CsrInput = string | BuiltCsr;

export const csrPem = (csr: CsrInput): string => (csr instanceof BuiltCsr ? csr.pem : csr);

/** A CSR for `req`, signed with `key`. */
export async function createCsr(req: CertificateRequestSpec, key: PrivateKey): Promise<BuiltCsr> {
  const { keys, algorithm } = key.signingKeys();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(req),
    keys: keys as X509KeyPair,
    signingAlgorithm: algorithm as X509SigningAlgorithm,
    extensions: requestExtensions(req),
  });
  return new BuiltCsr(csr);
}
