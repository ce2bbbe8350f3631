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
  /** The apiserver refused the write of the Secret or of the status (its message, values cut out). */
  SecretWriteFailed: 'SecretWriteFailed',
  /** The spec breaks a rule of the CRD (stored before a CRD upgrade or past validation). */
  InvalidSpec: 'InvalidSpec',
  /** The backend data has a key that is not a valid Secret key. */
  InvalidKey: 'InvalidKey',
  /** The data is over the Secret size limit (1 MiB of values). */
  SecretTooLarge: 'SecretTooLarge',
  /** The read would leave the Secret empty or remove more than half of its keys (wipe-guard.ts). */
  UnsafeShrink: 'UnsafeShrink',
  /** A failure of ours or an apiserver refusal outside the Secret write (see the operator log). */
  InternalError: 'InternalError',
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
  // Neither writes with check-and-set; a kubernetes backend's 409 was an InvalidRequest before.
  Conflict: Reason.InvalidRequest,
  Unknown: Reason.BackendUnavailable,
};

export const reasonForBackendError = (code: BackendErrorCode): Reason => byBackendCode[code];
