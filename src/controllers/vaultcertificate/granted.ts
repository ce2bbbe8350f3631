// Does what the issuer granted fit the spec? A certificate shorter than spec.duration asked for,
// without a requested name, or already due for renewal would be issued again at once by the next
// reconcile: it is refused with a reason a person can act on. Pure.
import { VaultCertificateReason } from '../../apis/v1alpha1/index.ts';
import type { IssuedCertificate } from '../../issuers/index.ts';
import type { CertificateInfo } from '../../pki/index.ts';
import { Failure } from '../failure/index.ts';
import { namesMissing } from './policies.ts';
import type { Renewal } from './renewal.ts';
import type { DesiredCertificate } from './spec.ts';

/** A granted lifetime this much shorter than requested still counts as granted (rounding, clocks). */
const DURATION_TOLERANCE_MS = 60_000;

export function grantProblem(input: {
  desired: DesiredCertificate;
  issuerName: string;
  issued: Pick<IssuedCertificate, 'warnings'>;
  cert: CertificateInfo;
  requestedAt: number;
  renewal: Renewal;
  now: number;
}): Failure | undefined {
  const { desired, issuerName, cert } = input;
  const warnings = input.issued.warnings.length > 0 ? `: ${input.issued.warnings.join('; ')}` : '';
  if (desired.durationMs !== undefined) {
    const granted = cert.notAfter.getTime() - input.requestedAt;
    const tolerance = Math.max(DURATION_TOLERANCE_MS, desired.durationMs / 100);
    if (granted < desired.durationMs - tolerance) {
      return new Failure(
        VaultCertificateReason.DurationNotGranted,
        `${issuerName} granted ${formatHours(granted)} instead of the requested ${formatHours(desired.durationMs)}${warnings}; ` +
          'lower spec.duration or raise the maximum of the issuer (a Vault role max_ttl)',
      );
    }
  }
  const names = namesMissing({
    desired,
    requestHash: '',
    observed: { exists: true, hasData: true, chainPem: [], cert },
    expectedMac: undefined,
    renewal: undefined,
    now: 0,
  });
  if (names)
    return new Failure(
      VaultCertificateReason.NamesNotGranted,
      `${issuerName} issued a certificate that ${names.message.replace(/^the certificate /, '')}${warnings}`,
    );
  if (input.renewal.at <= input.now) {
    return new Failure(
      VaultCertificateReason.DurationNotGranted,
      `${issuerName} issued a certificate valid until ${cert.notAfter.toISOString()}, which is already due for renewal; lengthen spec.duration or shorten renewBefore`,
    );
  }
  return undefined;
}

/** `720h`, `1.5h`, `45m`: how long a granted or requested lifetime is. */
export function formatHours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 1 ? `${Math.round(h * 10) / 10}h` : `${Math.round(ms / 60_000)}m`;
}
