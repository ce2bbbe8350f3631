// What a successful issuance is called in the log and the Normal event: the first certificate
// is Issued, one replacing an expiring or expired one is Renewed, any other replacement is
// Reissued with its trigger's reason. Only a replacement restarts workloads. Pure.
import { CertificateEventReason, IssuingReason } from '../../apis/v1alpha1/index.ts';
import type { CertificateInfo } from '../../pki/index.ts';
import type { CertificateIssued } from '../lifecycle.ts';
import type { Violation } from './policies.ts';

/** Triggers whose new certificate is a renewal (event Renewed), not a replacement (Reissued). */
const RENEWALS: ReadonlySet<string> = new Set([
  IssuingReason.Renewing,
  IssuingReason.Expired,
  IssuingReason.ManuallyTriggered,
]);

export interface IssuanceOutcome {
  /** The first certificate of the resource: nothing to replace, no workload to restart. */
  first: boolean;
  logMessage: string;
  eventReason: CertificateIssued['reason'];
  eventMessage: string;
}

export function issuanceOutcome(
  trigger: Violation,
  previousRevision: number,
  cert: Pick<CertificateInfo, 'serialNumber' | 'notAfter'>,
  revision: number,
): IssuanceOutcome {
  const what = `certificate ${cert.serialNumber} (revision ${revision}), valid until ${cert.notAfter.toISOString()}`;
  const first = trigger.reason === IssuingReason.DoesNotExist && previousRevision === 0;
  if (first)
    return {
      first,
      logMessage: 'Issued certificate',
      eventReason: CertificateEventReason.Issued,
      eventMessage: `Issued ${what}`,
    };
  const renewing = RENEWALS.has(trigger.reason);
  if (renewing)
    return {
      first,
      logMessage: 'Renewed certificate',
      eventReason: CertificateEventReason.Renewed,
      eventMessage: `Renewed ${what}`,
    };
  return {
    first,
    logMessage: 'Reissued certificate',
    eventReason: CertificateEventReason.Reissued,
    eventMessage: `Reissued ${what} because ${trigger.message}`,
  };
}
