// Condition reasons of VaultSecret (CamelCase constants; docs/troubleshooting lists them).
import type { BackendErrorCode } from '../../backends/errors.ts';

export const Reason = {
  Synced: 'Synced',
  BackendNotFound: 'BackendNotFound',
  RemoteSecretNotFound: 'RemoteSecretNotFound',
  PermissionDenied: 'PermissionDenied',
  TenancyDenied: 'TenancyDenied',
  BackendUnavailable: 'BackendUnavailable',
  BackendThrottled: 'BackendThrottled',
  AuthenticationFailed: 'AuthenticationFailed',
  InvalidRequest: 'InvalidRequest',
  TemplateFailed: 'TemplateFailed',
  SecretNotOwned: 'SecretNotOwned',
  TargetSecretMissing: 'TargetSecretMissing',
  /** creationPolicy Merge into a system Secret or one another vaultsync controller writes. */
  MergeRefused: 'MergeRefused',
  SecretWriteFailed: 'SecretWriteFailed',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

const byBackendCode: Record<BackendErrorCode, Reason> = {
  NotFound: Reason.RemoteSecretNotFound,
  PermissionDenied: Reason.PermissionDenied,
  Throttled: Reason.BackendThrottled,
  Unavailable: Reason.BackendUnavailable,
  CircuitOpen: Reason.BackendUnavailable,
  InvalidRequest: Reason.InvalidRequest,
  Unauthenticated: Reason.AuthenticationFailed,
  TenancyDenied: Reason.TenancyDenied,
  Unknown: Reason.BackendUnavailable,
};

export const reasonForBackendError = (code: BackendErrorCode): Reason => byBackendCode[code];
