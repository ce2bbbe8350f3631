// The revocation step: what vaultsync recorded (recorded.ts), never what the Secret holds, is
// revoked at its own issuer — the certificate just superseded (revokeSuperseded, best effort),
// or the last one when the resource is deleted (revokeOnDelete; transient failures retried).
import { CertificateEventReason } from '../../apis/v1alpha1/index.ts';
import type { VaultCertificate } from '../../apis/v1alpha1/index.ts';
import { BackendError } from '../../resilience/errors.ts';
import type { ReconcileContext } from '../../kube/controller.ts';
import type { StepContext } from './context.ts';
import { type RecordedCertificate, superseded } from './recorded.ts';
import { type DesiredCertificate, parseIssuerRef } from './spec.ts';

/**
 * revokeSuperseded: the certificate just replaced, as vaultsync recorded it (never what the
 * Secret holds), is revoked at its own issuer, best effort.
 */
export async function revokeSuperseded(
  c: StepContext,
  vc: VaultCertificate,
  desired: DesiredCertificate,
  replaced: { previous: RecordedCertificate | undefined; current: RecordedCertificate },
  ctx: ReconcileContext,
): Promise<void> {
  if (!desired.revokeSuperseded) return;
  const { previous, current } = replaced;
  const serial = vc.status?.serialNumber;
  if (!previous && serial !== undefined && serial !== current.serialNumber)
    unrecordedIssuer(c, vc, serial, 'it is superseded');
  const old = superseded(previous, current);
  if (!old) return;
  try {
    if (!(await revoke(c, vc, old, ctx))) return;
    ctx.log.info('Revoked certificate', { serialNumber: old.serialNumber, why: 'superseded' });
    void c.deps.events.normal(
      vc,
      CertificateEventReason.Revoked,
      `Revoked superseded certificate ${old.serialNumber}`,
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : 'revocation failed';
    void c.deps.events.warning(
      vc,
      CertificateEventReason.RevocationFailed,
      `Could not revoke superseded certificate ${old.serialNumber}: ${message}`,
    );
  }
}

/**
 * revokeOnDelete: the certificate vaultsync last wrote, as status (or this replica) recorded it.
 * A transient failure throws (retried with backoff, the finalizer kept); any other is said once.
 */
export async function revokeOnDeletion(
  c: StepContext,
  vc: VaultCertificate,
  current: RecordedCertificate | undefined,
  ctx: ReconcileContext,
): Promise<void> {
  if (!current && vc.status?.serialNumber)
    unrecordedIssuer(c, vc, vc.status.serialNumber, 'the resource is deleted');
  if (!current?.serialNumber) return;
  const serial = current.serialNumber;
  try {
    if (!(await revoke(c, vc, current, ctx))) return;
    ctx.log.info('Revoked certificate', {
      serialNumber: serial,
      issuer: parseIssuerRef(current.issuer).backend,
    });
    void c.deps.events.normal(
      vc,
      CertificateEventReason.Revoked,
      `Revoked certificate ${serial} as the resource is deleted`,
    );
  } catch (err) {
    if (err instanceof BackendError && err.transient) throw err; // retried with backoff
    const message = err instanceof Error ? err.message : 'revocation failed';
    void c.deps.events.warning(
      vc,
      CertificateEventReason.RevocationFailed,
      `Could not revoke certificate ${serial}: ${message}`,
    );
  }
}

/** Revokes `cert` at the issuer that issued it; false when that issuer is gone or cannot revoke. */
async function revoke(
  c: StepContext,
  vc: VaultCertificate,
  cert: RecordedCertificate,
  ctx: ReconcileContext,
): Promise<boolean> {
  const from = parseIssuerRef(cert.issuer);
  const issuer = c.deps.issuers.get(from.backend);
  if (!issuer?.supportsRevocation) return false;
  await issuer.revoke(cert.serialNumber, {
    namespace: vc.metadata?.namespace ?? '',
    signal: ctx.signal,
    ...(from.role ? { role: from.role } : {}),
  });
  return true;
}

/**
 * A status from before issuers were recorded names a serial, but the Secret no longer holds what
 * vaultsync wrote, so nothing says which issuer it came from: it is not revoked, and we say so.
 */
function unrecordedIssuer(c: StepContext, vc: VaultCertificate, serial: string, why: string): void {
  void c.deps.events.warning(
    vc,
    CertificateEventReason.RevocationFailed,
    `Did not revoke certificate ${serial} as ${why}: its issuer is not recorded in status (written by an earlier ` +
      'vaultsync) and the Secret no longer holds what vaultsync wrote',
  );
}
