// Condition reasons of VaultSecret: the vocabulary is apis/v1alpha1/reasons.ts (docs/operations.md
// lists them); what a backend error means is controllers/failure's backendReason.
import { VaultSecretReason } from '../../apis/v1alpha1/index.ts';
import type { BackendErrorCode } from '../../resilience/errors.ts';
import { type KindReasons, backendReason } from '../failure/index.ts';

/** A missing path, version or property is RemoteSecretNotFound; a VaultSecret only reads. */
export const BACKEND_REASONS: KindReasons = { notFound: VaultSecretReason.RemoteSecretNotFound };

export const reasonForBackendError = (code: BackendErrorCode): VaultSecretReason =>
  backendReason(code, BACKEND_REASONS) as VaultSecretReason;
