// Condition and event reasons of VaultCertificate: the vocabulary is apis/v1alpha1/reasons.ts
// (docs/certificates.md lists them); what a backend error means is controllers/failure's backendReason.
import { CertificateEventReason, VaultCertificateReason } from '../../apis/v1alpha1/index.ts';
import type { BackendErrorCode } from '../../resilience/errors.ts';
import { type KindReasons, backendReason } from '../failure/index.ts';

/** Reasons of `Ready`. */
export const Reason = VaultCertificateReason;
export type Reason = VaultCertificateReason;
/** Event reasons (besides the failure reasons above, which Warning events use). */
export const EventReason = CertificateEventReason;

/** A missing issuer path or role is IssuerNotReady; issuance writes nothing with check-and-set. */
export const BACKEND_REASONS: KindReasons = { notFound: Reason.IssuerNotReady };

export const reasonForBackendError = (code: BackendErrorCode): Reason =>
  backendReason(code, BACKEND_REASONS) as Reason;
