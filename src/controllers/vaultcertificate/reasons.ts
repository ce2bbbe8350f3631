// What a backend error means for VaultCertificate (controllers/failure's backendReason with this
// kind's exceptions). The reasons themselves are apis/v1alpha1/reasons.ts: VaultCertificateReason,
// CertificateEventReason, IssuingReason (docs/certificates.md lists them).
import { VaultCertificateReason } from '../../apis/v1alpha1/index.ts';
import type { BackendErrorCode } from '../../resilience/errors.ts';
import { type KindReasons, backendReason } from '../failure/index.ts';

/** A missing issuer path or role is IssuerNotReady; issuance writes nothing with check-and-set. */
export const BACKEND_REASONS: KindReasons = { notFound: VaultCertificateReason.IssuerNotReady };

export const reasonForBackendError = (code: BackendErrorCode): VaultCertificateReason =>
  backendReason(code, BACKEND_REASONS) as VaultCertificateReason;
