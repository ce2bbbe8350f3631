// The desired certificate: the spec with the operator's defaults applied and names normalised,
// and a hash of the parts that, when they change, make the certificate wrong (names, subject,
// usages, issuer, mode, key). Pure.
import { createHash } from 'node:crypto';
import type { VaultCertificate, VaultCertificateSpec } from '../../apis/v1alpha1/index.ts';
import { VAULT_CERTIFICATE_DEFAULTS, parseDuration } from '../../apis/v1alpha1/index.ts';
import { type CertificateRequestSpec, type KeySpec, normalizeIp, normalizeKeySpec } from '../../pki/index.ts';
import { canonicalJson } from '../shared/canonical-json.ts';

export type RenewBefore = { kind: 'duration'; ms: number } | { kind: 'percentage'; percentage: number };

export interface DesiredCertificate {
  issuer: { backend: string; role?: string };
  mode: 'sign' | 'issue';
  request: CertificateRequestSpec;
  /** Explicit spec.duration; undefined leaves it to the issuer (local CA: 2160h, Vault: the role's ttl). */
  durationMs: number | undefined;
  renewBefore: RenewBefore;
  key: KeySpec;
  rotationPolicy: 'Always' | 'Never';
  secretName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  outputs: { combinedPem: boolean; der: boolean };
  revokeSuperseded: boolean;
  revokeOnDelete: boolean;
}

const sortedUnique = (xs: readonly string[] | undefined, norm: (s: string) => string = (s) => s) =>
  [...new Set((xs ?? []).map(norm))].sort();

export function desiredCertificate(vc: VaultCertificate): DesiredCertificate {
  const spec: VaultCertificateSpec = vc.spec;
  const d = VAULT_CERTIFICATE_DEFAULTS;
  const renewBefore: RenewBefore =
    spec.renewBefore !== undefined
      ? { kind: 'duration', ms: parseDuration(spec.renewBefore) }
      : { kind: 'percentage', percentage: spec.renewBeforePercentage ?? d.renewBeforePercentage };
  const subject =
    spec.subject && Object.values(spec.subject).some((v) => (v?.length ?? 0) > 0) ? spec.subject : undefined;
  const formats = new Set((spec.additionalOutputFormats ?? []).map((f) => f.type));
  return {
    issuer: {
      backend: spec.issuer.backend,
      ...(spec.issuer.role === undefined ? {} : { role: spec.issuer.role }),
    },
    mode: spec.mode ?? d.mode,
    request: {
      ...(spec.commonName === undefined ? {} : { commonName: spec.commonName }),
      dnsNames: sortedUnique(spec.dnsNames, (s) => s.toLowerCase()),
      ipAddresses: sortedUnique(spec.ipAddresses, normalizeIp),
      uris: sortedUnique(spec.uris),
      emailAddresses: sortedUnique(spec.emailAddresses),
      ...(subject ? { subject } : {}),
      usages: sortedUnique(spec.usages ?? [...d.usages]),
      isCA: spec.isCA ?? d.isCA,
    },
    durationMs: spec.duration === undefined ? undefined : parseDuration(spec.duration),
    renewBefore,
    key: normalizeKeySpec({
      algorithm: spec.privateKey?.algorithm ?? d.privateKey.algorithm,
      ...(spec.privateKey?.size === undefined ? {} : { size: spec.privateKey.size }),
    }),
    rotationPolicy: spec.privateKey?.rotationPolicy ?? d.privateKey.rotationPolicy,
    secretName: spec.secretName,
    labels: { ...spec.secretTemplate?.labels },
    annotations: { ...spec.secretTemplate?.annotations },
    outputs: { combinedPem: formats.has('CombinedPEM'), der: formats.has('DER') },
    revokeSuperseded: spec.revokeSuperseded ?? d.revokeSuperseded,
    revokeOnDelete: spec.revokeOnDelete ?? d.revokeOnDelete,
  };
}

/** `backend` or `backend/role`: how the Secret records who issued its certificate. */
export function issuerRef(d: Pick<DesiredCertificate, 'issuer'>): string {
  return d.issuer.role === undefined ? d.issuer.backend : `${d.issuer.backend}/${d.issuer.role}`;
}

export function parseIssuerRef(ref: string): { backend: string; role?: string } {
  const i = ref.indexOf('/');
  return i < 0 ? { backend: ref } : { backend: ref.slice(0, i), role: ref.slice(i + 1) };
}

/**
 * Hash of what the certificate must say and who must sign it. Left out on purpose: duration
 * and renewBefore (they move the renewal time, no new certificate needed), rotationPolicy,
 * the Secret's name, template and extra outputs (rewritten without a new certificate), and
 * the key in mode issue (the backend decides it).
 */
export function requestHash(d: DesiredCertificate): string {
  const material = {
    v: 1,
    issuer: issuerRef(d),
    mode: d.mode,
    request: d.request,
    key: d.mode === 'sign' ? d.key : undefined,
  };
  return `sha256:${createHash('sha256').update(canonicalJson(material)).digest('base64url').slice(0, 32)}`;
}
