// What vaultsync recorded of the certificate it last wrote for a VaultCertificate: serial and
// issuer, from status (written by the operator alone) or from this replica's memory of its own
// write. The only source of what revokeSuperseded and revokeOnDelete revoke: the Secret, which
// anyone who may edit Secrets in the namespace can change, never picks a serial or an issuer.
// Pure.
import type { VaultCertificateStatus } from '../../apis/v1alpha1/index.ts';
import type { ObservedSecret } from './observed.ts';

export interface RecordedCertificate {
  serialNumber: string;
  /** `backend` or `backend/role`. */
  issuer: string;
}

/** This replica's memory of its last write, as far as the recorded certificate goes. */
export interface WrittenCertificate extends RecordedCertificate {
  secretName: string;
  mac: string;
}

/**
 * The certificate vaultsync last wrote for the resource. This replica's own write when the Secret
 * still holds it (its status write may have failed, or the informer lags); otherwise status. A
 * status written before the issuer was recorded (no status.issuer) is adopted by the means of that
 * time: only while the Secret still holds exactly the material status recorded (keyed MAC, the
 * serial) and names the spec's issuer, which is then the issuer.
 */
export function recordedCertificate(input: {
  status: VaultCertificateStatus | undefined;
  written: WrittenCertificate | undefined;
  secretName: string;
  observed: Pick<ObservedSecret, 'cert' | 'issuer'>;
  /** Does the Secret hold the material this MAC (status.certificateMAC, or ours) was made of? */
  holds: (mac: string) => boolean;
  desiredIssuer: string;
}): RecordedCertificate | undefined {
  const { status, written, observed, holds } = input;
  if (written && written.secretName === input.secretName && holds(written.mac))
    return { serialNumber: written.serialNumber, issuer: written.issuer };
  const serialNumber = status?.serialNumber;
  if (!serialNumber) return undefined;
  if (status.issuer) return { serialNumber, issuer: status.issuer };
  const unchanged =
    status.certificateMAC !== undefined &&
    holds(status.certificateMAC) &&
    observed.cert?.serialNumber === serialNumber &&
    observed.issuer === input.desiredIssuer;
  return unchanged ? { serialNumber, issuer: input.desiredIssuer } : undefined;
}

/** The certificate to revoke when `current` replaces `previous`: none if it is the same one. */
export function superseded(
  previous: RecordedCertificate | undefined,
  current: RecordedCertificate,
): RecordedCertificate | undefined {
  if (!previous) return undefined;
  return previous.serialNumber === current.serialNumber && previous.issuer === current.issuer
    ? undefined
    : previous;
}
