// `kubectl vaultsync inspect certificate <name>`: what the TLS Secret of a VaultCertificate
// holds — each certificate of the chain (subject, issuer, serial, validity, names) and the CA —
// parsed with src/pki (@peculiar/x509 and node:crypto). Never reads out tls.key: it says only
// whether there is one.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate } from '../apis/v1alpha1/index.ts';
import { type CertificateInfo, certificateInfo, splitPemCertificates } from '../pki/index.ts';
import { type OutputFormat, formatColumns, formatDocument, relativeTime } from './output.ts';

export interface CertificateEntry {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  isCA: boolean;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emailAddresses: string[];
}

export interface CertificateReport {
  namespace: string;
  /** The VaultCertificate, when the Secret belongs to one. */
  certificate?: string;
  secret: string;
  /** `backend` or `backend/role`, as recorded in status. */
  issuedBy?: string;
  revision?: number;
  renewalTime?: string;
  hasKey: boolean;
  /** tls.crt: the leaf first, then the intermediates. */
  chain: CertificateEntry[];
  /** ca.crt. */
  ca: CertificateEntry[];
  /** Blocks that could not be read, by key. */
  errors: string[];
}

function entry(info: CertificateInfo): CertificateEntry {
  return {
    subject: info.subject,
    issuer: info.issuer,
    serialNumber: info.serialNumber,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    isCA: info.isCA,
    dnsNames: info.dnsNames,
    ipAddresses: info.ipAddresses,
    uris: info.uris,
    emailAddresses: info.emailAddresses,
  };
}

function parseBundle(key: string, data: string | undefined, errors: string[]): CertificateEntry[] {
  if (!data) return [];
  const pems = splitPemCertificates(Buffer.from(data, 'base64').toString('utf8'));
  return pems.flatMap((pem, i) => {
    try {
      return [entry(certificateInfo(pem))];
    } catch {
      errors.push(`${key}: certificate ${i + 1} cannot be read`);
      return [];
    }
  });
}

export function certificateReport(secret: V1Secret, vc: VaultCertificate | undefined): CertificateReport {
  const errors: string[] = [];
  const data = secret.data ?? {};
  const chain = parseBundle('tls.crt', data['tls.crt'], errors);
  if (data['tls.crt'] && chain.length === 0 && errors.length === 0)
    errors.push('tls.crt: no PEM certificate');
  return {
    namespace: secret.metadata?.namespace ?? '',
    ...(vc && { certificate: vc.metadata.name }),
    secret: secret.metadata?.name ?? '',
    ...(vc?.status?.issuer && { issuedBy: vc.status.issuer }),
    ...(vc?.status?.revision !== undefined && { revision: vc.status.revision }),
    ...(vc?.status?.renewalTime && { renewalTime: vc.status.renewalTime }),
    hasKey: (data['tls.key'] ?? '') !== '',
    chain,
    ca: parseBundle('ca.crt', data['ca.crt'], errors),
    errors,
  };
}

function names(c: CertificateEntry): string {
  return [...c.dnsNames, ...c.ipAddresses, ...c.uris, ...c.emailAddresses].join(', ');
}

function describe(c: CertificateEntry, now: number): string[][] {
  const expires = Date.parse(c.notAfter) <= now ? 'EXPIRED' : 'expires';
  return [
    ['Subject:', c.subject || '-'],
    ['Issuer:', c.issuer || '-'],
    ['Serial:', c.serialNumber],
    ['Valid:', `${c.notBefore} to ${c.notAfter} (${expires} ${relativeTime(c.notAfter, now)})`],
    ...(names(c) ? [['Names:', names(c)]] : []),
    ...(c.isCA ? [['CA:', 'yes']] : []),
  ];
}

export function formatCertificateReport(r: CertificateReport, format: OutputFormat, now: number): string {
  if (format !== 'table') return formatDocument(r, format);
  const head = r.certificate
    ? `VaultCertificate ${r.namespace}/${r.certificate}, Secret ${r.secret}`
    : `Secret ${r.namespace}/${r.secret}`;
  const facts: string[][] = [
    ...(r.issuedBy
      ? [['Issued by:', `${r.issuedBy}${r.revision !== undefined ? ` (revision ${r.revision})` : ''}`]]
      : []),
    ...(r.renewalTime ? [['Renewal:', `${r.renewalTime} (${relativeTime(r.renewalTime, now)})`]] : []),
    ['Private key:', r.hasKey ? 'present in tls.key (not shown)' : 'missing'],
  ];
  const parts = [`${head}\n${formatColumns(facts, '  ')}`];
  r.chain.forEach((c, i) => {
    const title = i === 0 ? 'Certificate (tls.crt):' : `Chain ${i} (tls.crt):`;
    parts.push(`  ${title}\n${formatColumns(describe(c, now), '    ')}`);
  });
  r.ca.forEach((c, i) => parts.push(`  CA ${i + 1} (ca.crt):\n${formatColumns(describe(c, now), '    ')}`));
  for (const e of r.errors) parts.push(`  Error: ${e}\n`);
  return parts.join('');
}
