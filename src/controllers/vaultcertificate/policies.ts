// "Should a new certificate be issued?" as an ordered chain of small named checks, in the
// manner of cert-manager's policy chain: the first that objects gives the reason. Each check
// is pure and sees only the desired certificate, the parsed Secret and the clock.
import {
  type VaultCertificate,
  type VaultCertificateStatus,
  UserAnnotation,
  pendingToken,
  IssuingReason,
} from '../../apis/v1alpha1/index.ts';
import { keySpecEqual, describeKeySpec } from '../../pki/index.ts';
import type { ObservedSecret } from './observed.ts';
import type { Renewal } from './renewal.ts';
import { type DesiredCertificate, issuerRef } from './spec.ts';

export interface PolicyInput {
  desired: DesiredCertificate;
  requestHash: string;
  observed: ObservedSecret;
  /** MAC of the material vaultsync last wrote (status, or its own memory); undefined: unknown. */
  expectedMac: string | undefined;
  /** Issuer of the certificate vaultsync last wrote (status, or its own memory); undefined: not recorded. */
  recordedIssuer?: string | undefined;
  /** Renewal time of the certificate in the Secret, when there is one. */
  renewal: Renewal | undefined;
  /** The vaultsync.io/renew-now value not answered yet (renewNowToken). */
  renewNow?: string | undefined;
  now: number;
}

export interface Violation {
  reason: IssuingReason;
  message: string;
}

export type Policy = (input: PolicyInput) => Violation | undefined;

const v = (reason: IssuingReason, message: string): Violation => ({ reason, message });

export const secretDoesNotExist: Policy = ({ observed, desired }) =>
  observed.exists ? undefined : v(IssuingReason.DoesNotExist, `Secret ${desired.secretName} does not exist`);

export const secretMissingData: Policy = ({ observed, desired }) =>
  observed.hasData
    ? undefined
    : v(IssuingReason.MissingData, `Secret ${desired.secretName} has no tls.crt or tls.key`);

export const keyUnreadable: Policy = ({ observed }) =>
  observed.key ? undefined : v(IssuingReason.InvalidKeyPair, observed.keyError ?? 'tls.key cannot be read');

export const certificateUnreadable: Policy = ({ observed }) =>
  observed.cert
    ? undefined
    : v(IssuingReason.InvalidCertificate, observed.certError ?? 'tls.crt cannot be read');

export const keyDoesNotMatchCertificate: Policy = ({ observed }) =>
  observed.keyMatchesCert === false
    ? v(IssuingReason.KeyMismatch, 'tls.key does not belong to the certificate in tls.crt')
    : undefined;

/**
 * vaultsync has no record of writing the material (no status.certificateMAC): a Secret made or
 * restored by someone else, or written just before status was lost. Not trusted, not adopted.
 */
export const notRecorded: Policy = ({ expectedMac }) =>
  expectedMac === undefined
    ? v(IssuingReason.NotRecorded, 'vaultsync has no record of writing the certificate in the Secret')
    : undefined;

/** The material differs from what vaultsync wrote: someone edited the Secret. */
export const secretEdited: Policy = ({ observed, expectedMac }) =>
  expectedMac !== undefined &&
  observed.macVerdict !== undefined &&
  observed.macVerdict(expectedMac) === 'mismatch'
    ? v(
        IssuingReason.SecretEdited,
        'the certificate, key or CA in the Secret changed since vaultsync wrote them',
      )
    : undefined;

/** The recorded issuer; the Secret's annotation only for a status written before issuers were recorded. */
export const incorrectIssuer: Policy = ({ observed, desired, recordedIssuer }) => {
  const issuer = recordedIssuer ?? observed.issuer;
  return issuer !== issuerRef(desired)
    ? v(
        IssuingReason.IncorrectIssuer,
        `the certificate was issued by ${issuer ?? 'an unknown issuer'}, the spec asks for ${issuerRef(desired)}`,
      )
    : undefined;
};

export const requestChanged: Policy = ({ observed, requestHash }) =>
  observed.requestHash !== requestHash
    ? v(
        IssuingReason.SpecChanged,
        'names, subject, usages, mode or key in the spec changed since the certificate was issued',
      )
    : undefined;

