// Condition reasons of VaultCertificate (CamelCase constants; docs/certificates.md lists them).
import type { BackendErrorCode } from '../../backends/errors.ts';
import { INVALID_SPEC } from '../invalid-spec.ts';

/** Why a new certificate is needed: the reason of `Issuing=True`, checked in this order. */
export const IssuingReason = {
  DoesNotExist: 'DoesNotExist',
  MissingData: 'MissingData',
  InvalidKeyPair: 'InvalidKeyPair',
  InvalidCertificate: 'InvalidCertificate',
  KeyMismatch: 'KeyMismatch',
  NotRecorded: 'NotRecorded',
  SecretEdited: 'SecretEdited',
  IncorrectIssuer: 'IncorrectIssuer',
  SpecChanged: 'SpecChanged',
  NamesMismatch: 'NamesMismatch',
  Expired: 'Expired',
  Renewing: 'Renewing',
} as const;
export type IssuingReason = (typeof IssuingReason)[keyof typeof IssuingReason];

/** Reasons of `Ready`. */
export const Reason = {
  /** Ready=True: the Secret holds a valid certificate for the current spec. */
  Issued: 'Issued',
  IssuerNotFound: 'IssuerNotFound',
  SecretNotOwned: 'SecretNotOwned',
  /** Our Secret has another type than kubernetes.io/tls (a type cannot change; it must be deleted). */
  SecretTypeMismatch: 'SecretTypeMismatch',
  InvalidRequest: 'InvalidRequest',
  PermissionDenied: 'PermissionDenied',
  AuthenticationFailed: 'AuthenticationFailed',
  TenancyDenied: 'TenancyDenied',
  BackendUnavailable: 'BackendUnavailable',
  BackendThrottled: 'BackendThrottled',
  IssuerNotReady: 'IssuerNotReady',
  /** The backend granted a shorter lifetime than spec.duration asked for. */
  DurationNotGranted: 'DurationNotGranted',
  /** The backend left out names the spec asked for. */
  NamesNotGranted: 'NamesNotGranted',
  /** The backend answered with a certificate that does not fit the key. */
  InvalidIssuedCertificate: 'InvalidIssuedCertificate',
  KeyGenerationFailed: 'KeyGenerationFailed',
  /**
   * The apiserver refused a write (the Secret, the status or the finalizer) with a 4xx: its
   * message, capped; retried at the user-error interval, the certificate issued kept for it.
   */
  SecretWriteFailed: 'SecretWriteFailed',
  /** The stored spec breaks a rule of the CRD (stored before a CRD upgrade or past CEL). */
  InvalidSpec: INVALID_SPEC,
  /** Something unexpected failed (a bug of ours): details in the operator log only. */
  InternalError: 'InternalError',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

const byBackendCode: Record<BackendErrorCode, Reason> = {
  NotFound: Reason.IssuerNotReady,
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

/** Event reasons (besides the failure reasons above, which Warning events use). */
export const EventReason = {
  Issued: 'Issued',
  Renewed: 'Renewed',
  Reissued: 'Reissued',
  SecretUpdated: 'SecretUpdated',
  Revoked: 'Revoked',
  RevocationFailed: 'RevocationFailed',
} as const;