/** Every requested name is in the certificate (a backend may add some, e.g. the CN as a DNS name). */
export const namesMissing: Policy = ({ observed, desired }) => {
  const cert = observed.cert;
  if (!cert) return undefined;
  const r = desired.request;
  const lower = (xs: string[]) => new Set(xs.map((x) => x.toLowerCase()));
  const dns = lower(cert.dnsNames);
  const missing = [
    ...r.dnsNames.filter((n) => !dns.has(n)),
    ...r.ipAddresses.filter((n) => !cert.ipAddresses.includes(n)),
    ...r.uris.filter((n) => !cert.uris.includes(n)),
    ...r.emailAddresses.filter((n) => !cert.emailAddresses.includes(n)),
    ...(r.commonName !== undefined && cert.commonName !== r.commonName ? [`CN=${r.commonName}`] : []),
  ];
  return missing.length > 0
    ? v(IssuingReason.NamesMismatch, `the certificate lacks ${missing.slice(0, 5).join(', ')}`)
    : undefined;
};

/** Mode sign: the key in the Secret must be the kind the spec asks for. */
export const keyTypeChanged: Policy = ({ observed, desired }) =>
  desired.mode === 'sign' && observed.key && !keySpecEqual(observed.key.spec, desired.key)
    ? v(
        IssuingReason.SpecChanged,
        `the key is ${describeKeySpec(observed.key.spec)}, the spec asks for ${describeKeySpec(desired.key)}`,
      )
    : undefined;

export const expired: Policy = ({ observed, now }) =>
  observed.cert && now >= observed.cert.notAfter.getTime()
    ? v(IssuingReason.Expired, `the certificate expired at ${observed.cert.notAfter.toISOString()}`)
    : undefined;

export const renewalDue: Policy = ({ renewal, now }) =>
  renewal && now >= renewal.at
    ? v(IssuingReason.Renewing, `renewal was due at ${new Date(renewal.at).toISOString()}`)
    : undefined;

/** Someone asked for a new certificate now (vaultsync.io/renew-now, `kubectl vaultsync renew`). */
const manuallyTriggered: Policy = ({ renewNow }) =>
  renewNow !== undefined
    ? v(IssuingReason.ManuallyTriggered, `a new certificate was requested (${UserAnnotation.RenewNow})`)
    : undefined;

/**
 * The renew-now value not answered yet: answered by the next certificate written
 * (status.renewNowHandled) — in the cached status, or in `written`, the status this replica last
 * wrote (the cache may not show it yet: a reconcile woken by the new Secret's own event would
 * otherwise issue a second certificate for one request).
 */
export function renewNowToken(
  vc: VaultCertificate,
  written?: Pick<VaultCertificateStatus, 'renewNowHandled'>,
): string | undefined {
  const value = vc.metadata?.annotations?.[UserAnnotation.RenewNow];
  const token = pendingToken(value, vc.status?.renewNowHandled);
  return token !== undefined && written ? pendingToken(value, written.renewNowHandled) : token;
}

/** The chain, in order. */
export const ISSUANCE_POLICIES: readonly Policy[] = [
  secretDoesNotExist,
  secretMissingData,
  keyUnreadable,
  certificateUnreadable,
  keyDoesNotMatchCertificate,
  notRecorded,
  secretEdited,
  incorrectIssuer,
  requestChanged,
  keyTypeChanged,
  namesMissing,
  expired,
  renewalDue,
  manuallyTriggered,
];

/** The first objection of the chain, or undefined when the Secret's certificate is good. */
export function shouldIssue(
  input: PolicyInput,
  policies: readonly Policy[] = ISSUANCE_POLICIES,
): Violation | undefined {
  for (const policy of policies) {
    const violation = policy(input);
    if (violation) return violation;
  }
  return undefined;
}

/** Until the renewal succeeds, a certificate that is only due for renewal is still usable. */
export function stillUsable(violation: Violation): boolean {
  return violation.reason === IssuingReason.Renewing || violation.reason === IssuingReason.ManuallyTriggered;
}
